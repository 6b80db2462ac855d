"""Solutions to notebook 7, "Write more layers": kept apart from the notebook so that students
start from blank functions. ``tests/exercises/`` runs each through its checker in
:mod:`barenet.exercises`, and ``tests/test_notebooks.py`` runs the notebook with them in place of
the blanks, so these stay right as the code changes.

Each function needs NumPy alone (no helper of this file): the teacher's edition pastes each body
into the notebook's blank. A teacher can also load them all with ``%run solutions/more_layers.py``
from ``notebooks/``.
"""

import numpy as np


def conv2d_backward(X, W, b, dY, stride, padding):
    """One loop over the kernel offsets ``(i, j)``: offset ``(i, j)`` of every window is the
    strided slice ``Xp[:, i::s, j::s]`` of the padded input (cut to the output's size), so
    ``dW[i, j]`` is that slice's product with ``dY`` summed over the batch and the positions,
    and ``dY W[i, j]^T`` goes back to the same places of the padded input's gradient, whose
    border is then cut off. ``db`` sums ``dY`` over everything but the filters."""
    kh, kw = W.shape[:2]
    OH, OW = dY.shape[1:3]
    Xp = np.pad(X, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    dXp, dW = np.zeros_like(Xp), np.zeros_like(W)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + stride * (OH - 1) + 1, stride)
            cols = slice(j, j + stride * (OW - 1) + 1, stride)
            dW[i, j] = np.einsum("bpqc,bpqf->cf", Xp[:, rows, cols], dY)
            dXp[:, rows, cols] += dY @ W[i, j].T
    H, Wd = X.shape[1:3]
    dX = dXp[:, padding : padding + H, padding : padding + Wd]
    return dX, dW, dY.sum(axis=(0, 1, 2))


def maxpool_backward(X, dY, pool):
    """Window by window: ``argmax`` over the window's ``pool * pool`` values in row-major order
    finds the first maximum of each image and channel, which gets the window's gradient."""
    B, OH, OW, C = dY.shape
    dX = np.zeros_like(X)
    b, c = np.indices((B, C))
    for p in range(OH):
        for q in range(OW):
            window = X[:, p * pool : (p + 1) * pool, q * pool : (q + 1) * pool]
            first = window.reshape(B, pool * pool, C).argmax(axis=1)  # (B, C)
            i, j = np.divmod(first, pool)
            dX[b, p * pool + i, q * pool + j, c] = dY[:, p, q]
    return dX


def batchnorm_backward(X, gamma, dY, eps):
    """With ``g = dY gamma`` and the means over the batch:
    ``dX = s (g - mean(g) - x_hat mean(g x_hat))``, ``s = 1 / sqrt(var + eps)``."""
    mean, var = X.mean(axis=0), X.var(axis=0)
    s = 1 / np.sqrt(var + eps)
    x_hat = (X - mean) * s
    g = dY * gamma
    dX = s * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dX, (dY * x_hat).sum(axis=0), dY.sum(axis=0)


def dropout_backward(dY, mask, rate):
    """``Y = X mask / (1 - rate)``: the same factor per unit goes back."""
    return dY * mask / (1 - rate)


def sigmoid_backward(Z, dA):
    """``sigmoid'(z) = s (1 - s)`` with ``s = sigmoid(z)``."""
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def tanh_backward(Z, dA):
    """``tanh'(z) = 1 - tanh(z)^2``."""
    a = np.tanh(Z)
    return dA * (1 - a * a)


def momentum_step(params, grads, velocity, lr, mu):
    """Sutskever et al. (2013): ``v <- mu v - lr g``, then ``p <- p + v``."""
    velocity = mu * velocity - lr * grads
    return params + velocity, velocity


def adam_step(params, grads, m, v, t, lr, beta1, beta2, eps):
    """Kingma & Ba (2015), Algorithm 1: the moments, their bias correction, the step."""
    m = beta1 * m + (1 - beta1) * grads
    v = beta2 * v + (1 - beta2) * grads**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def layernorm_backward(X, gamma, dY, eps):
    """Batch norm's formula with the means over each row's features (the last axis), and
    ``dgamma``, ``dbeta`` summed over every row (all the other axes)."""
    mean, var = X.mean(axis=-1, keepdims=True), X.var(axis=-1, keepdims=True)
    s = 1 / np.sqrt(var + eps)
    x_hat = (X - mean) * s
    g = dY * gamma
    dX = s * (g - g.mean(axis=-1, keepdims=True) - x_hat * (g * x_hat).mean(axis=-1, keepdims=True))
    rows = tuple(range(X.ndim - 1))
    return dX, (dY * x_hat).sum(axis=rows), dY.sum(axis=rows)


def attention_backward(X, Wq, Wk, Wv, Wo, dY, heads):
    """The forward pass again, keeping ``Q``, ``K``, ``V`` and ``A``, then each step's
    gradient in reverse; the heads are a batch axis, ``(B, heads, T, d)``."""
    B, T, D = X.shape
    d = D // heads

    def split(M):  # (B, T, D) -> (B, heads, T, d): head i holds features [i d, (i + 1) d)
        return M.reshape(B, T, heads, d).transpose(0, 2, 1, 3)

    def merge(M):  # (B, heads, T, d) -> (B*T, D), the heads side by side again
        return M.transpose(0, 2, 1, 3).reshape(B * T, D)

    Q, K, V = split(X @ Wq), split(X @ Wk), split(X @ Wv)
    S = Q @ K.swapaxes(-1, -2) / np.sqrt(d)
    A = np.exp(S - S.max(axis=-1, keepdims=True))
    A /= A.sum(axis=-1, keepdims=True)
    X2, dY2 = X.reshape(B * T, D), dY.reshape(B * T, D)
    dWo = merge(A @ V).T @ dY2
    dO = split((dY2 @ Wo.T).reshape(B, T, D))
    dV = A.swapaxes(-1, -2) @ dO
    dA = dO @ V.swapaxes(-1, -2)
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True)) / np.sqrt(d)
    dQ, dK, dV = merge(dS @ K), merge(dS.swapaxes(-1, -2) @ Q), merge(dV)
    dX = (dQ @ Wq.T + dK @ Wk.T + dV @ Wv.T).reshape(B, T, D)
    return dX, X2.T @ dQ, X2.T @ dK, X2.T @ dV, dWo


def rnn_step_backward(x, h_prev, Wx, Wh, b, dh):
    """``h = tanh(a)``: ``da = dh (1 - h^2)``, then as three dense layers sharing ``da``."""
    h = np.tanh(x @ Wx + h_prev @ Wh + b)
    da = dh * (1 - h * h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
