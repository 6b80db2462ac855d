"""Conv2D, the fast layer, against nn/conv_reference.py, the plain im2col convolution that the
convolutions page derives: the same numbers for every kernel, stride and padding."""

import numpy as np
import pytest

from barenet.nn import Conv2D
from barenet.nn.conv_reference import col2im, conv2d_backward, conv2d_forward, im2col, pad
from tests.nn.layer_check import standalone

CASES = [
    # (input H, W, C), filters, kernel, stride, padding
    ((6, 7, 1), 4, 3, 1, "valid"),
    ((6, 7, 1), 4, 3, 1, "same"),
    ((8, 8, 3), 5, 3, 1, "same"),
    ((12, 12, 2), 3, 5, 1, "valid"),  # LeNet's shape of layer: dX by col2im
    ((9, 8, 2), 4, (2, 3), (2, 1), 1),
    ((10, 9, 3), 2, 3, 2, (2, 1)),
    ((7, 7, 4), 6, 1, 1, "valid"),
    ((11, 10, 2), 3, 4, 1, "same"),  # an even kernel: the odd zero row at the bottom
]


@pytest.mark.parametrize("shape, filters, kernel, stride, padding", CASES)
def test_the_fast_layer_computes_the_reference_convolution(shape, filters, kernel, stride, padding):
    layer = standalone(Conv2D(filters, kernel, stride=stride, padding=padding), shape)
    layer.input_grad = True
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, *shape))
    Y = layer.forward(X.copy(), True).copy()
    want_Y, cache = conv2d_forward(X, layer.W, layer.b, layer.stride, layer.pads)
    np.testing.assert_allclose(Y, want_Y, rtol=1e-12, atol=1e-12)
    dY = rng.standard_normal(Y.shape)
    dX = layer.backward(dY.copy())
    want_dX, want_dW, want_db = conv2d_backward(dY, cache)
    np.testing.assert_allclose(dX, want_dX, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.dW, want_dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.db, want_db, rtol=1e-12, atol=1e-12)


def test_the_reference_is_the_convolution_by_definition():
    """Each output is a filter's dot product with the patch under it: a loop over everything."""
    rng = np.random.default_rng(2)
    X, W, b = rng.standard_normal((2, 5, 6, 3)), rng.standard_normal((3, 2, 3, 4)), rng.random(4)
    Y, _ = conv2d_forward(X, W, b, stride=(2, 1), pads=(1, 1, 0, 1))
    Xp = pad(X, (1, 1, 0, 1))
    for n, p, q, f in np.ndindex(Y.shape):
        patch = Xp[n, 2 * p : 2 * p + 3, q : q + 2]
        assert Y[n, p, q, f] == pytest.approx(np.sum(patch * W[..., f]) + b[f])


def test_col2im_is_the_transpose_of_im2col():
    """<im2col(X), D> == <X, col2im(D)> for any X and D: col2im adds back what im2col copied."""
    rng = np.random.default_rng(3)
    Xp = rng.standard_normal((2, 7, 6, 3))
    cols = im2col(Xp, 3, 2, (2, 2))
    D = rng.standard_normal(cols.shape)
    out_hw = ((7 - 3) // 2 + 1, (6 - 2) // 2 + 1)
    assert np.sum(cols * D) == pytest.approx(np.sum(Xp * col2im(D, Xp.shape, 3, 2, (2, 2), out_hw)))
