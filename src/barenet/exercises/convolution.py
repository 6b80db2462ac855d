"""Checkers for the image layers: a convolution's and a max pool's backward pass, against
barenet's :class:`~barenet.nn.conv.Conv2D` and :class:`~barenet.nn.pooling.MaxPool2D`.

Both run on channels-last images ``X (B, H, W, C)`` with ``H != W``, at several strides and
paddings, so that an answer written for one square case only does not pass.
"""

import numpy as np

from barenet.exercises.checking import Case, check_cases, layer_pass, seeded, shapes, two_different
from barenet.nn.conv import Conv2D
from barenet.nn.pooling import MaxPool2D

# (stride, padding) of the convolution's cases: plain, strided and padded, and a stride that
# leaves input rows no window reaches (their gradient is 0)
CONV_SETTINGS = ((1, 0), (2, 1), (3, 2))


def conv2d_gradients(X, W, dY, stride, padding):
    """``(dXp, dW, db)`` of ``Y = conv2d(X, W) + b`` in plain loops over the kernel offsets,
    ``dXp`` being the gradient of the *padded* input (a mistake's shape; its inside is dX).

    ``Y[b, p, q, f] = sum over i, j, c of Xp[b, s p + i, s q + j, c] W[i, j, c, f] + b[f]``, so
    ``dW[i, j] = sum over b, p, q of Xp[b, s p + i, s q + j]^T dY[b, p, q]`` and
    ``dXp[b, s p + i, s q + j] += dY[b, p, q] W[i, j]^T``."""
    (kh, kw), (oh, ow) = W.shape[:2], dY.shape[1:3]
    Xp = np.pad(X, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    dXp, dW = np.zeros_like(Xp), np.zeros_like(W)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + stride * (oh - 1) + 1, stride)
            cols = slice(j, j + stride * (ow - 1) + 1, stride)
            patch = Xp[:, rows, cols]  # (B, OH, OW, C): offset (i, j) of every window
            dW[i, j] = np.einsum("bpqc,bpqf->cf", patch, dY)
            dXp[:, rows, cols] += dY @ W[i, j].T
    return dXp, dW, dY.sum(axis=(0, 1, 2))


def conv2d_case(seed, k, stride, padding):
    """Case ``k``: random non-square X, kernel and channels, the given stride and padding."""
    rng = seeded(seed, k)
    (H, Wd), (kh, kw), (C, F) = (two_different(rng, *r) for r in ((5, 8), (2, 3), (2, 4)))
    B = int(rng.integers(2, 4))
    X, W, b = rng.normal(size=(B, H, Wd, C)), rng.normal(size=(kh, kw, C, F)), rng.normal(size=F)
    oh, ow = (H + 2 * padding - kh) // stride + 1, (Wd + 2 * padding - kw) // stride + 1
    dY = rng.normal(size=(B, oh, ow, F))
    layer = Conv2D(F, (kh, kw), stride=stride, padding=padding)
    _, dX, grads = layer_pass(layer, X, dY, {"W": W, "b": b})
    dXp, _, _ = conv2d_gradients(X, W, dY, stride, padding)
    flipped_dXp, _, _ = conv2d_gradients(X, W[::-1, ::-1], dY, stride, padding)
    inside = (slice(None), slice(padding, padding + H), slice(padding, padding + Wd))
    dW, db = grads["W"], grads["b"]
    mistakes = {
        "dX": [
            (
                "the kernel is not flipped: as a full convolution of dY, dX needs W turned by "
                "180 degrees (W[::-1, ::-1]); or add dY[b, p, q] W[i, j]^T to the padded input "
                "at (s p + i, s q + j)",
                flipped_dXp[inside],
            ),
            (
                "the padding is still on: cut the p rows and columns of zeros off each side of "
                "the padded input's gradient, so that dX has X's shape",
                dXp,
            ),
        ],
        "dW": [
            (
                "dW is flipped: dW[i, j] is the sum of the padded input shifted by (i, j) times "
                "dY (a correlation, like the forward pass), not a convolution",
                dW[::-1, ::-1],
            ),
            (
                "dW's entries are in another order: the patches were flattened as (channel, "
                "row, column) but W.reshape(-1, F) is (row, column, channel)",
                dW.transpose(2, 0, 1, 3).reshape(dW.shape),
            ),
            (
                "dW is divided by the batch size: a weight's gradient is a sum over the batch "
                "and the positions (dY already carries the loss's 1/B)",
                dW / B,
            ),
        ],
        "db": [
            (
                "a mean where a sum is meant: db sums dY over the batch and every position",
                dY.mean(axis=(0, 1, 2)),
            ),
            ("db is divided by the batch size: it is a plain sum of dY", db / B),
            (
                "db is summed over the batch only: every position uses the bias, so sum over "
                "the positions too (axes 0, 1 and 2)",
                dY.sum(axis=0),
            ),
            (
                "db is summed over the positions only: sum over the batch too (axes 0, 1 and 2)",
                dY.sum(axis=(1, 2)),
            ),
        ],
    }
    description = f"{shapes(X=X, W=W)}, stride {stride}, padding {padding}"
    references = {"dX": dX, "dW": dW, "db": db}
    return Case(description, (X, W, b, dY, stride, padding), references, mistakes)


