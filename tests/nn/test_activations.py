"""Each activation of barenet.nn.activations on its own: its derivative against finite
differences, its config and its settings."""

import numpy as np
import pytest

from barenet import BarenetError
from barenet.nn import GELU, Identity, LeakyReLU, ReLU, Sigmoid, Tanh, layer_from_config
from tests.nn.layer_check import check_layer

ACTIVATIONS = [Identity, ReLU, LeakyReLU, Sigmoid, Tanh, GELU]


@pytest.mark.parametrize("cls", ACTIVATIONS, ids=lambda c: c.kind)
@pytest.mark.parametrize("shape", [(7,), (3, 2, 2)])
def test_activation_derivative_matches_finite_differences(cls, shape):
    errors = check_layer(cls(), shape, batch=5)
    assert errors["X"] < 1e-6, errors


def test_the_check_catches_a_wrong_derivative():
    class WrongTanh(Tanh):
        def df(self, dA, Z, A):
            return np.multiply(dA, 1 - A, out=dA)  # should be 1 - A^2

    assert check_layer(WrongTanh(), (6,))["X"] > 1e-2


@pytest.mark.parametrize("layer", [LeakyReLU(0.2), GELU()], ids=lambda la: la.kind)
def test_an_activation_is_rebuilt_from_its_config(layer):
    copy = layer_from_config(layer.config())
    assert type(copy) is type(layer) and copy.config() == layer.config()


def test_bad_activation_settings_are_refused_clearly():
    with pytest.raises(
        (BarenetError, ValueError), match=r"leaky_relu alpha must be in \(0, 1\), got 2"
    ):
        LeakyReLU(2)
