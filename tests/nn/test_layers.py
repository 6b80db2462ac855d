"""Each layer of barenet.nn.layers on its own: gradients, shapes, settings, errors (the
activations are in test_activations.py, convolution and pooling in test_conv.py and
test_pooling.py)."""

import numpy as np
import pytest

from barenet import BarenetError
from barenet.nn import BatchNorm, Dense, Dropout, Flatten, ReLU, layer_from_config
from tests.nn.layer_check import check_layer, standalone

# One entry per layer: (factory, per-sample input shape, training mode).
LAYERS = {
    "dense": (lambda: Dense(4), (5,), True),
    "dense_he": (lambda: Dense(3, init="he"), (6,), True),
    "dropout": (lambda: Dropout(0.3), (6,), True),
    "dropout_images": (lambda: Dropout(0.5), (3, 3, 2), True),
    "batch_norm": (lambda: BatchNorm(), (5,), True),
    "batch_norm_channels": (lambda: BatchNorm(), (3, 2, 4), True),
    "batch_norm_predicting": (lambda: BatchNorm(), (3, 2, 4), False),
    "flatten": (lambda: Flatten(), (2, 3, 2), True),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_gradients_match_finite_differences(name):
    make, shape, training = LAYERS[name]
    errors = check_layer(make(), shape, batch=4, training=training)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize(
    "layer",
    [
        Dense(7, init="he_uniform"),
        Dropout(0.25),
        BatchNorm(momentum=0.8, eps=1e-3),
        Flatten(),
    ],
    ids=lambda la: la.kind,
)
def test_a_layer_is_rebuilt_from_its_config(layer):
    copy = layer_from_config(layer.config())
    assert type(copy) is type(layer) and copy.config() == layer.config()


def test_shapes_flow_from_layer_to_layer():
    assert Dense(16).build((8,)) == (16,)
    assert Flatten().build((4, 3, 2)) == (24,)
    assert BatchNorm().build((5, 5, 3)) == (5, 5, 3) and ReLU().build((9,)) == (9,)


def test_batch_norm_after_a_convolution_normalises_each_channel():
    layer = standalone(BatchNorm(), (4, 4, 3))
    layer.gamma[...], layer.beta[...] = 1, 0
    X = np.random.default_rng(0).normal([1.0, -5.0, 30.0], [1.0, 2.0, 9.0], size=(8, 4, 4, 3))
    Y = layer.forward(X, training=True)
    assert Y.shape == X.shape
    np.testing.assert_allclose(Y.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(Y.std(axis=(0, 1, 2)), 1, atol=1e-4)
    assert layer.running_mean.shape == (3,)


def test_batch_norm_per_channel_is_batch_norm_over_every_position():
    """The per-channel arrangement (rows of W*C values, tiled vectors) computes the same as
    per-feature batch norm on the (batch * H * W, C) matrix, forward and backward, twice."""
    rng = np.random.default_rng(1)
    X, dY = rng.normal(2.0, 3.0, (2, 6, 4, 5, 3))
    images, flat = standalone(BatchNorm(), (4, 5, 3)), standalone(BatchNorm(), (3,))
    Y = images.forward(X, training=True)
    np.testing.assert_allclose(Y.reshape(-1, 3), flat.forward(X.reshape(-1, 3), True))
    expected = flat.backward(dY.reshape(-1, 3).copy())
    for _ in range(2):  # a second backward sees the same saved state
        np.testing.assert_allclose(images.backward(dY.copy()).reshape(-1, 3), expected)
        np.testing.assert_allclose(images.dgamma, flat.dgamma)
        np.testing.assert_allclose(images.dbeta, flat.dbeta)
    np.testing.assert_allclose(images.running_var, flat.running_var)


def test_flatten_is_row_major_channels_last():
    X = np.arange(2 * 2 * 3 * 2).reshape(2, 2, 3, 2)
    np.testing.assert_array_equal(standalone(Flatten(), (2, 3, 2)).forward(X)[1], X[1].ravel())


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Dense(0), "units must be >= 1, got 0"),
        (lambda: Dense(3, init="bogus"), "unknown init 'bogus'"),
        (lambda: Dropout(1.0), r"dropout rate must be in \[0, 1\), got 1.0"),
        (lambda: BatchNorm(momentum=-1), "batch norm momentum must be >= 0, got -1"),
        (lambda: layer_from_config({"kind": "bogus"}), "unknown layer kind 'bogus'"),
        (lambda: layer_from_config({"kind": "dense", "width": 3}), "bad settings for layer"),
    ],
)
def test_bad_layer_settings_are_refused_clearly(make, message):
    with pytest.raises((BarenetError, ValueError), match=message):
        make()


def test_dense_on_images_asks_for_flatten():
    with pytest.raises(BarenetError, match=r"samples of shape \(28, 28, 1\): put Flatten\(\)"):
        Dense(10).build((28, 28, 1))