def check_conv2d(conv2d_backward, seed=0):
    """Check ``conv2d_backward(X, W, b, dY, stride, padding) -> (dX, dW, db)`` against
    barenet's :class:`~barenet.nn.conv.Conv2D`.

    The layer: ``X (B, H, W, C)``, ``W (kh, kw, C, F)``, ``b (F,)``; ``padding`` rows and columns
    of zeros on every side of ``X`` (``Xp``), then
    ``Y[b, p, q, f] = sum over i, j, c of Xp[b, s p + i, s q + j, c] W[i, j, c, f] + b[f]``
    with stride ``s``: ``Y (B, OH, OW, F)``, ``OH = (H + 2 padding - kh) // s + 1`` (OW alike).
    Given ``dY (B, OH, OW, F)``, return ``dX`` (X's shape), ``dW`` (W's) and ``db`` (b's).
    Three cases: stride 1 without padding, stride 2 with padding 1, stride 3 with padding 2.
    """
    cases = [conv2d_case(seed, k, s, p) for k, (s, p) in enumerate(CONV_SETTINGS)]
    return check_cases("conv2d_backward", conv2d_backward, cases)


def maxpool_gradient(X, dY, pool, ties="first"):
    """``dX`` of a ``pool x pool`` max pool of stride ``pool``, in NumPy: each window's ``dY``
    goes to its maximum; ``ties`` says where it goes when several values share the maximum:
    ``"first"`` (row-major, as barenet and PyTorch), ``"last"``, ``"all"`` (each tied one gets
    it), ``"split"`` (shared equally); ``"spread"`` shares it over the whole window (average
    pooling) and ``"copy"`` gives it to every position (no mask)."""
    B, H, W, C = X.shape
    oh, ow, n = H // pool, W // pool, pool * pool
    inside = X[:, : oh * pool, : ow * pool]
    # (B, OH, OW, C, pool*pool): the window of each output, its values in row-major order
    windows = inside.reshape(B, oh, pool, ow, pool, C).transpose(0, 1, 3, 5, 2, 4)
    windows = windows.reshape(B, oh, ow, C, n)
    hits = windows == windows.max(axis=-1, keepdims=True)
    offsets = np.arange(n)
    if ties == "first":
        mask = offsets == np.argmax(hits, axis=-1)[..., None]
    elif ties == "last":
        mask = offsets == (n - 1 - np.argmax(hits[..., ::-1], axis=-1))[..., None]
    elif ties == "all":
        mask = hits
    elif ties == "split":
        mask = hits / hits.sum(axis=-1, keepdims=True)
    elif ties == "spread":
        mask = np.full(windows.shape, 1 / n)
    else:  # "copy"
        mask = np.ones(windows.shape)
    shares = (mask * dY[..., None]).reshape(B, oh, ow, C, pool, pool)
    dX = np.zeros_like(X)
    dX[:, : oh * pool, : ow * pool] = shares.transpose(0, 1, 4, 2, 5, 3).reshape(inside.shape)
    return dX


def maxpool_case(seed, k, pool, ties):
    """Case ``k``: a non-square X whose height or width is not a multiple of ``pool``; with
    ``ties`` its values are small integers, so that windows hold several maxima."""
    rng = seeded(seed, k)
    H, W = two_different(rng, 2 * pool + 1, 3 * pool + 1)
    B, C = two_different(rng, 2, 3)
    size = (B, H, W, C)
    X = rng.integers(0, 3, size=size).astype(np.float64) if ties else rng.normal(size=size)
    dY = rng.normal(size=(B, H // pool, W // pool, C))
    _, dX, _ = layer_pass(MaxPool2D(pool), X, dY)
    covered = (slice(None), slice(0, (H // pool) * pool), slice(0, (W // pool) * pool))
    mistakes = [
        (
            "in a tie, give the whole gradient to one maximum, the first in row-major order (as "
            "barenet and PyTorch do), not to every tied one",
            maxpool_gradient(X, dY, pool, "all"),
        ),
        (
            "in a tie the gradient goes to the first maximum in row-major order (np.argmax's); "
            "yours gives it to the last",
            maxpool_gradient(X, dY, pool, "last"),
        ),
        (
            "in a tie, the whole gradient goes to the first maximum in row-major order, not "
            "shared among the tied ones",
            maxpool_gradient(X, dY, pool, "split"),
        ),
        (
            "the gradient is shared over the window as in average pooling: in max pooling it "
            "all goes to the position that held the maximum",
            maxpool_gradient(X, dY, pool, "spread"),
        ),
        (
            "the mask is missing: only the position that held the maximum gets dY, the others "
            "get 0",
            maxpool_gradient(X, dY, pool, "copy"),
        ),
        (
            "dX must have X's shape: the rows and columns at the bottom and right that no "
            "window reaches get 0",
            dX[covered],
        ),
    ]
    description = f"{shapes(X=X)}, pool {pool}" + (", values with ties" if ties else "")
    return Case(description, (X, dY, pool), {"dX": dX}, {"dX": mistakes})


def check_maxpool(maxpool_backward, seed=0):
    """Check ``maxpool_backward(X, dY, pool) -> dX`` against barenet's
    :class:`~barenet.nn.pooling.MaxPool2D`.

    The layer: ``X (B, H, W, C)``; windows of ``pool x pool`` positions, moving by ``pool``
    (they tile the image; rows and columns left over at the bottom and right are dropped);
    ``Y[b, p, q, c]`` is the largest value of window ``(p, q)`` in channel ``c``, so
    ``Y (B, H // pool, W // pool, C)``. Given ``dY`` of Y's shape, return ``dX`` of X's: each
    window's gradient goes to the position that held its maximum, the first one in row-major
    order when several hold it (as ``np.argmax`` picks); every other position gets 0.
    Three cases: pool 2 and pool 3 on random values, pool 2 on small integers (ties).
    """
    settings = ((2, False), (3, False), (2, True))
    cases = [maxpool_case(seed, k, pool, ties) for k, (pool, ties) in enumerate(settings)]
    return check_cases("maxpool_backward", maxpool_backward, cases)
