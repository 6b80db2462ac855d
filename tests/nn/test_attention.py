"""Multi-head self-attention: gradients against finite differences, against a plain loop over
samples and heads, what it keeps for looking inside; and a tiny vision transformer that trains."""

import math

import numpy as np
import pytest

from barenet import BarenetError, NeuralNetwork
from barenet.nn import (
    MultiHeadSelfAttention,
    Residual,
    describe_layers,
    layer_from_config,
    parse_layers,
)
from tests.nn.layer_check import check_layer, standalone

# (tokens, features, heads): one token, one head, one feature per head, many heads...
SHAPES = [(3, 4, 2), (4, 3, 1), (2, 6, 3), (5, 8, 4), (1, 4, 2), (6, 4, 4), (3, 6, 1)]


@pytest.mark.parametrize("tokens, dim, heads", SHAPES)
def test_attention_gradients_match_finite_differences(tokens, dim, heads):
    errors = check_layer(MultiHeadSelfAttention(heads), (tokens, dim), batch=3)
    assert set(errors) == {"X", "Wqkv", "bqkv", "Wo", "bo"}
    assert max(errors.values()) < 1e-6, errors


def test_attention_gradients_with_larger_scores():
    """Weights scaled up so that the softmax is far from uniform (peaked rows)."""
    layer = MultiHeadSelfAttention(2)
    errors = check_layer(layer, (4, 4), batch=2, seed=3)
    assert max(errors.values()) < 1e-6, errors
    assert layer.attention.max() > 0.3  # not all 1/4: the check saw a real softmax


def reference(layer, X):
    """Attention one sample and one head at a time, straight from the formulas."""
    B, T, D = X.shape
    h, d = layer.heads, D // layer.heads
    Y, weights = np.empty_like(X), np.empty((B, h, T, T))
    for b in range(B):
        qkv = X[b] @ layer.Wqkv + layer.bqkv
        q, k, v = qkv[:, :D], qkv[:, D : 2 * D], qkv[:, 2 * D :]
        heads = []
        for i in range(h):
            cols = slice(i * d, (i + 1) * d)
            scores = q[:, cols] @ k[:, cols].T / math.sqrt(d)
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights[b, i] = e / e.sum(axis=1, keepdims=True)
            heads.append(weights[b, i] @ v[:, cols])
        Y[b] = np.concatenate(heads, axis=1) @ layer.Wo + layer.bo
    return Y, weights


