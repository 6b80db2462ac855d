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
      each one's columns head after head), seen as ``Q, K, V (B, h, T, d)``;
    - per sample and head: ``S = Q K^T / sqrt(d)`` ``(T, T)``, ``A = softmax(S)`` over each
      row (the keys), ``O = A V`` ``(T, d)``;
    - the heads' outputs side by side, ``O2 (B*T, D)``, and ``Y2 = O2 Wo + bo``, ``Wo (D, D)``.

    ``self.attention`` holds the last forward's ``A (B, h, T, T)``: row ``t`` says how much
    token ``t`` took from each token (a view of a work buffer, overwritten by the next forward:
    copy it to keep it).

    Backward, each step's gradient in reverse, with batched matrix products over ``(B, h)``:
    ``dWo = O2^T dY2``, ``dbo = sum of the rows of dY2``, ``dO2 = dY2 Wo^T``; ``dV = A^T dO``,
    ``dA = dO V^T``; through the softmax, row by row, ``dS = A * (dA - sum_s(dA * A))``; through
    the scaling and ``S = Q K^T``, ``dQ = dS K / sqrt(d)``, ``dK = dS^T Q / sqrt(d)``; and as in
    :class:`~barenet.nn.layers.Dense`, with ``dQKV = [dQ dK dV]`` as ``(B*T, 3D)``:
    ``dWqkv = X2^T dQKV``, ``dbqkv = sum of its rows``, ``dX = dQKV Wqkv^T``.

    How it is laid out, for speed (the products are tiny and many: ``B*h`` of them, ``T x d``):
    ``Q``, ``K``, ``V`` and ``dQ``, ``dK``, ``dV`` are strided views of the ``(B*T, 3D)`` rows,
    which the matrix products read and write as they are (no copies). The scores are stored
    transposed, keys first, ``S^T`` in a ``(T, B, h, T)`` buffer (key ``s``, then sample, head
    and query ``t``): each key's scores for all queries are one long row, so the softmax's max
    and sum over the keys are sums of ``T`` long rows rather than ``B*h*T`` sums of ``T``
    numbers, which NumPy does ten times slower. Each ``S^T`` block is still a plain matrix (rows
    ``B*h*T`` apart) that the products read and write in place; ``self.attention`` is its view
    in the ``(B, h, T, T)`` order.
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
        axis (a view: each ``(T, d)`` block has its rows ``3D`` apart)."""
        T, h, d = self.input_shape[0], self.heads, self.head_dim
        return rows.reshape(B, T, 3, h, d).transpose(2, 0, 3, 1, 4)

    def _scores(self, name, B, dtype):
        """A ``(T, B, h, T)`` buffer for ``S^T`` (keys first) and its view ``(B, h, s, t)``
        holding each sample's and head's ``S^T`` block."""
        T = self.input_shape[0]
        St = self._buffer(name, (T, B, self.heads, T), dtype)
        return St, St.transpose(1, 2, 0, 3)

    def forward(self, X, training=False):
        B, (T, D), h, d = len(X), self.input_shape, self.heads, self.head_dim
        dtype = self.Wqkv.dtype
        self.X2 = X.reshape(B * T, D)
        qkv = self.qkv = self._buffer("_qkv", (B * T, 3 * D), dtype)
        # the scaled queries, transposed: (d, T) blocks, contiguous for the product below
        Qt = self.Qt = self._buffer("_Qt", (B, h, d, T), dtype)
        St, At = self._scores("_St", B, dtype)  # At (B, h, s, t) = A^T, block by block
        row_max = self._buffer("_row_max", (B, h, T), dtype)  # per query: over the keys
        O2 = self.O2 = self._buffer("_O2", (B * T, D), dtype)
        Y = self._buffer("_Y", (B, T, D), dtype)
        # --8<-- [start:attention_forward]
        np.matmul(self.X2, self.Wqkv, out=qkv)
        qkv += self.bqkv
        Q, K, V = self._split(qkv, B)
        # 1/sqrt(d) on the queries: T*d products rather than T*T
        np.multiply(Q.swapaxes(-1, -2), self.scale, out=Qt)
        np.matmul(K, Qt, out=At)  # scores S^T = K Q^T / sqrt(d), key s by query t
        # softmax over the keys (axis 0 of St), safe from overflow
        St -= np.maximum.reduce(St, axis=0, out=row_max)
        np.exp(St, out=St)
        sums = np.add.reduce(St, axis=0, out=row_max)
        St *= np.reciprocal(sums, out=sums)
        self.attention = St.transpose(1, 2, 3, 0)  # A (B, h, t, s)
        # O = A V, written straight into the heads' columns of O2 (B, T, h, d)
        np.matmul(self.attention, V, out=O2.reshape(B, T, h, d).swapaxes(1, 2))
        np.matmul(O2, self.Wo, out=Y.reshape(B * T, D))
        Y += self.bo
        # --8<-- [end:attention_forward]
        return Y

    def backward(self, dY):
        B, (T, D), h, d = len(dY), self.input_shape, self.heads, self.head_dim
        St, At = self._scores("_St", B, dY.dtype)
        Q, K, V = self._split(self.qkv, B)
        dY2 = dY.reshape(B * T, D)
        dO2 = self._buffer("_dO2", (B * T, D), dY.dtype)
        dOt = self._buffer("_dOt", (B, h, d, T), dY.dtype)
        dSt, dAt = self._scores("_dSt", B, dY.dtype)
        product = self._buffer("_product", St.shape, dY.dtype)
        row_sum = self._buffer("_row_sum", St.shape[1:], dY.dtype)
        dqkv = self._buffer("_dqkv", (B * T, 3 * D), dY.dtype)
        dQ, dK, dV = self._split(dqkv, B)
        ones = self._buffer("_ones", (B * T,), dY.dtype)
        ones[...] = 1
        # --8<-- [start:attention_backward]
        np.matmul(self.O2.T, dY2, out=self.dWo)
        np.matmul(ones, dY2, out=self.dbo)  # the column sums, as in Dense
        np.matmul(dY2, self.Wo.T, out=dO2)
        dO = dO2.reshape(B, T, h, d).swapaxes(1, 2)  # (B, h, T, d), a view
        np.matmul(At, dO, out=dV)  # dV = A^T dO
        np.copyto(dOt, dO.swapaxes(-1, -2))  # (d, T) blocks, contiguous for the product
        np.matmul(V, dOt, out=dAt)  # dA^T = V dO^T, keys first as St
        # softmax: dS = A * (dA - sum over keys of dA * A), query by query (into dSt)
        dSt -= np.add.reduce(np.multiply(dSt, St, out=product), axis=0, out=row_sum)
        dSt *= St
        dSt *= self.scale  # the 1/sqrt(d) of S = Q K^T / sqrt(d), for dQ and dK at once
        np.matmul(dAt.swapaxes(-1, -2), K, out=dQ)  # dQ = dS K / sqrt(d)
        np.matmul(dAt, Q, out=dK)  # dK = dS^T Q / sqrt(d)
        np.matmul(self.X2.T, dqkv, out=self.dWqkv)
        np.matmul(ones, dqkv, out=self.dbqkv)
        if not self.input_grad:
            return None
        dX = self._buffer("_dX", (B, T, D), dY.dtype)
        np.matmul(dqkv, self.Wqkv.T, out=dX.reshape(B * T, D))
        # --8<-- [end:attention_backward]
        return dX

    def config(self):
        return {"kind": self.kind, "heads": self.heads, "init": self.init}
