"""Checkers for the normalisations: batch norm (statistics per feature, over the batch) and
layer norm (statistics per row, over its features), against barenet's
:class:`~barenet.nn.layers.BatchNorm` and :class:`~barenet.nn.normalization.LayerNorm`.

Both compute ``x_hat = (x - mean) * s`` with ``s = 1 / sqrt(var + eps)`` and
``y = gamma * x_hat + beta``; they differ in the axis the statistics run over, and so does a
common mistake. One feature (batch norm) or one row (layer norm) has a variance near ``eps``,
so that where ``eps`` goes shows in the gradient.
"""

import numpy as np

from barenet.exercises.checking import Case, check_cases, layer_pass, seeded, shapes, two_different
from barenet.nn.layers import BatchNorm
from barenet.nn.normalization import LayerNorm


def normalized(X, eps, axis):
    """``x_hat = (X - mean) / sqrt(var + eps)``, the statistics along ``axis``."""
    centred = X - X.mean(axis=axis, keepdims=True)
    return centred / np.sqrt((centred**2).mean(axis=axis, keepdims=True) + eps)


def normalization_gradients(X, gamma, dY, eps, axis, mistake=None):
    """``(dX, dgamma, dbeta)`` of ``y = gamma * x_hat + beta`` on 2-D ``X``, the statistics
    taken along ``axis`` (0: batch norm, 1: layer norm), in NumPy:

    ``dX = s * (g - mean(g) - x_hat * mean(g * x_hat))`` with ``g = dY * gamma``, the means
    along ``axis``; ``dgamma`` and ``dbeta`` sum ``dY * x_hat`` and ``dY`` over the rows.

    ``mistake`` gives the gradient a common slip computes instead: ``"constants"`` (the mean
    and variance taken as constants), ``"no variance"``, ``"no mean"`` (a path left out),
    ``"no gamma"``, ``"sums"`` (sums where the means are meant), ``"eps outside"``
    (``1 / (sqrt(var) + eps)``), ``"no eps"``.
    """
    mean = X.mean(axis=axis, keepdims=True)
    var = ((X - mean) ** 2).mean(axis=axis, keepdims=True)
    if mistake == "eps outside":
        s = 1 / (np.sqrt(var) + eps)
    else:
        s = 1 / np.sqrt(var + (0 if mistake == "no eps" else eps))
    x_hat = (X - mean) * s
    g = dY if mistake == "no gamma" else dY * gamma
    average = np.sum if mistake == "sums" else np.mean
    mean_g = 0 if mistake in ("constants", "no mean") else average(g, axis=axis, keepdims=True)
    along = 0
    if mistake not in ("constants", "no variance"):
        along = x_hat * average(g * x_hat, axis=axis, keepdims=True)
    return s * (g - mean_g - along), np.sum(dY * x_hat, axis=0), dY.sum(axis=0)


def normalization_mistakes(X, gamma, dY, eps, axis, rows, right_axis_words):
    """The mistakes of a normalisation's backward pass on 2-D ``X``: name -> [(what, array)],
    the arrays reshaped to ``rows`` (the shape of the student's X)."""

    def dX(mistake):
        return normalization_gradients(X, gamma, dY, eps, axis, mistake)[0].reshape(rows)

    other = normalization_gradients(X, gamma, dY, eps, 1 - axis)
    x_hat = normalized(X, eps, axis)
    statistics = f"statistics over the wrong axis: {right_axis_words}"
    return {
        "dX": [
            (
                "the mean and the variance depend on X too: dX = s (g - mean(g) - x_hat "
                "mean(g x_hat)) with g = dY gamma, not s g alone",
                dX("constants"),
            ),
            (
                "the path through the variance is missing: subtract x_hat * mean(g * x_hat)",
                dX("no variance"),
            ),
            ("the path through the mean is missing: subtract mean(g)", dX("no mean")),
            ("gamma is missing: the gradient reaching x_hat is g = dY * gamma", dX("no gamma")),
            (
                "sums where means are meant: mean(g) and mean(g * x_hat) divide the sums by "
                "the number of values in the mean",
                dX("sums"),
            ),
            ("eps goes inside the square root: s = 1 / sqrt(var + eps)", dX("eps outside")),
            ("eps is missing: s = 1 / sqrt(var + eps)", dX("no eps")),
            (statistics, other[0].reshape(rows)),
        ],
        "dgamma": [
            (
                "dgamma multiplies dY by x_hat, the normalised input, not by X",
                np.sum(dY * X, axis=0),
            ),
            (
                "a mean where a sum is meant: dgamma sums dY * x_hat over the rows",
                np.mean(dY * x_hat, axis=0),
            ),
            (statistics, other[1]),
        ],
        "dbeta": [
            ("a mean where a sum is meant: dbeta sums dY over the rows", dY.mean(axis=0)),
        ],
    }


