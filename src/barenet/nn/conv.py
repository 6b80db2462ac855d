"""Convolution as matrix products: a 2-D convolution layer on channels-last images.

An image batch is ``X (B, H, W, C)``. ``Conv2D`` slides ``F`` filters of ``kh x kw x C`` weights
over it; each output value is the dot product of one filter with the patch under it. Copying
every patch into a row of a matrix (*im2col*) turns the whole layer into one matrix product, the
operation BLAS does fastest. The helpers here (:func:`int_pair`, :func:`window_slice`) are shared
with the pooling layers.
"""

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from barenet import validation as check
from barenet.errors import BarenetError
from barenet.nn.init import get_initializer
from barenet.nn.layers import Layer


def int_pair(name, value):
    """``(a, b)`` from an int ``n`` (``(n, n)``) or a pair of positive ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise BarenetError(f"{name} must be an int or a pair of ints, got {value!r}")
    return tuple(check.positive_int(name, v) for v in value)


def as_config(pair):
    """A pair as the config (and the command line) writes it: ``3`` for ``(3, 3)``, else a
    list, so that it survives JSON."""
    return pair[0] if pair[0] == pair[1] else list(pair)


def image_shape(layer, input_shape):
    """``(H, W, C)`` of the samples ``layer`` receives, or a clear error."""
    if len(input_shape) != 3:
        raise BarenetError(
            f"{type(layer).__name__} needs image samples (height, width, channels), got shape "
            f"{tuple(input_shape)}: give the network input_shape=(28, 28, 1)"
        )
    return tuple(int(n) for n in input_shape)


def window_slice(X, i, j, out_hw, stride):
    """``X[:, i + stride_h * p, j + stride_w * q, :]`` for every output position ``(p, q)``:
    the element at offset ``(i, j)`` of every window, a ``(B, OH, OW, C)`` view."""
    (oh, ow), (sh, sw) = out_hw, stride
    return X[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw]


class Conv2D(Layer):
    """2-D convolution (a cross-correlation, as in every framework) with ``F = filters``:

    ``Y[b, p, q, f] = b[f] + sum over i, j, c of Xp[b, s_h p + i, s_w q + j, c] W[i, j, c, f]``

    with ``W (kh, kw, C, F)``, ``b (F,)``, strides ``(s_h, s_w)`` and ``Xp`` the input with its
    zero padding. As matrices: ``cols (B*OH*OW, kh*kw*C)`` holds one patch per row, in the order
    of ``W2 = W.reshape(kh*kw*C, F)``, and ``Y2 = cols W2 + b`` is ``Y (B, OH, OW, F)``.

    Backward, with ``dY2 = dL/dY`` as ``(B*OH*OW, F)``, mirrors :class:`Dense`:
    ``dW2 = cols^T dY2``, ``db = sum of the rows of dY2``, and each patch receives
    ``dcols = dY2 W2^T``, which is added back where the patch came from. Row ``(i, j)`` of the
    kernel contributes ``dY2 W[i, j]^T (B*OH*OW, C)`` to the input positions that met it.

    ``kernel_size`` and ``stride`` are an int or a pair. ``padding`` is ``"valid"`` (none), ``"same"``
    (stride 1; the output keeps the input's height and width; an even kernel gets the extra row
    and column of zeros at the bottom and right, as in Keras and TensorFlow) or an int or pair of
    zero widths added on both sides. The default ``init="he"`` suits the ReLU that follows most
    convolutions; fans are counted as Keras does: ``kh*kw*C`` in, ``kh*kw*F`` out.
    """

    kind = "conv2d"

    def __init__(self, filters, kernel_size, stride=1, padding="valid", init="he"):
        self.filters = check.positive_int("filters", filters)
        self.kernel_size = int_pair("kernel_size", kernel_size)
        self.stride = int_pair("stride", stride)
        if padding in ("valid", "same"):
            self.padding = padding
        else:
            self.padding = _padding_pair(padding)
        if padding == "same" and self.stride != (1, 1):
            raise BarenetError(f"padding='same' needs stride 1, got stride {stride!r}")
        self.init = init
        self._init_fn = get_initializer(init)

    def build(self, input_shape):
        H, W, C = image_shape(self, input_shape)
        super().build(input_shape)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        self.pads = _pad_widths(self.padding, kh, kw)  # (top, bottom, left, right)
        top, bottom, left, right = self.pads
        Hp, Wp = H + top + bottom, W + left + right
        if Hp < kh or Wp < kw:
            raise BarenetError(
                f"Conv2D kernel {kh}x{kw} is larger than its padded input {Hp}x{Wp} "
                f"(input {H}x{W}x{C}, padding {self.padding!r})"
            )
        self.c_in, self.padded_hw = C, (Hp, Wp)
        self.out_hw = ((Hp - kh) // sh + 1, (Wp - kw) // sw + 1)
        self.output_shape = (*self.out_hw, self.filters)
        # im2col copies contiguous runs: kw*C values of a window row when cols is stored
        # (B*OH*OW, kh*kw*C), or OW values of an image row when it is stored transposed, which
        # needs C == 1 and stride 1. The longer run is the faster copy (5x for 28x28x1 images).
        self._transposed_cols = C == 1 and sw == 1 and self.out_hw[1] > kw
        return self.output_shape

    def param_shapes(self):
        return {
            "W": ((*self.kernel_size, self.c_in, self.filters), True),
            "b": ((self.filters,), False),
        }

    def bind(self, params, grads):
        super().bind(params, grads)
        self.W, self.b = params["W"], params["b"]
        self.dW, self.db = grads["W"], grads["b"]

    def initialize(self, rng):
        (kh, kw), F = self.kernel_size, self.filters
        # The initialisers scale by both fans; a (fan_in, fan_out) draw keeps the variance they
        # intend and F of its columns are the (kh*kw*C, F) matrix the layer needs.
        W2 = self._init_fn(rng, kh * kw * self.c_in, kh * kw * F, self.W.dtype)[:, :F]
        self.W[...] = W2.reshape(self.W.shape)
        self.b[...] = 0

    def forward(self, X, training=False):
        F = self.filters
        Y = self._buffer("_Y", (len(X), *self.out_hw, F), self.W.dtype)
        # --8<-- [start:conv_forward]
        self.cols = self._im2col(self._pad(X))  # (B*OH*OW, kh*kw*C)
        np.matmul(self.cols, self.W.reshape(-1, F), out=Y.reshape(-1, F))
        # + b on rows of OW*F values, b repeated: twice as fast as broadcasting F at a time.
        Y.reshape(-1, self.out_hw[1] * F)[...] += np.tile(self.b, self.out_hw[1])
        # --8<-- [end:conv_forward]
        return Y

    def backward(self, dY):
        F = self.filters
        # --8<-- [start:conv_backward]
        dY2 = dY.reshape(-1, F)
        np.matmul(self.cols.T, dY2, out=self.dW.reshape(-1, F))
        # db: the column sums of dY2 as in Dense, again over rows of OW*F values (3x faster).
        rows = dY.reshape(-1, self.out_hw[1] * F)
        ones = self._buffer("_ones", (len(rows),), dY.dtype)
        ones[...] = 1
        np.sum((ones @ rows).reshape(-1, F), axis=0, out=self.db)
        if not self.input_grad:
            return None
        # col2im, one kernel offset at a time: dY2 W[i, j]^T goes back to the input positions
        # that offset (i, j) saw. A whole (B*OH*OW, C) slab per product keeps each addition on
        # long contiguous runs; scattering the (B*OH*OW, kh*kw*C) dcols, C values at a time,
        # was 1.6x slower.
        dXp = self._zeros("_dXp", (len(dY), *self.padded_hw, self.c_in), dY.dtype)
        part = self._buffer("_part", (*dY.shape[:3], self.c_in), dY.dtype)
        for i, j in np.ndindex(*self.kernel_size):
            np.matmul(dY2, self.W[i, j].T, out=part.reshape(-1, self.c_in))
            window_slice(dXp, i, j, self.out_hw, self.stride)[...] += part
        # --8<-- [end:conv_backward]
        top, bottom, left, right = self.pads
        return dXp[:, top : top + self.input_shape[0], left : left + self.input_shape[1]]

    def _pad(self, X):
        """``X`` inside a reused zero border (the border is written once, when allocated)."""
        if not any(self.pads):
            return X
        Xp = self._zeros("_Xp", (len(X), *self.padded_hw, self.c_in), self.W.dtype, keep=True)
        top, left = self.pads[0], self.pads[2]
        Xp[:, top : top + X.shape[1], left : left + X.shape[2]] = X
        return Xp

    def _im2col(self, Xp):
        """``cols (B*OH*OW, kh*kw*C)``: row ``(b, p, q)`` is the patch under output ``(p, q)``,
        ordered ``(i, j, c)`` like ``W.reshape(-1, F)``. One copy from a strided view."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        B, (oh, ow), C = len(Xp), self.out_hw, self.c_in
        # (B, OH, OW, C, kh, kw): a view, nothing is copied yet.
        windows = sliding_window_view(Xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
        if self._transposed_cols:
            buf = self._buffer("_cols", (kh, kw, C, B, oh, ow), self.W.dtype)
            np.copyto(buf, windows.transpose(4, 5, 3, 0, 1, 2))
            return buf.reshape(kh * kw * C, -1).T
        buf = self._buffer("_cols", (B, oh, ow, kh, kw, C), self.W.dtype)
        np.copyto(buf, windows.transpose(0, 1, 2, 4, 5, 3))
        return buf.reshape(B * oh * ow, -1)

    def _zeros(self, name, shape, dtype, keep=False):
        """A reused zero-filled buffer; with ``keep`` it is zeroed only when allocated (its
        caller overwrites the same part each time)."""
        buf = self.__dict__.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = np.zeros(shape, dtype)
            setattr(self, name, buf)
        elif not keep:
            buf.fill(0)
        return buf

    def config(self):
        padding = self.padding if isinstance(self.padding, str) else as_config(self.padding)
        return {
            "kind": self.kind,
            "filters": self.filters,
            "kernel_size": as_config(self.kernel_size),
            "stride": as_config(self.stride),
            "padding": padding,
            "init": self.init,
        }


def _padding_pair(padding):
    """Zero widths ``(ph, pw)`` from an int or a pair of ints >= 0."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        padding = (padding, padding)
    if isinstance(padding, (str, bytes)) or not hasattr(padding, "__len__") or len(padding) != 2:
        raise BarenetError(
            f"padding must be 'valid', 'same', an int or a pair of ints, got {padding!r}"
        )
    return tuple(check.positive_int("padding", p, minimum=0) for p in padding)


def _pad_widths(padding, kh, kw):
    """``(top, bottom, left, right)`` zero widths."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":  # kh - 1 rows in all, the odd one at the bottom (as TensorFlow)
        return ((kh - 1) // 2, kh // 2, (kw - 1) // 2, kw // 2)
    ph, pw = padding
    return (ph, ph, pw, pw)
