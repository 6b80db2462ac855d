"""Conv2D: against a naive loop convolution, against finite differences, and its config and
error messages (the pooling layers are in test_pooling.py)."""

import itertools

import numpy as np
import pytest

from barenet.errors import BarenetError
from barenet.nn.conv import Conv2D
from tests.nn.image_layer_check import assert_config_round_trip, check_gradients, standalone


def pad_widths(padding, kh, kw):
    """(top, bottom, left, right), written out independently of the layer."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":  # TensorFlow: the odd row/column of zeros goes to the bottom/right
        return (kh - 1) // 2, kh - 1 - (kh - 1) // 2, (kw - 1) // 2, kw - 1 - (kw - 1) // 2
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return ph, ph, pw, pw


def naive_conv(X, W, b, stride, pads):
    """Y[n, p, q, f] = b[f] + sum_{i,j,c} Xp[n, p*sh + i, q*sw + j, c] W[i, j, c, f], by loops."""
    (sh, sw), (top, bottom, left, right) = stride, pads
    Xp = np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw, _, F = W.shape
    OH, OW = (Xp.shape[1] - kh) // sh + 1, (Xp.shape[2] - kw) // sw + 1
    Y = np.empty((len(X), OH, OW, F))
    for n, p, q, f in itertools.product(range(len(X)), range(OH), range(OW), range(F)):
        patch = Xp[n, p * sh : p * sh + kh, q * sw : q * sw + kw, :]
        Y[n, p, q, f] = b[f] + np.sum(patch * W[..., f])
    return Y


def naive_conv_grads(X, W, dY, stride, pads):
    """dX, dW, db of naive_conv, by loops over output positions and kernel offsets."""
    (sh, sw), (top, bottom, left, right) = stride, pads
    Xp = np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)))
    dXp, dW = np.zeros_like(Xp), np.zeros_like(W)
    kh, kw = W.shape[:2]
    for p, q, i, j in itertools.product(
        range(dY.shape[1]), range(dY.shape[2]), range(kh), range(kw)
    ):
        x = Xp[:, p * sh + i, q * sw + j, :]  # (n, c)
        dW[i, j] += x.T @ dY[:, p, q, :]
        dXp[:, p * sh + i, q * sw + j, :] += dY[:, p, q, :] @ W[i, j].T
    dX = dXp[:, top : top + X.shape[1], left : left + X.shape[2]]
    return dX, dW, dY.sum(axis=(0, 1, 2))


def conv_cases():
    """Strides, paddings and kernel shapes crossed; channels and batch sizes in turn."""
    channels = [(1, 1, 1), (3, 5, 4), (5, 3, 4), (1, 5, 1), (3, 1, 4), (5, 5, 1)]
    shapes = [(7, 9), (8, 5), (6, 6)]
    cases = []
    grid = itertools.product([3, (3, 2), 1], [1, 2, (1, 2)], ["valid", "same", 1, (2, 1)])
    for kernel, stride, padding in grid:
        if padding == "same" and stride != 1:
            continue
        c_in, filters, batch = channels[len(cases) % len(channels)]
        hw = shapes[len(cases) % len(shapes)]
        cases.append((kernel, stride, padding, c_in, filters, batch, hw))
    return cases


@pytest.mark.parametrize("kernel, stride, padding, c_in, filters, batch, hw", conv_cases())
def test_conv_matches_naive_loops(kernel, stride, padding, c_in, filters, batch, hw):
    rng = np.random.default_rng(1)
    layer = standalone(Conv2D(filters, kernel, stride, padding), (*hw, c_in))
    layer.b[...] = rng.normal(size=filters)
    X = rng.normal(size=(batch, *hw, c_in))
    kh, kw = layer.kernel_size
    stride2, pads = layer.stride, pad_widths(padding, kh, kw)
    Y = layer.forward(X, training=True)
    expected = naive_conv(X, layer.W, layer.b, stride2, pads)
    assert Y.shape == (batch, *layer.output_shape) == expected.shape
    np.testing.assert_allclose(Y, expected, rtol=1e-10, atol=1e-12)

    dY = rng.normal(size=Y.shape)
    dX = layer.backward(dY.copy())
    dX_ref, dW_ref, db_ref = naive_conv_grads(X, layer.W, dY, stride2, pads)
    np.testing.assert_allclose(layer.dW, dW_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.db, db_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dX, dX_ref, rtol=1e-10, atol=1e-12)


def test_same_padding_keeps_the_size_and_pads_even_kernels_at_the_bottom_right():
    layer = standalone(Conv2D(2, (4, 2), padding="same"), (7, 6, 1))
    assert layer.output_shape == (7, 6, 2)
    assert layer.pads == (1, 2, 0, 1)
    X = np.random.default_rng(2).normal(size=(2, 7, 6, 1))
    expected = naive_conv(X, layer.W, layer.b, (1, 1), (1, 2, 0, 1))
    np.testing.assert_allclose(layer.forward(X), expected, rtol=1e-10, atol=1e-12)


def test_float32_by_default_and_buffers_follow_the_batch_size():
    rng = np.random.default_rng(3)
    layer = standalone(Conv2D(6, 5), (12, 12, 3), dtype=np.float32)
    for batch in (4, 1, 4):
        X = rng.normal(size=(batch, 12, 12, 3)).astype(np.float32)
        Y = layer.forward(X, training=True)
        assert Y.dtype == np.float32 and Y.shape == (batch, 8, 8, 6)
        expected = naive_conv(X.astype(np.float64), layer.W, layer.b, (1, 1), (0, 0, 0, 0))
        np.testing.assert_allclose(Y, expected, rtol=1e-4, atol=1e-4)
        dY = rng.normal(size=Y.shape).astype(np.float32)
        dX = layer.backward(dY.copy())
        dX_ref, dW_ref, _ = naive_conv_grads(X.astype(np.float64), layer.W, dY, (1, 1), (0,) * 4)
        assert dX.dtype == np.float32
        np.testing.assert_allclose(dX, dX_ref, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(layer.dW, dW_ref, rtol=1e-4, atol=1e-3)


def test_first_layer_skips_the_input_gradient():
    layer = standalone(Conv2D(3, 3), (6, 6, 1))
    layer.input_grad = False
    X = np.random.default_rng(4).normal(size=(2, 6, 6, 1))
    dY = np.ones((2, 4, 4, 3))
    layer.forward(X)
    assert layer.backward(dY.copy()) is None
    _, dW_ref, db_ref = naive_conv_grads(X, layer.W, dY, (1, 1), (0,) * 4)
    np.testing.assert_allclose(layer.dW, dW_ref, rtol=1e-10)
    np.testing.assert_allclose(layer.db, db_ref, rtol=1e-10)


@pytest.mark.parametrize(
    "init, std",
    [("he", lambda i, o: np.sqrt(2 / i)), ("xavier_normal", lambda i, o: np.sqrt(2 / (i + o)))],
)
def test_initial_weights_count_the_fans_as_keras(init, std):
    layer = standalone(Conv2D(64, 3, init=init), (8, 8, 32))
    fan_in, fan_out = 3 * 3 * 32, 3 * 3 * 64
    assert layer.W.std() == pytest.approx(std(fan_in, fan_out), rel=0.03)
    assert not layer.b.any()


# -- finite differences ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel, stride, padding, shape",
    [
        (3, 1, "valid", (6, 5, 2)),
        ((3, 2), 2, 1, (7, 6, 3)),
        (4, 1, "same", (5, 6, 1)),
        (2, (1, 2), (2, 1), (4, 5, 2)),
    ],
)
def test_conv_gradients_match_finite_differences(kernel, stride, padding, shape):
    rng = np.random.default_rng(6)
    layer = standalone(Conv2D(3, kernel, stride, padding), shape)
    layer.b[...] = rng.normal(size=3)
    check_gradients(layer, rng.normal(size=(2, *shape)), params=("W", "b"))


# -- configs and errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer",
    [
        Conv2D(20, 5),
        Conv2D(8, (3, 2), stride=(1, 2), padding=(2, 1), init="xavier"),
        Conv2D(4, 3, padding="same"),
        Conv2D(4, 3, stride=2, padding=1),
    ],
    ids=repr,
)
def test_config_round_trip(layer):
    assert_config_round_trip(layer)


def test_config_kinds_and_values():
    assert Conv2D(20, 5).config() == {
        "kind": "conv2d",
        "filters": 20,
        "kernel_size": 5,
        "stride": 1,
        "padding": "valid",
        "init": "he",
    }
    assert Conv2D(2, (3, 2), padding=(1, 1)).config()["kernel_size"] == [3, 2]
    assert Conv2D(2, (3, 2), padding=(1, 1)).config()["padding"] == 1


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Conv2D(4, (3,)), r"kernel_size must be an int or a pair of ints, got \(3,\)"),
        (lambda: Conv2D(4, "3"), "kernel_size must be an int or a pair of ints, got '3'"),
        (lambda: Conv2D(4, 0), "kernel_size must be >= 1, got 0"),
        (lambda: Conv2D(4, 2.5), "kernel_size must be an int or a pair of ints, got 2.5"),
        (lambda: Conv2D(0, 3), "filters must be >= 1"),
        (lambda: Conv2D(4, 3, stride=(1, 0)), "stride must be >= 1, got 0"),
        (lambda: Conv2D(4, 3, stride=2, padding="same"), "padding='same' needs stride 1"),
        (lambda: Conv2D(4, 3, padding="full"), "padding must be 'valid', 'same', an int or a pair"),
        (lambda: Conv2D(4, 3, padding=-1), "padding must be >= 0, got -1"),
    ],
)
def test_bad_settings_raise_clear_errors(make, message):
    with pytest.raises(BarenetError, match=message):
        make()


@pytest.mark.parametrize(
    "layer, shape, message",
    [
        (Conv2D(4, 5), (3, 3, 1), "kernel 5x5 is larger than its padded input 3x3"),
        (
            Conv2D(4, (3, 7), padding=1),
            (4, 4, 2),
            r"kernel 3x7 is larger than its padded input 6x6 \(input 4x4x2",
        ),
        (
            Conv2D(4, 3),
            (784,),
            r"needs image samples \(height, width, channels\), got shape \(784,\)",
        ),
    ],
    ids=repr,
)
def test_shapes_that_do_not_fit_raise_at_build(layer, shape, message):
    with pytest.raises(BarenetError, match=message):
        layer.build(shape)
