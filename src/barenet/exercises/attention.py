"""Checker for multi-head scaled dot-product self-attention's backward pass, against barenet's
:class:`~barenet.nn.attention.MultiHeadSelfAttention` (its biases set to 0: their gradients
are column sums, as in the dense layer).
"""

import math

import numpy as np

from barenet.exercises.checking import Case, check_cases, layer_pass, seeded, shapes
from barenet.nn.attention import MultiHeadSelfAttention


def attention_gradients(X, Wq, Wk, Wv, Wo, dY, heads, mistake=None):
    """``(dX, dWq, dWk, dWv, dWo)`` of self-attention in NumPy, or what the slip ``mistake``
    names gives instead (the keys of :data:`ATTENTION_MISTAKES`).

    Forward: ``Q = X Wq``, ``K = X Wk``, ``V = X Wv`` split into heads ``(B, h, T, d)``;
    ``S = Q K^T / sqrt(d)``, ``A = softmax(S)`` over the keys, ``O = A V``; the heads side by
    side ``(B, T, D)``, ``Y = O Wo``. Backward: each step's gradient in reverse, as the
    docstring of :class:`~barenet.nn.attention.MultiHeadSelfAttention` says.
    """
    B, T, D = X.shape
    h, d = heads, D // heads
    scale = 1 / math.sqrt(D if mistake == "scale D" else d)

    def split(M):  # (B, T, D) -> (B, h, T, d)
        if mistake == "heads reshape":
            return M.reshape(B, h, T, d)
        return M.reshape(B, T, h, d).transpose(0, 2, 1, 3)

    def merge(M):  # (B, h, T, d) -> (B*T, D), the inverse of split
        if mistake == "heads reshape":
            return M.reshape(B * T, D)
        return M.transpose(0, 2, 1, 3).reshape(B * T, D)

    Q, K, V = split(X @ Wq), split(X @ Wk), split(X @ Wv)
    S = Q @ K.swapaxes(-1, -2) * scale
    A = np.exp(S - S.max(axis=-1, keepdims=True))
    A /= A.sum(axis=-1, keepdims=True)
    X2, dY2 = X.reshape(B * T, D), dY.reshape(B * T, D)
    dWo = merge(A @ V).T @ dY2
    dO = split((dY2 @ Wo.T).reshape(B, T, D))
    dV = A @ dO if mistake == "dV no transpose" else A.swapaxes(-1, -2) @ dO
    dA = dO @ V.swapaxes(-1, -2)
    if mistake == "softmax diagonal":
        dS = A * dA
    else:  # the sum over the keys (the last axis), or over the queries by mistake
        axis = -2 if mistake == "softmax axis" else -1
        dS = A * (dA - np.sum(dA * A, axis=axis, keepdims=True))
    dS = dS * (1 if mistake == "no scale in backward" else scale)
    dQ = dS.swapaxes(-1, -2) @ K if mistake == "dQ transposed" else dS @ K
    dK = dS @ Q if mistake == "dK no transpose" else dS.swapaxes(-1, -2) @ Q
    dQ2, dK2, dV2 = merge(dQ), merge(dK), merge(dV)
    paths = {"q": dQ2 @ Wq.T, "k": dK2 @ Wk.T, "v": dV2 @ Wv.T}
    missing = mistake[-1] if mistake in ("dX no q", "dX no k", "dX no v") else None
    dX = sum(path for name, path in paths.items() if name != missing).reshape(B, T, D)
    return dX, X2.T @ dQ2, X2.T @ dK2, X2.T @ dV2, dWo


