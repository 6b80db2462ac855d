"""Backpropagation against centred finite differences, in float64, for every layer kind."""

import numpy as np
import pytest

from barenet import NeuralNetwork
from tests.nn.network_check import loss_and_gradient, numerical_gradient, relative_error

ARCHITECTURES = [
    dict(input_size=5, hidden_sizes=[4], output_size=3),
    dict(input_size=6, hidden_sizes=[5, 4], output_size=3, activation="tanh"),
    dict(input_size=4, hidden_sizes=[6, 5, 3], output_size=4, activation="sigmoid"),
    dict(input_size=5, hidden_sizes=[7], output_size=2, activation="gelu", init="he"),
    dict(input_size=5, hidden_sizes=[6, 4], output_size=3, activation="leaky_relu"),
    dict(input_size=5, hidden_sizes=[6, 4], output_size=3, dropout=0.3),
    dict(input_size=5, hidden_sizes=[6, 4], output_size=3, batch_norm=True),
    dict(input_size=5, hidden_sizes=[6], output_size=3, l2=0.1, l1=0.01),
    dict(input_size=3, hidden_sizes=[], output_size=4),  # softmax regression: the loss alone
]


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: str(a))
@pytest.mark.parametrize("one_hot", [False, True])
def test_backprop_matches_finite_differences(arch, one_hot):
    rng = np.random.default_rng(0)
    net = NeuralNetwork(**arch, dtype="float64", seed=1)
    net.params[...] += rng.normal(0, 0.1, net.params.size)  # break symmetry in biases, BN
    X = rng.normal(size=(8, arch["input_size"]))
    y = rng.integers(0, arch["output_size"], 8)
    labels = np.eye(arch["output_size"])[y] if one_hot else y
    _, grad = loss_and_gradient(net, X, labels)
    numeric = numerical_gradient(net, X, labels)
    assert relative_error(grad, numeric) < 1e-6
    np.testing.assert_allclose(grad, numeric, atol=1e-7, rtol=1e-5)


def test_gradient_check_catches_a_wrong_gradient():
    """The check itself must be able to fail: a perturbed gradient is detected."""
    rng = np.random.default_rng(0)
    net = NeuralNetwork(4, [5], 3, dtype="float64", seed=0)
    X, y = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
    _, grad = net.loss_and_gradient(X, y)
    grad[3] += 1e-3
    assert relative_error(grad, numerical_gradient(net, X, y)) > 1e-6
