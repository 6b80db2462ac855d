"""Attention and layer norm at a vision transformer's sizes, in float32, against float64
references written straight from the formulas.

The layers lay their work out for speed (attention's scores stored keys first, its Q, K, V and
their gradients as strided views of one buffer; row means as matrix-vector products): these
tests check that layout at the sizes the ViT benchmark runs (17 tokens of 64 features, 4
heads, batches of 32), with batch sizes that change between calls (the buffers are remade),
and with scores large enough to overflow an unstabilised softmax.
"""

import math

import numpy as np
import pytest

from barenet.nn import LayerNorm, MultiHeadSelfAttention
from tests.nn.layer_check import standalone


def attention_reference(Wqkv, bqkv, Wo, bo, heads, X, dY):
    """Forward and backward of multi-head self-attention in float64, one sample and one head
    at a time, straight from the docstring's formulas: ``(Y, A, dX, grads)``; ``grads`` also
    holds ``"max_score"``, the largest scaled score ``|S|``."""
    Wqkv, bqkv, Wo, bo, X, dY = (np.asarray(a, np.float64) for a in (Wqkv, bqkv, Wo, bo, X, dY))
    B, T, D = X.shape
    d = D // heads
    Y, A, dX = np.empty_like(X), np.empty((B, heads, T, T)), np.empty_like(X)
    grads = {"Wqkv": np.zeros_like(Wqkv), "bqkv": np.zeros_like(bqkv),
             "Wo": np.zeros_like(Wo), "bo": np.zeros_like(bo), "max_score": 0.0}  # fmt: skip
    for b in range(B):
        qkv = X[b] @ Wqkv + bqkv
        out, parts = np.empty((T, D)), []
        for i in range(heads):
            cols = slice(i * d, (i + 1) * d)
            q, k, v = (qkv[:, p * D : (p + 1) * D][:, cols] for p in range(3))
            S = q @ k.T / math.sqrt(d)
            grads["max_score"] = max(grads["max_score"], np.abs(S).max())
            e = np.exp(S - S.max(axis=1, keepdims=True))
            A[b, i] = e / e.sum(axis=1, keepdims=True)
            out[:, cols] = A[b, i] @ v
            parts.append((cols, q, k, v))
        Y[b] = out @ Wo + bo
        grads["Wo"] += out.T @ dY[b]
        grads["bo"] += dY[b].sum(axis=0)
        dO, dqkv = dY[b] @ Wo.T, np.empty((T, 3 * D))
        for i, (cols, q, k, v) in enumerate(parts):
            a = A[b, i]
            dA = dO[:, cols] @ v.T
            dS = a * (dA - (dA * a).sum(axis=1, keepdims=True)) / math.sqrt(d)
            for p, grad in enumerate((dS @ k, dS.T @ q, a.T @ dO[:, cols])):
                dqkv[:, p * D : (p + 1) * D][:, cols] = grad
        grads["Wqkv"] += X[b].T @ dqkv
        grads["bqkv"] += dqkv.sum(axis=0)
        dX[b] = dqkv @ Wqkv.T
    return Y, A, dX, grads


def vit_attention(scale=1.0):
    layer = standalone(MultiHeadSelfAttention(4), (17, 64), seed=0, dtype=np.float32)
    layer.Wqkv *= scale
    return layer


