"""A ten-second tour of barenet: train a small network, check it, plot it, save and reload it.

    python simple_example.py

Writes ``outputs/simple_predictions.png`` and ``outputs/simple_model.npz`` under the current folder.
"""

from pathlib import Path

import numpy as np

from barenet import NeuralNetwork, load_and_preprocess_mnist
from barenet.viz.plots import plot_predictions

OUTPUT_DIR = Path("outputs")


def main():
    OUTPUT_DIR.mkdir(exist_ok=True)
    X_train, X_val, X_test, y_train, y_val, y_test = load_and_preprocess_mnist()
    nn = NeuralNetwork(input_size=784, hidden_sizes=[64], output_size=10, learning_rate=0.1, seed=0)
    nn.train(X_train, y_train, X_val, y_val, epochs=3, batch_size=64)
    print(f"test accuracy after 3 epochs: {nn.calculate_accuracy(X_test, y_test):.2%}")

    probabilities = nn.predict_proba(X_test)
    predictions = probabilities.argmax(axis=1)
    picture = OUTPUT_DIR / "simple_predictions.png"
    plot_predictions(X_test, y_test, predictions, picture, probabilities=probabilities)
    print(f"sample predictions saved to {picture}")

    model_path = OUTPUT_DIR / "simple_model.npz"
    nn.save_model(model_path)
    loaded = NeuralNetwork()  # any architecture: load_model replaces it with the saved one
    loaded.load_model(model_path)
    same = np.array_equal(loaded.predict(X_test), predictions)
    print(f"model saved to {model_path}; reloaded, it predicts the same labels: {same}")


if __name__ == "__main__":
    main()
