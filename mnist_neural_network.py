"""Train the original project's network on MNIST: 784-128-64-10, SGD, rate 0.01, batches of 64.

This file keeps the original project's import path working from the repository root::

    from mnist_neural_network import NeuralNetwork, load_and_preprocess_mnist

Both names come from the barenet package. Run as a script, it does the full training (100 epochs,
about 97.5% test accuracy) and saves the model, the training curves and sample predictions::

    python mnist_neural_network.py                  # the full training
    python mnist_neural_network.py --epochs 5       # a shorter run
"""

import argparse
import sys
from pathlib import Path

from barenet import BarenetError, NeuralNetwork, load_and_preprocess_mnist

__all__ = ["NeuralNetwork", "load_and_preprocess_mnist"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Train the original project's 784-128-64-10 network."
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=100,
        help="passes over the training set (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="network seed (default: %(default)s)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("outputs"),
        help="where the model and figures go (default: %(default)s)",
    )
    parser.add_argument("--data-dir", help="folder of the MNIST files (default: $BARENET_DATA)")
    return parser.parse_args(argv)


def main(argv=None):
    from barenet.viz.plots import plot_history, plot_predictions  # matplotlib only when run

    args = parse_args(argv)
    X_train, X_val, X_test, y_train, y_val, y_test = load_and_preprocess_mnist(args.data_dir)
    nn = NeuralNetwork(
        input_size=784, hidden_sizes=[128, 64], output_size=10, learning_rate=0.01, seed=args.seed
    )
    history = nn.train(X_train, y_train, X_val, y_val, epochs=args.epochs, batch_size=64)
    print(f"test accuracy: {nn.calculate_accuracy(X_test, y_test):.2%}")

    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "mnist_model.npz"
    nn.save_model(model_path)
    curves = plot_history(history, out / "training_history.png")
    probabilities = nn.predict_proba(X_test)
    predictions = probabilities.argmax(axis=1)
    samples = out / "prediction_samples.png"
    plot_predictions(X_test, y_test, predictions, samples, probabilities=probabilities)
    print(f"model saved to {model_path}")
    print(f"training curves saved to {curves}")
    print(f"prediction samples saved to {samples}")


if __name__ == "__main__":
    try:
        main()
    except BarenetError as exc:
        sys.exit(f"error: {exc}")