@pytest.mark.parametrize("tokens, dim, heads", SHAPES)
def test_attention_is_the_loop_over_samples_and_heads(tokens, dim, heads):
    layer = standalone(MultiHeadSelfAttention(heads), (tokens, dim))
    X = np.random.default_rng(0).normal(size=(4, tokens, dim))
    before = X.copy()
    Y, weights = reference(layer, X)
    np.testing.assert_allclose(layer.forward(X), Y, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.attention, weights, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(X, before)


def test_attention_weights_are_kept_per_sample_and_head():
    layer = standalone(MultiHeadSelfAttention(4), (5, 8), dtype=np.float32)
    X = np.random.default_rng(1).normal(size=(3, 5, 8)).astype(np.float32)
    Y = layer.forward(X)
    assert Y.dtype == np.float32 and Y.shape == (3, 5, 8)
    assert layer.attention.shape == (3, 4, 5, 5) and layer.attention.dtype == np.float32
    assert np.all(layer.attention >= 0)
    np.testing.assert_allclose(layer.attention.sum(axis=-1), 1, rtol=1e-6)
    # the same buffers the next time, for a batch of the same size
    Y2, A2 = layer.forward(X), layer.attention
    assert np.shares_memory(Y, Y2) and np.shares_memory(A2, layer.attention)


def test_attention_without_positions_does_not_know_the_order_of_the_tokens():
    layer = standalone(MultiHeadSelfAttention(2), (5, 4))
    X = np.random.default_rng(2).normal(size=(2, 5, 4))
    order = np.array([3, 0, 4, 1, 2])
    Y = layer.forward(X).copy()
    np.testing.assert_allclose(layer.forward(X[:, order]), Y[:, order], rtol=1e-10)


def test_attention_refuses_a_width_the_heads_do_not_divide():
    with pytest.raises(BarenetError, match="attention with 3 heads needs a token width "
                       "divisible by 3, got 64 features"):  # fmt: skip
        MultiHeadSelfAttention(3).build((17, 64))
    with pytest.raises(BarenetError, match=r"MultiHeadSelfAttention needs token samples"):
        MultiHeadSelfAttention(2).build((28, 28, 1))
    with pytest.raises(BarenetError, match="heads must be >= 1, got 0"):
        MultiHeadSelfAttention(0)


def test_attention_config_and_word():
    layer = MultiHeadSelfAttention(4, init="xavier_normal")
    copy = layer_from_config(layer.config())
    assert type(copy) is MultiHeadSelfAttention and copy.config() == layer.config()
    (word,) = parse_layers("attention4")
    assert (type(word), word.heads) == (MultiHeadSelfAttention, 4)
    assert describe_layers([word]) == "attention4"


def test_attention_in_a_block_in_a_network_is_checked_whole():
    """A pre-norm attention block on a token network, its whole gradient against finite
    differences (the first layer's parameters too)."""
    line = "patch2x4 pos res[layernorm attention2] layernorm tokenmean dense3"
    net = NeuralNetwork.from_layers(parse_layers(line), (4, 4, 1), dtype="float64", seed=0)
    rng = np.random.default_rng(3)
    net.params[...] += rng.normal(0, 0.1, net.params.size)
    X, y = rng.normal(size=(4, 16)), rng.integers(0, 3, 4)
    _, grad = net.loss_and_gradient(X, y)
    numeric = np.empty_like(grad)
    for i in range(net.params.size):
        old = net.params[i]
        net.params[i] = old + 1e-6
        plus = net.loss_and_gradient(X, y)[0]
        net.params[i] = old - 1e-6
        minus = net.loss_and_gradient(X, y)[0]
        net.params[i] = old
        numeric[i] = (plus - minus) / 2e-6
    error = np.linalg.norm(grad - numeric) / (np.linalg.norm(grad) + np.linalg.norm(numeric))
    assert error < 1e-6
    assert isinstance(net.layers[2], Residual) and "layers.2.1.Wqkv" in net.parameter_slices()


def quadrant_images(n, seed):
    """``(n, 8, 8, 1)`` noise with a bright 4x4 square in one quadrant; the label is which."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 0.3, (n, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 4, n)
    for k in range(4):
        i, j = divmod(k, 2)
        X[y == k, 4 * i : 4 * i + 4, 4 * j : 4 * j + 4] += 1.0
    return X, y


TINY_VIT = (
    "patch4x16 cls pos res[layernorm attention2] res[layernorm dense32 gelu dense16] "
    "res[layernorm attention2] res[layernorm dense32 gelu dense16] layernorm token0 dense4"
)


def test_a_tiny_vision_transformer_learns_and_the_same_seed_gives_the_same_weights():
    X, y = quadrant_images(256, 0)
    nets = []
    for _ in range(2):
        net = NeuralNetwork.from_layers(
            parse_layers(TINY_VIT), (8, 8, 1), optimizer="adam", learning_rate=1e-2, seed=5
        )
        before = net.evaluate(X, y)["loss"]
        history = net.train(X, y, epochs=8, batch_size=32, verbose=False)
        assert history["train_loss"][-1] < history["train_loss"][0]
        assert net.evaluate(X, y)["loss"] < 0.5 * before
        nets.append(net)
    assert nets[0].params.tobytes() == nets[1].params.tobytes()
    assert nets[0].describe() == TINY_VIT
