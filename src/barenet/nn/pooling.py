"""Pooling layers: summarise each window of a channels-last image ``X (B, H, W, C)``.

A window of ``ph x pw`` positions moves by ``stride`` (by default the window size, so windows
tile the image; a last row or column that no window reaches is dropped, as in Keras and
PyTorch). Every layer here works on the ``ph*pw`` strided views "element ``(i, j)`` of every
window" (:func:`window_slice`): a loop over window offsets, never over pixels.
"""

import numpy as np

from barenet.errors import BarenetError
from barenet.nn.conv import as_config, image_shape, int_pair
from barenet.nn.layers import Layer


def window_slice(X, i, j, out_hw, stride):
    """``X[:, i + stride_h * p, j + stride_w * q, :]`` for every output position ``(p, q)``:
    the element at offset ``(i, j)`` of every window, a ``(B, OH, OW, C)`` view."""
    (oh, ow), (sh, sw) = out_hw, stride
    return X[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw]


class Pool2D(Layer):
    """Base of the windowed pools: shapes, window views and config. ``Y (B, OH, OW, C)`` with
    ``OH = (H - ph) // s_h + 1`` and ``OW = (W - pw) // s_w + 1``."""

    def __init__(self, pool_size=2, stride=None):
        self.pool_size = int_pair("pool_size", pool_size)
        self.stride = self.pool_size if stride is None else int_pair("stride", stride)

    def build(self, input_shape):
        H, W, C = image_shape(self, input_shape)
        super().build(input_shape)
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        if H < ph or W < pw:
            raise BarenetError(
                f"{type(self).__name__} window {ph}x{pw} is larger than its input {H}x{W}x{C}"
            )
        self.out_hw = ((H - ph) // sh + 1, (W - pw) // sw + 1)
        self.output_shape = (*self.out_hw, C)
        # Backward writes each window's share into the input gradient. Windows that overlap
        # must add their shares; windows that leave rows or columns out must leave zeros there.
        self._overlap = sh < ph or sw < pw
        covered = (self.out_hw[0] * sh, self.out_hw[1] * sw)
        self._zero_first = self._overlap or covered != (H, W) or (sh, sw) != (ph, pw)
        return self.output_shape

    def _slices(self, X):
        """The ``ph*pw`` views ``(B, OH, OW, C)``, one per offset in the window, row-major."""
        size, out_hw, stride = self.pool_size, self.out_hw, self.stride
        return [window_slice(X, i, j, out_hw, stride) for i, j in np.ndindex(*size)]

    def _input_grad(self, dY, shares):
        """``dX`` from the gradient each window offset ``k`` passes back, ``shares(k, out)``."""
        dX = self._buffer("_dX", (len(dY), *self.input_shape), dY.dtype)
        if self._zero_first:
            dX.fill(0)
        share = self._buffer("_share", dY.shape, dY.dtype) if self._overlap else None
        for k, s in enumerate(self._slices(dX)):
            if self._overlap:
                s += shares(k, share)
            else:
                shares(k, s)  # each input position is in one window: write in place
        return dX

    def config(self):
        stride = None if self.stride == self.pool_size else as_config(self.stride)
        return {"kind": self.kind, "pool_size": as_config(self.pool_size), "stride": stride}


class MaxPool2D(Pool2D):
    """``Y[b, p, q, c] = max over the window (p, q) of X[b, ., ., c]``.

    Backward: the whole of ``dY[b, p, q, c]`` goes to the position that held the maximum (the
    first one in row-major order on a tie, as in PyTorch); the others get 0. Forward keeps that
    position as a small integer per output (``argmax``, offset ``k = i*pw + j`` in the window)
    rather than a mask the size of the input.
    """

    kind = "max_pool2d"

    def forward(self, X, training=False):
        shape = (len(X), *self.out_hw, X.shape[3])
        Y = self._buffer("_Y", shape, X.dtype)
        self.argmax = self._buffer("_argmax", shape, np.min_scalar_type(len(self._slices(X))))
        greater = self._buffer("_greater", shape, bool)
        k_where_greater = self._buffer("_k_where_greater", shape, self.argmax.dtype)
        # --8<-- [start:maxpool_forward]
        first, *rest = self._slices(X)
        np.copyto(Y, first)
        self.argmax.fill(0)
        for k, s in enumerate(rest, start=1):
            # Strictly greater: on a tie the earlier offset keeps the gradient.
            np.greater(s, Y, out=greater)
            # argmax = k where greater: k exceeds every earlier offset, so a maximum does it
            # without the branch per value of a masked copy (which took 4x longer).
            np.multiply(greater, k, out=k_where_greater, dtype=k_where_greater.dtype)
            np.maximum(self.argmax, k_where_greater, out=self.argmax)
            np.maximum(Y, s, out=Y)
        # --8<-- [end:maxpool_forward]
        return Y

    def backward(self, dY):
        if not self.input_grad:
            return None
        hit = self._buffer("_hit", dY.shape, bool)

        # --8<-- [start:maxpool_backward]
        def shares(k, out):  # dY where offset k held the maximum, else 0
            np.equal(self.argmax, k, out=hit)
            return np.multiply(dY, hit, out=out)

        # --8<-- [end:maxpool_backward]
        return self._input_grad(dY, shares)


class AvgPool2D(Pool2D):
    """``Y[b, p, q, c] = mean over the window (p, q) of X[b, ., ., c]``.

    Backward: each of the ``ph*pw`` positions of a window gets ``dY[b, p, q, c] / (ph*pw)``
    (summed over the windows it belongs to when they overlap).
    """

    kind = "avg_pool2d"

    def forward(self, X, training=False):
        Y = self._buffer("_Y", (len(X), *self.out_hw, X.shape[3]), X.dtype)
        first, *rest = self._slices(X)
        np.copyto(Y, first)
        for s in rest:
            Y += s
        Y *= 1.0 / (self.pool_size[0] * self.pool_size[1])
        return Y

    def backward(self, dY):
        if not self.input_grad:
            return None
        area = self.pool_size[0] * self.pool_size[1]
        mean = np.multiply(dY, 1.0 / area, out=self._buffer("_mean", dY.shape, dY.dtype))

        def shares(k, out):  # the same share for every offset
            np.copyto(out, mean)
            return out

        return self._input_grad(dY, shares)


class GlobalAvgPool2D(Layer):
    """``(B, H, W, C) -> (B, C)``: ``Y[b, c] = mean over all positions of X[b, ., ., c]``.

    Backward: every position gets ``dY[b, c] / (H*W)``. It replaces ``Flatten`` before the last
    ``Dense`` of an all-convolutional network.
    """

    kind = "global_avg_pool2d"

    def build(self, input_shape):
        H, W, C = image_shape(self, input_shape)
        super().build(input_shape)
        self.output_shape = (C,)
        return self.output_shape

    def forward(self, X, training=False):
        Y = self._buffer("_Y", (len(X), X.shape[3]), X.dtype)
        np.sum(X, axis=(1, 2), out=Y)
        Y *= 1.0 / (X.shape[1] * X.shape[2])
        return Y

    def backward(self, dY):
        if not self.input_grad:
            return None
        H, W, C = self.input_shape
        dX = self._buffer("_dX", (len(dY), H, W, C), dY.dtype)
        # A real array, not a broadcast view: the layer before may write into it.
        return np.multiply(dY[:, None, None, :], 1.0 / (H * W), out=dX)
