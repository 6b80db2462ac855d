"""Multi-head self-attention: every token looks at every other and takes a weighted mix.

The heart of a transformer. Each token ``x_t`` of a sample ``(tokens, dim)`` asks a question
(its query ``q_t``), offers a label (its key ``k_t``) and a content (its value ``v_t``), three
linear maps of it. Token ``t`` then receives the values of all tokens, weighted by how well its
query matches their keys: ``softmax over s of q_t . k_s / sqrt(d)``. Several heads do this side
by side on slices of the features, each free to attend to something else.
"""

import math

import numpy as np

from barenet import validation as check
from barenet.errors import BarenetError
from barenet.nn.init import get_initializer
from barenet.nn.layers import Layer
from barenet.nn.tokens import token_shape


class MultiHeadSelfAttention(Layer):
    """Scaled dot-product self-attention with ``h = heads`` heads on ``X (B, T, D)``.

    Forward, with ``d = D / h`` features per head and the rows of ``X2 = X.reshape(B*T, D)``:

    - ``[Q K V] = X2 Wqkv + bqkv`` with ``Wqkv (D, 3D)`` (the three projections side by side,
      each one's columns head after head), split into ``Q, K, V (B, h, T, d)``;
    - per sample and head: ``S = Q K^T / sqrt(d)`` ``(T, T)``, ``A = softmax(S)`` over each
      row (the keys), ``O = A V`` ``(T, d)``;
    - the heads' outputs side by side, ``O2 (B*T, D)``, and ``Y2 = O2 Wo + bo``, ``Wo (D, D)``.

    ``self.attention`` holds the last forward's ``A (B, h, T, T)``: row ``t`` says how much
    token ``t`` took from each token (a work buffer, overwritten by the next forward: copy it to
    keep it).

    Backward, each step's gradient in reverse, with batched matrix products over ``(B, h)``:
    ``dWo = O2^T dY2``, ``dbo = sum of the rows of dY2``, ``dO2 = dY2 Wo^T``; ``dV = A^T dO``,
    ``dA = dO V^T``; through the softmax, row by row, ``dS = A * (dA - sum_s(dA * A))``; through
    the scaling and ``S = Q K^T``, ``dQ = dS K / sqrt(d)``, ``dK = dS^T Q / sqrt(d)``; and as in
    :class:`~barenet.nn.layers.Dense`, with ``dQKV = [dQ dK dV]`` as ``(B*T, 3D)``:
    ``dWqkv = X2^T dQKV``, ``dbqkv = sum of its rows``, ``dX = dQKV Wqkv^T``.
    """

    kind = "self_attention"

    def __init__(self, heads, init="xavier"):
        self.heads = check.positive_int("heads", heads)
        self.init = init
        self._init_fn = get_initializer(init)

    def build(self, input_shape):
        _, D = token_shape(self, input_shape)
        if D % self.heads:
            raise BarenetError(
                f"attention with {self.heads} heads needs a token width divisible by "
                f"{self.heads}, got {D} features"
            )
        self.dim, self.head_dim = D, D // self.heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        return super().build(input_shape)

    def param_shapes(self):
        D = self.dim
        return {
            "Wqkv": ((D, 3 * D), True),
            "bqkv": ((3 * D,), False),
            "Wo": ((D, D), True),
            "bo": ((D,), False),
        }

    def bind(self, params, grads):
        super().bind(params, grads)
        self.Wqkv, self.bqkv, self.Wo, self.bo = (params[k] for k in ("Wqkv", "bqkv", "Wo", "bo"))
        self.dWqkv, self.dbqkv, self.dWo, self.dbo = (
            grads[k] for k in ("Wqkv", "bqkv", "Wo", "bo")
        )

    def initialize(self, rng):
        D = self.dim
        for i in range(3):  # query, key, value: each a (D, D) map of its own
            self.Wqkv[:, i * D : (i + 1) * D] = self._init_fn(rng, D, D, self.Wqkv.dtype)
        self.Wo[...] = self._init_fn(rng, D, D, self.Wo.dtype)
        self.bqkv[...] = 0
        self.bo[...] = 0

    def _split(self, rows, B):
        """``(B*T, 3D)`` rows seen as ``(3, B, h, T, d)``: Q, K, V with the heads as a batch
        axis (a view; swapping the axes back is the inverse)."""
        T, h, d = self.input_shape[0], self.heads, self.head_dim
        return rows.reshape(B, T, 3, h, d).transpose(2, 0, 3, 1, 4)

    def forward(self, X, training=False):
        B, (T, D), h, d = len(X), self.input_shape, self.heads, self.head_dim
        dtype = self.Wqkv.dtype
        self.X2 = X.reshape(B * T, D)
        qkv = self._buffer("_qkv", (B * T, 3 * D), dtype)
        self.qkv_heads = qkv_heads = self._buffer("_qkv_heads", (3, B, h, T, d), dtype)
        A = self.attention = self._buffer("_A", (B, h, T, T), dtype)
        O2 = self.O2 = self._buffer("_O2", (B * T, D), dtype)
        Y = self._buffer("_Y", (B, T, D), dtype)
        # --8<-- [start:attention_forward]
        np.matmul(self.X2, self.Wqkv, out=qkv)
        qkv += self.bqkv
        np.copyto(qkv_heads, self._split(qkv, B))  # contiguous (T, d) blocks for the products
        Q, K, V = qkv_heads
        Q *= self.scale  # 1/sqrt(d) on the queries: T*d products rather than T*T
        np.matmul(Q, K.swapaxes(-1, -2), out=A)  # scores S
        A -= A.max(axis=-1, keepdims=True)  # softmax over the keys, safe from overflow
        np.exp(A, out=A)
        A /= A.sum(axis=-1, keepdims=True)
        # O = A V, written straight into the heads' columns of O2 (B, T, h, d)
        np.matmul(A, V, out=O2.reshape(B, T, h, d).swapaxes(1, 2))
        np.matmul(O2, self.Wo, out=Y.reshape(B * T, D))
        Y += self.bo
        # --8<-- [end:attention_forward]
        return Y

    def backward(self, dY):
        B, (T, D), h, d = len(dY), self.input_shape, self.heads, self.head_dim
        A, (Q, K, V) = self.attention, self.qkv_heads
        dY2 = dY.reshape(B * T, D)
        dO2 = self._buffer("_dO2", (B * T, D), dY.dtype)
        dA = self._buffer("_dA", A.shape, dY.dtype)
        dqkv_heads = self._buffer("_dqkv_heads", self.qkv_heads.shape, dY.dtype)
        dQ, dK, dV = dqkv_heads
        dqkv = self._buffer("_dqkv", (B * T, 3 * D), dY.dtype)
        # --8<-- [start:attention_backward]
        np.matmul(self.O2.T, dY2, out=self.dWo)
        np.add.reduce(dY2, axis=0, out=self.dbo)
        np.matmul(dY2, self.Wo.T, out=dO2)
        dO = dO2.reshape(B, T, h, d).swapaxes(1, 2)  # (B, h, T, d), a view
        np.matmul(A.swapaxes(-1, -2), dO, out=dV)
        np.matmul(dO, V.swapaxes(-1, -2), out=dA)
        # softmax: dS = A * (dA - sum over keys of dA * A), row by row (into dA)
        dA -= np.einsum("bhts,bhts->bht", dA, A)[..., None]
        dA *= A
        np.matmul(dA, K, out=dQ)
        dQ *= self.scale
        np.matmul(dA.swapaxes(-1, -2), Q, out=dK)  # Q holds the scaled queries already
        np.copyto(self._split(dqkv, B), dqkv_heads)
        np.matmul(self.X2.T, dqkv, out=self.dWqkv)
        np.add.reduce(dqkv, axis=0, out=self.dbqkv)
        if not self.input_grad:
            return None
        dX = self._buffer("_dX", (B, T, D), dY.dtype)
        np.matmul(dqkv, self.Wqkv.T, out=dX.reshape(B * T, D))
        # --8<-- [end:attention_backward]
        return dX

    def config(self):
        return {"kind": self.kind, "heads": self.heads, "init": self.init}
