"""Layer normalisation: each sample's features rescaled on their own, the transformer's norm.

Batch normalisation (:class:`barenet.nn.layers.BatchNorm`) takes its statistics over the batch;
layer normalisation takes them over the features of one row (one token of one sample), so it
computes the same in training and prediction and does not care about the batch size.
"""

import numpy as np

from barenet import validation as check
from barenet.nn.layers import Layer


class LayerNorm(Layer):
    """Layer normalisation (Ba, Kiros & Hinton 2016) over the last axis of any input shape.

    Each row ``x`` of ``D`` features (a sample's features, or one token of ``(batch, tokens,
    D)``) is centred and scaled by its own statistics, then given a learned scale and shift:

    ``x_hat = (x - mean(x)) * s`` with ``s = 1 / sqrt(var(x) + eps)`` (biased variance), and
    ``y = gamma * x_hat + beta``, with ``gamma``, ``beta`` of shape ``(D,)``.

    Backward, with ``dY = dL/dY`` and ``g = dY * gamma`` on a row: ``dgamma = sum over rows of
    dY * x_hat``, ``dbeta = sum over rows of dY``, and
    ``dX = s * (g - mean(g) - x_hat * mean(g * x_hat))``: the Jacobian of ``x_hat`` is
    ``s (I - 1/D - x_hat x_hat^T / D)`` (the mean takes ``1/D`` of each change, the variance
    the part along ``x_hat``), which is symmetric, so ``dL/dx`` is that matrix times ``g``.
    """

    kind = "layer_norm"

    def __init__(self, eps=1e-5):
        self.eps = check.positive_float("layer norm eps", eps)

    def build(self, input_shape):
        self.n = int(input_shape[-1])
        return super().build(input_shape)

    def param_shapes(self):
        return {"gamma": ((self.n,), False), "beta": ((self.n,), False)}

    def bind(self, params, grads):
        super().bind(params, grads)
        self.gamma, self.beta = params["gamma"], params["beta"]
        self.dgamma, self.dbeta = grads["gamma"], grads["beta"]

    def initialize(self, rng):
        self.gamma[...] = 1
        self.beta[...] = 0

    def forward(self, X, training=False):
        rows = X.reshape(-1, self.n)  # one row per sample, or per token
        x_hat = self.x_hat = self._buffer("_x_hat", rows.shape, rows.dtype)
        Y = self._buffer("_Y", rows.shape, rows.dtype)
        s = self.inv_std = self._buffer("_inv_std", (len(rows), 1), rows.dtype)
        mean = self._buffer("_mean", (len(rows), 1), rows.dtype)
        by_n = self._means(rows.dtype)
        # --8<-- [start:layernorm_forward]
        np.matmul(rows, by_n, out=mean)  # each row's mean, as a product with (1/D, ..., 1/D)
        np.subtract(rows, mean, out=x_hat)  # centred, scaled below
        np.matmul(np.multiply(x_hat, x_hat, out=Y), by_n, out=s)  # variance
        s += self.eps
        np.sqrt(s, out=s)
        np.reciprocal(s, out=s)
        x_hat *= s
        np.multiply(x_hat, self.gamma, out=Y)
        Y += self.beta
        # --8<-- [end:layernorm_forward]
        return Y.reshape(X.shape)

    def backward(self, dY):
        rows, x_hat = dY.reshape(-1, self.n), self.x_hat
        product = self._buffer("_product", rows.shape, rows.dtype)
        ones = self._buffer("_ones", (len(rows),), rows.dtype)
        ones[...] = 1
        # --8<-- [start:layernorm_backward]
        # sums over the rows as products with (1, ..., 1), as in Dense
        np.matmul(ones, np.multiply(rows, x_hat, out=product), out=self.dgamma)
        np.matmul(ones, rows, out=self.dbeta)
        if not self.input_grad:
            return None
        g = dX = np.multiply(rows, self.gamma, out=self._buffer("_dX", rows.shape, rows.dtype))
        by_n, mean = self._means(rows.dtype), self._buffer("_mean", (len(rows), 1), rows.dtype)
        mean_g_x_hat = self._buffer("_mean_g_x_hat", (len(rows), 1), rows.dtype)
        np.matmul(np.multiply(g, x_hat, out=product), by_n, out=mean_g_x_hat)
        g -= np.matmul(g, by_n, out=mean)
        dX -= np.multiply(x_hat, mean_g_x_hat, out=product)
        dX *= self.inv_std
        # --8<-- [end:layernorm_backward]
        return dX.reshape(dY.shape)

    def _means(self, dtype):
        """``(D, 1)`` column of ``1/D``: a row's mean is its product with it (a matrix-vector
        product, several times faster than NumPy's mean over short rows)."""
        by_n = self._buffer("_by_n", (self.n, 1), dtype)
        by_n[...] = 1.0 / self.n
        return by_n

    def config(self):
        return {"kind": self.kind, "eps": self.eps}