@pytest.mark.parametrize("batches", [[32], [32, 7, 32], [1, 3]])
def test_attention_at_vit_size_in_float32_equals_the_float64_formulas(batches):
    layer = vit_attention()
    rng = np.random.default_rng(0)
    for B in batches:  # buffers remade when the batch changes, reused when it comes back
        X = rng.normal(size=(B, 17, 64)).astype(np.float32)
        dY = rng.normal(size=(B, 17, 64)).astype(np.float32)
        before = (X.copy(), dY.copy())
        Y = layer.forward(X, training=True).copy()
        attention = np.array(layer.attention)
        dX = layer.backward(dY.copy()).copy()
        ref_Y, ref_A, ref_dX, ref_grads = attention_reference(
            layer.Wqkv, layer.bqkv, layer.Wo, layer.bo, 4, X, dY
        )
        assert Y.dtype == dX.dtype == np.float32 and attention.shape == (B, 4, 17, 17)
        np.testing.assert_allclose(Y, ref_Y, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(attention, ref_A, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(dX, ref_dX, rtol=1e-4, atol=1e-4)
        for name in ("Wqkv", "bqkv", "Wo", "bo"):
            expected = ref_grads[name]
            scale = np.abs(expected).max()
            np.testing.assert_allclose(layer.grads[name], expected, atol=1e-5 * scale,
                                       err_msg=name)  # fmt: skip
        np.testing.assert_array_equal(X, before[0])  # the caller's arrays are left alone
        np.testing.assert_array_equal(dY, before[1])


def test_attention_with_huge_scores_stays_finite_and_exact():
    """Scores in the thousands: exp would overflow without the softmax's shift by each row's
    maximum, and rows whose scores all lie far below another row's must not vanish."""
    layer = vit_attention(scale=30.0)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4, 17, 64)).astype(np.float32)
    X[:, 3] *= 0.01  # a token with small scores beside tokens with huge ones
    dY = rng.normal(size=(4, 17, 64)).astype(np.float32)
    Y = layer.forward(X, training=True).copy()
    dX = layer.backward(dY.copy())
    ref_Y, ref_A, _, ref = attention_reference(layer.Wqkv, layer.bqkv, layer.Wo, layer.bo, 4, X, dY)
    assert ref["max_score"] > 1000  # the test saw scores that would overflow exp in float32
    assert np.isfinite(Y).all() and np.isfinite(dX).all()
    np.testing.assert_allclose(layer.attention.sum(axis=-1), 1, rtol=1e-5)
    np.testing.assert_allclose(layer.attention, ref_A, atol=1e-4)
    np.testing.assert_allclose(Y, ref_Y, rtol=1e-3, atol=1e-3 * np.abs(ref_Y).max())


def test_attention_weights_are_rows_over_the_keys():
    """``attention[b, i, t]`` is query ``t``'s distribution over the keys: a token equal to
    no other (its key far along the query's direction) takes the weight of every query."""
    layer = standalone(MultiHeadSelfAttention(1), (3, 2), dtype=np.float64)
    layer.Wqkv[...] = 0
    layer.bqkv[...] = 0
    layer.Wqkv[0, 0] = 1.0  # the query of every token: its first feature
    layer.Wqkv[1, 2] = 1.0  # its key: its second feature
    X = np.array([[[1.0, 0.0], [1.0, 50.0], [1.0, 0.0]]])
    layer.forward(X)
    np.testing.assert_allclose(layer.attention[0, 0, :, 1], 1.0, atol=1e-12)
    np.testing.assert_allclose(layer.attention[0, 0].sum(axis=1), 1.0)


@pytest.mark.parametrize("offset", [0.0, 1e3])
def test_layer_norm_at_vit_size_in_float32_equals_the_float64_formulas(offset):
    """Rows far from zero (``offset``) too: the means come from matrix-vector products."""
    layer = standalone(LayerNorm(), (17, 64), dtype=np.float32)
    rng = np.random.default_rng(2)
    for B in (32, 5):
        X = (rng.normal(size=(B, 17, 64)) + offset).astype(np.float32)
        dY = rng.normal(size=(B, 17, 64)).astype(np.float32)
        Y = layer.forward(X, training=True).copy()
        dX = layer.backward(dY.copy()).copy()
        x, g = X.astype(np.float64), dY.astype(np.float64)
        x_hat = (x - x.mean(axis=-1, keepdims=True)) / np.sqrt(x.var(axis=-1, keepdims=True)
                                                               + layer.eps)  # fmt: skip
        gamma, beta = layer.gamma.astype(np.float64), layer.beta.astype(np.float64)
        np.testing.assert_allclose(Y, gamma * x_hat + beta, rtol=1e-4, atol=1e-4)
        gg = g * gamma
        s = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + layer.eps)
        expected = s * (gg - gg.mean(axis=-1, keepdims=True)
                        - x_hat * (gg * x_hat).mean(axis=-1, keepdims=True))  # fmt: skip
        np.testing.assert_allclose(dX, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())
        np.testing.assert_allclose(layer.dgamma, (g * x_hat).sum(axis=(0, 1)), rtol=1e-3,
                                   atol=1e-3)  # fmt: skip
        np.testing.assert_allclose(layer.dbeta, g.sum(axis=(0, 1)), rtol=1e-4, atol=1e-3)
