"""Gradients with respect to the inputs, in prediction mode: of the loss and of one score."""

import numpy as np
import pytest

from barenet import BarenetError, NeuralNetwork
from barenet.nn import parse_layers
from tests.nn.network_check import relative_error


def numeric_score_gradient(net, X, k, h=1e-5):
    grad = np.zeros_like(X)
    for index in np.ndindex(X.shape):
        plus, minus = X.copy(), X.copy()
        plus[index] += h
        minus[index] -= h
        grad[index] = (net.forward(plus)[0, k] - net.forward(minus)[0, k]) / (2 * h)
    return grad


@pytest.mark.parametrize(
    "net",
    [
        NeuralNetwork(6, [5, 4], 3, activation="tanh", batch_norm=True, dtype="float64", seed=0),
        NeuralNetwork.from_layers(
            parse_layers("conv2x3 tanh pool2 flatten dense3"), (6, 6, 1), dtype="float64", seed=0
        ),
    ],
    ids=["mlp", "cnn"],
)
def test_score_gradient_matches_finite_differences(net):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1, net.input_size))
    for k in range(net.output_size):
        analytic = net.score_gradient(X, k)
        assert analytic.shape == X.shape
        assert relative_error(analytic, numeric_score_gradient(net, X, k)) < 1e-6
    # The layers that skip dL/dX in training still skip it afterwards.
    assert [layer.input_grad for layer in net.layers][0] is False


def test_score_gradient_refuses_a_class_that_is_not_there():
    net = NeuralNetwork(4, [3], 2, seed=0)
    with pytest.raises(BarenetError, match="k must be below the 2 outputs, got 2"):
        net.score_gradient(np.zeros((1, 4)), 2)