ATTENTION_MISTAKES = {
    "scale D": "the scale is 1/sqrt(d), d = D / heads the features of one head, not 1/sqrt(D)",
    "heads reshape": "the heads are split by a reshape alone: (B, T, D) -> (B, T, heads, d), "
    "then move the heads' axis before the tokens' (a transpose), not straight to "
    "(B, heads, T, d)",
    "no scale in backward": "the 1/sqrt(d) of the scores is missing from dQ and dK",
    "softmax diagonal": "the softmax's Jacobian is not diagonal: dS = A * (dA - sum over the "
    "keys of dA * A), not A * dA",
    "softmax axis": "the softmax's sum runs over the keys, the last axis of A (each row sums to "
    "1), not over the queries",
    "dV no transpose": "dV = A^T dO: a missing transpose (A dO)",
    "dK no transpose": "dK = dS^T Q / sqrt(d): a missing transpose (dS Q)",
    "dQ transposed": "dQ = dS K / sqrt(d), without a transpose (dS^T K)",
    "dX no q": "dX is missing the path through the queries: X feeds Q, K and V, so "
    "dX = dQ Wq^T + dK Wk^T + dV Wv^T",
    "dX no k": "dX is missing the path through the keys: X feeds Q, K and V, so "
    "dX = dQ Wq^T + dK Wk^T + dV Wv^T",
    "dX no v": "dX is missing the path through the values: X feeds Q, K and V, so "
    "dX = dQ Wq^T + dK Wk^T + dV Wv^T",
}

# (heads, features D) of the cases: two heads, three heads, and a single head
ATTENTION_SETTINGS = ((2, 4), (3, 6), (1, 5))


def attention_case(seed, k, heads, D):
    """Case ``k``: ``X (B, T, D)`` with ``B``, ``T``, ``D`` different, the four ``(D, D)``
    projections random, barenet's layer with ``Wqkv = [Wq Wk Wv]`` and zero biases as the
    reference."""
    rng = seeded(seed, k)
    T = int(rng.choice([t for t in range(3, 7) if t != D]))
    B = int(rng.choice([b for b in (2, 3) if b != T]))
    X, dY = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, D))
    Wq, Wk, Wv, Wo = (rng.normal(size=(D, D)) / math.sqrt(D) for _ in range(4))
    params = {
        "Wqkv": np.concatenate([Wq, Wk, Wv], axis=1),
        "bqkv": np.zeros(3 * D),
        "Wo": Wo,
        "bo": np.zeros(D),
    }
    _, dX, grads = layer_pass(MultiHeadSelfAttention(heads), X, dY, params)
    dWq, dWk, dWv = np.split(grads["Wqkv"], 3, axis=1)
    references = {"dX": dX, "dWq": dWq, "dWk": dWk, "dWv": dWv, "dWo": grads["Wo"]}
    args = (X, Wq, Wk, Wv, Wo, dY, heads)
    mistakes = {name: [] for name in references}
    for mistake, what in ATTENTION_MISTAKES.items():
        for name, array in zip(references, attention_gradients(*args, mistake=mistake)):
            mistakes[name].append((what, array))
    description = f"{shapes(X=X)}, {heads} head{'s' if heads > 1 else ''}"
    return Case(description, args, references, mistakes)


def check_attention(attention_backward, seed=0):
    """Check ``attention_backward(X, Wq, Wk, Wv, Wo, dY, heads) -> (dX, dWq, dWk, dWv, dWo)``
    against barenet's :class:`~barenet.nn.attention.MultiHeadSelfAttention`.

    The layer, on ``X (B, T, D)`` (``B`` samples of ``T`` tokens of ``D`` features), with
    ``heads`` heads of ``d = D / heads`` features and four ``(D, D)`` projections, no biases:

    - ``Q = X Wq``, ``K = X Wk``, ``V = X Wv``, each ``(B, T, D)`` split into the heads: features
      ``[i d, (i + 1) d)`` are head ``i``'s, giving ``(B, heads, T, d)``;
    - per sample and head, ``S = Q K^T / sqrt(d)`` ``(T, T)``, ``A = softmax(S)`` along each row
      (over the keys), ``O = A V`` ``(T, d)``;
    - the heads' ``O`` side by side again, ``(B, T, D)``, and ``Y = O Wo``.

    Given ``dY (B, T, D)``, return ``dX`` (X's shape) and the four projections' gradients, each
    ``(D, D)``. Three cases: two heads, three heads, one head.
    """
    cases = [attention_case(seed, k, *setting) for k, setting in enumerate(ATTENTION_SETTINGS)]
    return check_cases("attention_backward", attention_backward, cases)