def batchnorm_case(seed, k, eps):
    """Case ``k``: ``X (B, D)`` with ``B != D``, features of very different scales (the first
    one's variance near ``eps``)."""
    rng = seeded(seed, k)
    B, D = two_different(rng, 4, 7)
    scales = 10 ** rng.uniform(-1, 0.5, size=D)
    scales[0] = 0.003  # a variance of about 1e-5: where eps goes shows
    X = rng.normal(size=(B, D)) * scales + rng.normal(size=D)
    gamma, beta, dY = rng.normal(size=D), rng.normal(size=D), rng.normal(size=(B, D))
    _, dX, grads = layer_pass(BatchNorm(eps=eps), X, dY, {"gamma": gamma, "beta": beta})
    words = "batch norm takes each feature's mean and variance over the batch (axis 0)"
    mistakes = normalization_mistakes(X, gamma, dY, eps, 0, X.shape, words)
    summed_wrong = "summed over the features: sum over the batch (axis 0), one value per feature"
    mistakes["dgamma"].append((summed_wrong, np.sum(dY * normalized(X, eps, 0), axis=1)))
    mistakes["dbeta"].append((summed_wrong, dY.sum(axis=1)))
    references = {"dX": dX, "dgamma": grads["gamma"], "dbeta": grads["beta"]}
    description = f"{shapes(X=X)}, eps {eps:g}"
    return Case(description, (X, gamma, dY, eps), references, mistakes)


def check_batchnorm(batchnorm_backward, seed=0):
    """Check ``batchnorm_backward(X, gamma, dY, eps) -> (dX, dgamma, dbeta)`` against barenet's
    :class:`~barenet.nn.layers.BatchNorm` in training mode.

    The layer, per feature ``j`` of ``X (B, D)``, over the batch: ``mean_j`` and the (biased)
    ``var_j`` of column ``j``, ``x_hat = (X - mean) / sqrt(var + eps)`` and
    ``Y = gamma * x_hat + beta`` (``gamma``, ``beta (D,)``). Given ``dY (B, D)``, return ``dX``
    ``(B, D)``, ``dgamma`` and ``dbeta`` ``(D,)``. ``beta`` does not change any of them, so the
    function does not receive it. Three cases, ``B != D``, eps 1e-5 and 1e-3.
    """
    cases = [batchnorm_case(seed, k, eps) for k, eps in enumerate((1e-5, 1e-3, 1e-5))]
    return check_cases("batchnorm_backward", batchnorm_backward, cases)


def layernorm_case(seed, k, eps, tokens):
    """Case ``k``: ``X (B, T, D)`` when ``tokens``, else ``(B, D)``; one row's variance near
    ``eps``."""
    rng = seeded(seed, k)
    B, D = two_different(rng, 3, 6)
    T = int(rng.choice([t for t in range(2, 6) if t not in (B, D)]))
    shape = (B, T, D) if tokens else (B, D)
    X = rng.normal(size=shape) * 10 ** rng.uniform(-1, 0.5, size=(*shape[:-1], 1))
    X.reshape(-1, D)[0] *= 0.003 / X.reshape(-1, D)[0].std()  # a variance of about 1e-5
    gamma, beta, dY = rng.normal(size=D), rng.normal(size=D), rng.normal(size=shape)
    _, dX, grads = layer_pass(LayerNorm(eps=eps), X, dY, {"gamma": gamma, "beta": beta})
    rows, drows = X.reshape(-1, D), dY.reshape(-1, D)
    words = "layer norm takes each row's mean and variance over its D features (the last axis)"
    mistakes = normalization_mistakes(rows, gamma, drows, eps, 1, shape, words)
    product = dY * normalized(rows, eps, 1).reshape(shape)
    if tokens:
        tokens_too = "summed over the batch only: sum over the batch and the tokens (axes 0 and 1)"
        mistakes["dgamma"].append((tokens_too, product.sum(axis=0)))
        mistakes["dbeta"].append((tokens_too, dY.sum(axis=0)))
    across = "summed over the features: sum over the rows, one value per feature"
    mistakes["dgamma"].append((across, product.sum(axis=-1)))
    mistakes["dbeta"].append((across, dY.sum(axis=-1)))
    references = {"dX": dX, "dgamma": grads["gamma"], "dbeta": grads["beta"]}
    description = f"{shapes(X=X)}, eps {eps:g}"
    return Case(description, (X, gamma, dY, eps), references, mistakes)


def check_layernorm(layernorm_backward, seed=0):
    """Check ``layernorm_backward(X, gamma, dY, eps) -> (dX, dgamma, dbeta)`` against barenet's
    :class:`~barenet.nn.normalization.LayerNorm`.

    The layer, on ``X`` of any shape whose last axis holds ``D`` features (``(B, D)``, or tokens
    ``(B, T, D)``): each row ``x`` of ``D`` features gets its own mean and (biased) variance,
    ``x_hat = (x - mean(x)) / sqrt(var(x) + eps)``, and ``y = gamma * x_hat + beta``
    (``gamma``, ``beta (D,)``). Given ``dY`` of X's shape, return ``dX`` (X's shape),
    ``dgamma`` and ``dbeta`` ``(D,)``, summed over every row. Three cases: tokens twice, then
    ``(B, D)``.
    """
    settings = ((1e-5, True), (1e-3, True), (1e-5, False))
    cases = [layernorm_case(seed, k, eps, tokens) for k, (eps, tokens) in enumerate(settings)]
    return check_cases("layernorm_backward", layernorm_backward, cases)
