"""The two losses: softmax cross-entropy (classification) and squared error (regression).

Each is fused with its gradient: one function returns the summed loss of a batch and writes
``dL/dZ`` for the last layer's outputs ``Z``, so the output "activation" (softmax, or the identity
for regression) never needs a backward of its own. :data:`LOSSES` finds them by name.

**Cross-entropy.**

For logits ``Z`` of shape ``(batch, classes)`` and integer labels ``y``, softmax gives
``P_ij = exp(Z_ij) / sum_k exp(Z_ik)`` and the mean cross-entropy is
``L = -(1/B) sum_i log P_{i, y_i}``. Its gradient with respect to the logits is the famous
``dL/dZ = (P - T) / B`` with ``T`` the one-hot labels (the targets): there is no need to
differentiate softmax and the logarithm separately, which would be slower and lose precision.

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
    """Fused forward and backward: returns the summed loss, writes ``(P - T) / B`` into ``dZ``.

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


def squared_error(Z, T, dZ):
    """Fused squared error: returns the summed loss, writes ``(Z - T) / B`` into ``dZ``.

    For outputs ``Z`` and targets ``T``, both ``(B, K)``, the mean loss is
    ``L = 1/(2B) sum_i ||Z_i - T_i||^2``: half the squared distance, summed over the ``K``
    outputs and averaged over the batch (the half cancels the 2 of the derivative). Its gradient
    is ``dL/dZ = (Z - T) / B``, the same form as cross-entropy's ``(P - T) / B`` with the outputs
    themselves in the place of the probabilities: the output layer is the identity. ``dZ`` may be
    ``Z`` itself.
    """
    # --8<-- [start:squared_error]
    np.subtract(Z, T, out=dZ)
    loss = 0.5 * float(np.vdot(dZ, dZ))
    dZ *= 1.0 / len(T)
    # --8<-- [end:squared_error]
    return loss


def mean_squared_error(Z, T):
    """The mean loss ``1/(2B) sum_i ||Z_i - T_i||^2`` of outputs ``Z`` against targets ``T``."""
    diff = np.asarray(Z, np.float64) - T
    return float(0.5 * np.einsum("ij,ij->", diff, diff) / len(T))


def r2_score(Z, T):
    """The coefficient of determination ``R^2 = 1 - SS_res / SS_tot``, averaged over outputs.

    1 is perfect; 0 is what always predicting the mean of ``T`` gets. An output whose targets are
    all equal scores 1 if predicted exactly, else 0 (scikit-learn's convention).
    """
    Z, T = np.asarray(Z, np.float64), np.asarray(T, np.float64)
    residual = ((T - Z) ** 2).sum(axis=0)
    total = ((T - T.mean(axis=0)) ** 2).sum(axis=0)
    constant = total == 0
    scores = 1.0 - residual / np.where(constant, 1.0, total)
    scores[constant] = np.where(residual[constant] == 0, 1.0, 0.0)
    return float(scores.mean())


LOSSES = {"cross_entropy": softmax_cross_entropy, "mse": squared_error}
