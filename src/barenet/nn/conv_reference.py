"""The convolution as the convolutions page derives it: im2col, one product, col2im.

These functions are the plain reference that :class:`barenet.nn.Conv2D` is tested against. The
layer computes the same numbers faster (reused buffers, a few images at a time, ``dX`` as a
full correlation for stride 1...); here every step is written out once, for reading.

Shapes: images ``X (B, H, W, C)``, channels last; kernel ``W (kh, kw, C, F)``; bias ``b (F,)``;
``stride`` and ``pads = (top, bottom, left, right)`` zero widths.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def pad(X, pads):
    """``X`` inside a border of zeros, ``pads = (top, bottom, left, right)`` wide."""
    top, bottom, left, right = pads
    return np.pad(X, ((0, 0), (top, bottom), (left, right), (0, 0)))


# --8<-- [start:reference_im2col]
def im2col(Xp, kh, kw, stride):
    """``cols (B*OH*OW, kh*kw*C)``: row ``(b, p, q)`` is the patch of the padded image ``Xp``
    under output ``(p, q)``, its values in ``(i, j, c)`` order, like ``W.reshape(-1, F)``."""
    sh, sw = stride
    windows = sliding_window_view(Xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]  # (B,OH,OW,C,kh,kw)
    B, OH, OW, C = windows.shape[:4]
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(B * OH * OW, kh * kw * C)
# --8<-- [end:reference_im2col]


# --8<-- [start:reference_col2im]
def col2im(dcols, padded_shape, kh, kw, stride, out_hw):
    """The transpose of :func:`im2col`: each row's patch of gradients added back onto the
    pixels it was copied from (patches overlap, so pixels collect several)."""
    sh, sw = stride
    OH, OW = out_hw
    B, C = padded_shape[0], padded_shape[3]
    patches = dcols.reshape(B, OH, OW, kh, kw, C)
    dXp = np.zeros(padded_shape, dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dXp[:, i : i + sh * OH : sh, j : j + sw * OW : sw] += patches[:, :, :, i, j]
    return dXp
# --8<-- [end:reference_col2im]


# --8<-- [start:reference_forward]
def conv2d_forward(X, W, b, stride=(1, 1), pads=(0, 0, 0, 0)):
    """``Y (B, OH, OW, F) = cols W2 + b``; returns ``Y`` and what the backward pass needs."""
    kh, kw, C, F = W.shape
    Xp = pad(X, pads)
    cols = im2col(Xp, kh, kw, stride)
    OH = (Xp.shape[1] - kh) // stride[0] + 1
    OW = (Xp.shape[2] - kw) // stride[1] + 1
    Y = (cols @ W.reshape(-1, F) + b).reshape(len(X), OH, OW, F)
    return Y, (X.shape, Xp.shape, cols, W, stride, pads)
# --8<-- [end:reference_forward]


# --8<-- [start:reference_backward]
def conv2d_backward(dY, cache):
    """``dX, dW, db`` from ``dY = dL/dY (B, OH, OW, F)``: the dense layer's three gradients on
    the rows of ``cols``, then col2im for ``dX``."""
    x_shape, padded_shape, cols, W, stride, pads = cache
    kh, kw, C, F = W.shape
    dY2 = dY.reshape(-1, F)
    dW = (cols.T @ dY2).reshape(W.shape)
    db = dY2.sum(axis=0)
    dcols = dY2 @ W.reshape(-1, F).T
    dXp = col2im(dcols, padded_shape, kh, kw, stride, dY.shape[1:3])
    top, left = pads[0], pads[2]
    dX = dXp[:, top : top + x_shape[1], left : left + x_shape[2]]
    return dX, dW, db
# --8<-- [end:reference_backward]
