"""Convolution as matrix products: a 2-D convolution layer on channels-last images.

An image batch is ``X (B, H, W, C)``. ``Conv2D`` slides ``F`` filters of ``kh x kw x C`` weights
over it; each output value is the dot product of one filter with the patch under it. Copying
every patch into a row of a matrix (*im2col*) turns the whole layer into one matrix product, the
operation BLAS does fastest. The helpers :func:`int_pair`, :func:`as_config` and
:func:`image_shape` serve the pooling layers too.
"""

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from barenet import validation as check
from barenet.errors import BarenetError
from barenet.nn.init import get_initializer
from barenet.nn.layers import Layer

# dX by a full correlation when the input's area is at most this times the output's: the
# extra multiply-adds cost less than col2im's scattered adds up to about there.
FULL_DX_MAX_AREA_RATIO = 1.25


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


class Conv2D(Layer):
    """2-D convolution (a cross-correlation, as in every framework) with ``F = filters``:

    ``Y[b, p, q, f] = b[f] + sum over i, j, c of Xp[b, s_h p + i, s_w q + j, c] W[i, j, c, f]``

    with ``W (kh, kw, C, F)``, ``b (F,)``, strides ``(s_h, s_w)`` and ``Xp`` the input with its
    zero padding. As matrices: ``cols (B*OH*OW, kh*kw*C)`` holds one patch per row, in the order
    of ``W2 = W.reshape(kh*kw*C, F)``, and ``Y2 = cols W2 + b`` is ``Y (B, OH, OW, F)``.

    Backward, with ``dY2 = dL/dY`` as ``(B*OH*OW, F)``, mirrors :class:`Dense`:
    ``dW2 = cols^T dY2`` and ``db = sum of the rows of dY2``; each patch receives
    ``dcols = dY2 W2^T``, added back where the patch came from (*col2im*, :meth:`_col2im`), to
    give ``dX``. The first layer of a network skips that part.

    ``kernel_size`` and ``stride`` are an int or a pair. ``padding`` is ``"valid"`` (none),
    ``"same"`` (stride 1; the output keeps the input's height and width; an even kernel gets the
    extra row and column of zeros at the bottom and right, as in Keras and TensorFlow) or an int
    or pair of zero widths added on both sides. The default ``init="he"`` suits the ReLU that
    follows most convolutions (Xavier's variance assumes a symmetric activation and lets ReLU
    signals shrink layer after layer); fans are counted as Keras does: ``kh*kw*C`` in,
    ``kh*kw*F`` out.
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
        # needs C == 1 and stride 1. The longer run is the faster copy.
        self._transposed_cols = C == 1 and sw == 1 and self.out_hw[1] > kw
        # dX for stride 1: a "full" correlation (im2col of dY, one sgemm) rather than col2im.
        # It needs the padding within the kernel (kh-1-top >= 0 zero rows, ...) and costs
        # H*W*kh*kw*F*C multiply-adds against OH*OW*kh*kw*F*C for col2im, so it wins only where
        # the input is barely larger than the output, as with "same" padding.
        top, bottom, left, right = self.pads
        self._full_dx = (
            (sh, sw) == (1, 1)
            and max(top, bottom) < kh
            and max(left, right) < kw
            and H * W <= FULL_DX_MAX_AREA_RATIO * self.out_hw[0] * self.out_hw[1]
        )
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
        # im2col then one sgemm, Y2 = cols W2, done a few images at a time (see _correlate)
        self.cols = self._correlate(self._pad(X), self.W.reshape(-1, F), Y, "_cols")
        rows = Y.reshape(-1, self.out_hw[1] * F)  # + b on rows of OW*F values, b repeated:
        rows += np.tile(self.b, self.out_hw[1])  # twice as fast as F values at a time
        # --8<-- [end:conv_forward]
        return Y

    def backward(self, dY):
        F = self.filters
        # --8<-- [start:conv_backward]
        dY2 = dY.reshape(-1, F)
        self._weight_grad(dY2)  # dW2 = cols^T dY2
        # db: the column sums of dY2 as in Dense, over rows of OW*F values (fewer, longer calls).
        rows = dY.reshape(-1, self.out_hw[1] * F)
        ones = self._buffer("_ones", (len(rows),), dY.dtype)
        ones[...] = 1
        np.sum((ones @ rows).reshape(-1, F), axis=0, out=self.db)
        if not self.input_grad:
            return None
        if self._full_dx:
            return self._full_correlation(dY)  # stride 1: dX = dY (padded) * flipped W
        dXp = self._col2im(dY2)
        # --8<-- [end:conv_backward]
        top, left = self.pads[0], self.pads[2]
        return dXp[:, top : top + self.input_shape[0], left : left + self.input_shape[1]]

    def _correlate(self, Xp, W2, Y, name):
        """``Y (B, OH, OW, F) = cols W2`` with ``cols = im2col(Xp)`` in the buffer ``name``;
        returns ``cols (B*OH*OW, kh*kw*C)`` (the ``kh x kw`` kernel and stride are the layer's,
        ``C = len(W2) // (kh*kw)``).

        The copy and the product go a few images at a time, about ``_CHUNK_BYTES`` of ``cols``,
        so that the product reads its rows from cache rather than memory.
        """
        B, (oh, ow) = len(Xp), Y.shape[1:3]
        if self._transposed_cols:
            cols = self._im2col(Xp, name)
            np.matmul(cols, W2, out=Y.reshape(-1, Y.shape[-1]))
            return cols
        row_bytes = oh * ow * W2.shape[0] * W2.itemsize
        step = max(1, _CHUNK_BYTES // row_bytes)
        buf = self._buffer(name, (B, oh, ow, *self.kernel_size, Xp.shape[-1]), W2.dtype)
        for b in range(0, B, step):
            cols = self._im2col(Xp[b : b + step], out=buf[b : b + step])
            np.matmul(cols, W2, out=Y[b : b + step].reshape(-1, Y.shape[-1]))
        return buf.reshape(B * oh * ow, -1)

    def _full_correlation(self, dY):
        """``dX (B, H, W, C)`` for stride 1, as a convolution of ``dY`` in its turn:

        ``dX[b, h, w, c] = sum over i, j, f of dYp[b, h + i, w + j, f] V[i, j, f, c]``

        with ``V[i, j, f, c] = W[kh-1-i, kw-1-j, c, f]`` (the kernel flipped, its channels
        swapped) and ``dYp`` the gradient inside ``kh-1-top`` rows of zeros above and
        ``kh-1-bottom`` below (columns alike): every input pixel meets each kernel offset once.
        That is im2col of ``dYp`` then one sgemm, like the forward pass.
        """
        (kh, kw), top, left = self.kernel_size, self.pads[0], self.pads[2]
        (H, W_, C), (oh, ow), F = self.input_shape, self.out_hw, self.filters
        shape = (len(dY), H + kh - 1, W_ + kw - 1, F)
        dYp = self._zeros("_dYp", shape, dY.dtype, keep=True)  # the border stays zero
        dYp[:, kh - 1 - top : kh - 1 - top + oh, kw - 1 - left : kw - 1 - left + ow] = dY
        V = self._buffer("_V", (kh, kw, F, C), dY.dtype)
        np.copyto(V, self.W[::-1, ::-1].transpose(0, 1, 3, 2))
        dX = self._buffer("_dX", (len(dY), H, W_, C), dY.dtype)
        self._correlate(dYp, V.reshape(-1, C), dX, "_dcols")
        return dX

    def _col2im(self, dY2):
        """``dXp``, the gradient of the padded input: ``dcols = dY2 W2^T`` added back where
        each patch came from, one kernel row ``i`` at a time.

        Kernel row ``i`` gives each output position ``(p, q)`` a strip of ``kw*C`` gradients,
        ``dY2 W[i]^T``, that belongs on input row ``s_h p + i``, columns ``s_w q`` to
        ``s_w q + kw``. Neighbouring strips overlap, so they are added in ``g`` rounds of
        disjoint ones (``q = r, r + g, ...``, ``g = ceil(kw / s_w)``), each round a single
        addition over whole strips. One kernel offset at a time (``C`` values per strip, or
        ``kh*kw`` products) was up to 1.6x slower.
        """
        (kh, kw), (sh, sw), (oh, ow) = self.kernel_size, self.stride, self.out_hw
        B, C, g = len(dY2) // (oh * ow), self.c_in, -(-kw // sw)
        # Spare columns on the right let the last round cut whole chunks of g*s_w columns.
        width = max(self.padded_hw[1], (ow - 1 + g) * sw)
        dXp = self._zeros("_dXp", (B, self.padded_hw[0], width, C), dY2.dtype)
        strips = self._buffer("_strips", (B, oh, ow, kw, C), dY2.dtype)
        for i in range(kh):
            np.matmul(dY2, self.W[i].reshape(kw * C, -1).T, out=strips.reshape(B * oh * ow, -1))
            rows = dXp[:, i : i + sh * (oh - 1) + 1 : sh]  # (B, OH, width, C)
            for r in range(min(g, ow)):
                n = len(range(r, ow, g))  # strips in this round, starting g*s_w columns apart
                chunks = rows[:, :, r * sw : (r + n * g) * sw].reshape(B, oh, n, g * sw, C)
                disjoint = chunks[:, :, :, :kw]  # a view: the += writes into dXp
                disjoint += strips[:, :, r::g]
        return dXp

    def _weight_grad(self, dY2):
        """``dW2 = cols^T dY2``, with ``cols`` read in its own memory order: OpenBLAS took up to
        twice as long when the large operand had to be read across its rows."""
        dW2 = self.dW.reshape(-1, self.filters)
        if self.cols.flags.f_contiguous:  # stored transposed: cols^T is an ordinary matrix
            np.matmul(self.cols.T, dY2, out=dW2)
        else:  # dW2^T = dY2^T cols, then transposed into place (kh*kw*C*F values)
            dWT = self._buffer("_dWT", dW2.T.shape, dW2.dtype)
            np.copyto(dW2, np.matmul(dY2.T, self.cols, out=dWT).T)

    def _pad(self, X):
        """``X`` inside a reused zero border (the border is written once, when allocated)."""
        if not any(self.pads):
            return X
        Xp = self._zeros("_Xp", (len(X), *self.padded_hw, self.c_in), self.W.dtype, keep=True)
        top, left = self.pads[0], self.pads[2]
        Xp[:, top : top + X.shape[1], left : left + X.shape[2]] = X
        return Xp

    def _im2col(self, Xp, name="_cols", out=None):
        """``cols (B*OH*OW, kh*kw*C)``: row ``(b, p, q)`` is the patch under output ``(p, q)``,
        ordered ``(i, j, c)`` like ``W.reshape(-1, F)``. One copy from a strided view, into
        ``out (B, OH, OW, kh, kw, C)`` if given, else into the reused buffer ``name``."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        B, C = len(Xp), Xp.shape[-1]
        # (B, OH, OW, C, kh, kw): a view, nothing is copied yet.
        windows = sliding_window_view(Xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
        oh, ow = windows.shape[1:3]
        if self._transposed_cols:
            buf = self._buffer(name, (kh, kw, C, B, oh, ow), Xp.dtype)
            np.copyto(buf, windows.transpose(4, 5, 3, 0, 1, 2))
            return buf.reshape(kh * kw * C, -1).T
        if out is None:
            out = self._buffer(name, (B, oh, ow, kh, kw, C), Xp.dtype)
        np.copyto(out, windows.transpose(0, 1, 2, 4, 5, 3))
        return out.reshape(B * oh * ow, -1)

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


_CHUNK_BYTES = 4 << 20  # im2col rows per product: 4 MB (see Conv2D._correlate)


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
