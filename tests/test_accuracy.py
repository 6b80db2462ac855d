"""Real MNIST accuracy floors: the network must actually learn, not just run."""

import pytest

from barenet import NeuralNetwork, load_and_preprocess_mnist

pytestmark = pytest.mark.mnist


@pytest.fixture(scope="module")
def mnist():
    return load_and_preprocess_mnist()


def test_default_network_reaches_96_percent_in_3_epochs_of_plain_sgd(mnist):
    X_train, X_val, X_test, y_train, y_val, y_test = mnist
    nn = NeuralNetwork(learning_rate=0.1, seed=0)  # 784-128-64-10, plain SGD
    history = nn.train(X_train, y_train, epochs=3, batch_size=16, verbose=False)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert nn.calculate_accuracy(X_test, y_test) >= 0.96
