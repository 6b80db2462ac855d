"""Softmax and cross-entropy, computed stably and fused into one gradient.

For logits ``Z`` of shape ``(batch, classes)`` and integer labels ``y``, softmax gives
``P_ij = exp(Z_ij) / sum_k exp(Z_ik)`` and the mean cross-entropy is
``L = -(1/B) sum_i log P_{i, y_i}``. Its gradient with respect to the logits is the famous
``dL/dZ = (P - Y) / B`` with ``Y`` the one-hot labels: there is no need to differentiate softmax
and the logarithm separately, which would be slower and lose precision.

Stability: subtracting the row maximum ``m_i`` changes nothing mathematically but keeps ``exp``
from overflowing, and writing ``log P_{i,y} = (Z_{i,y} - m_i) - log sum_k exp(Z_ik - m_i)`` keeps
the loss finite even when a probability underflows to zero (logits of 1e4 are fine).
"""

import numpy as np


def softmax(Z, out=None):
    """Row-wise softmax of ``Z (batch, classes)``; writes into ``out`` (may be ``Z``)."""
    # --8<-- [start:softmax]
    out = np.subtract(Z, Z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    # --8<-- [end:softmax]
    return out


def log_softmax(Z):
    """Row-wise ``log softmax(Z)``, computed without forming tiny probabilities."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(Z, y):
    """Mean cross-entropy of logits ``Z (batch, classes)`` against integer labels ``y (batch,)``."""
    logp = log_softmax(Z)
    return float(-logp[np.arange(len(y)), y].mean())


def softmax_cross_entropy(Z, y, dZ):
    """Fused forward and backward: returns the summed loss, writes ``(P - Y) / B`` into ``dZ``.

    ``Z`` are the logits ``(B, K)``, ``y`` integer labels ``(B,)``, ``dZ`` a ``(B, K)`` buffer
    (it may be ``Z`` itself). The *sum* of the per-sample losses is returned so that callers can
    average over an epoch of unequal batches; the gradient is already divided by ``B``.
    """
    # --8<-- [start:softmax_cross_entropy]
    rows = np.arange(len(y))
    np.subtract(Z, Z.max(axis=1, keepdims=True), out=dZ)  # shifted logits
    picked = dZ[rows, y]  # Z_{i,y_i} - m_i, taken before exp overwrites the buffer
    np.exp(dZ, out=dZ)
    sums = dZ.sum(axis=1)
    loss = float(np.log(sums).sum() - picked.sum())
    dZ /= sums[:, None]  # dZ is now P
    dZ[rows, y] -= 1
    dZ *= 1.0 / len(y)
    # --8<-- [end:softmax_cross_entropy]
    return loss
