"""LayerNorm on its own: gradients against finite differences, what it computes, settings."""

import numpy as np
import pytest

from barenet import BarenetError, NeuralNetwork
from barenet.nn import Dense, LayerNorm, layer_from_config, parse_layers
from tests.nn.layer_check import check_layer, standalone


@pytest.mark.parametrize("shape", [(5,), (1, 4), (3, 4), (6, 2), (2, 3, 4)])
@pytest.mark.parametrize("training", [True, False])
def test_layer_norm_gradients_match_finite_differences(shape, training):
    errors = check_layer(LayerNorm(), shape, batch=3, training=training)
    assert set(errors) == {"X", "gamma", "beta"}
    assert max(errors.values()) < 1e-6, errors


def test_layer_norm_normalises_each_row_on_its_own():
    layer = standalone(LayerNorm(), (4, 6))
    layer.gamma[...], layer.beta[...] = 1, 0
    X = np.random.default_rng(0).normal(5.0, 3.0, (3, 4, 6))
    X[0] *= 100  # a sample at another scale does not change the others' outputs
    Y = layer.forward(X.copy(), training=True)
    np.testing.assert_allclose(Y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(Y.var(axis=-1), 1, rtol=1e-4)  # eps takes a little
    alone = standalone(LayerNorm(), (4, 6))
    alone.gamma[...], alone.beta[...] = 1, 0
    np.testing.assert_allclose(alone.forward(X[1:].copy()), Y[1:], rtol=1e-12)


def test_layer_norm_is_the_formula_in_its_docstring_and_the_same_when_predicting():
    rng = np.random.default_rng(1)
    layer = standalone(LayerNorm(eps=1e-3), (7,))
    X = rng.normal(size=(5, 7))
    mean, var = X.mean(axis=1, keepdims=True), X.var(axis=1, keepdims=True)
    expected = layer.gamma * (X - mean) / np.sqrt(var + 1e-3) + layer.beta
    np.testing.assert_allclose(layer.forward(X, training=True), expected, rtol=1e-12)
    np.testing.assert_allclose(layer.forward(X, training=False), expected, rtol=1e-12)


def test_layer_norm_keeps_its_buffers_and_leaves_its_input_alone():
    layer = standalone(LayerNorm(), (3, 4), dtype=np.float32)
    X = np.random.default_rng(2).normal(size=(2, 3, 4)).astype(np.float32)
    before = X.copy()
    Y1 = layer.forward(X)
    assert Y1.dtype == np.float32 and Y1.shape == X.shape
    dX1 = layer.backward(np.ones_like(Y1))
    assert np.shares_memory(layer.forward(X), Y1)  # the same work buffers, reused
    assert np.shares_memory(layer.backward(np.ones_like(Y1)), dX1)
    np.testing.assert_array_equal(X, before)


def test_layer_norm_in_a_network_defaults_to_float32_and_trains():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(64, 6)).astype(np.float32), rng.integers(0, 3, 64)
    net = NeuralNetwork.from_layers([Dense(8), LayerNorm(), Dense(3)], 6, seed=0)
    assert net.dtype == np.float32 and net.forward(X).dtype == np.float32
    assert set(net.parameter_slices()) >= {"layers.1.gamma", "layers.1.beta"}
    assert net.decay_mask[net.parameter_slices()["layers.1.gamma"]].sum() == 0  # no decay
    before = net.evaluate(X, y)["loss"]
    net.train(X, y, epochs=20, batch_size=16, verbose=False)
    assert net.evaluate(X, y)["loss"] < before


def test_layer_norm_config_and_word():
    layer = LayerNorm(eps=1e-6)
    copy = layer_from_config(layer.config())
    assert type(copy) is LayerNorm and copy.config() == {"kind": "layer_norm", "eps": 1e-6}
    assert type(parse_layers("layernorm")[0]) is LayerNorm


def test_bad_layer_norm_eps_is_refused():
    with pytest.raises(BarenetError, match="layer norm eps must be > 0, got 0"):
        LayerNorm(eps=0)
