"""Tokens: PatchEmbed, ClassToken, PositionEmbedding, TakeToken, TokenMean, and Dense acting on
the last axis of ``(batch, tokens, features)``."""

import numpy as np
import pytest

from barenet import BarenetError, NeuralNetwork
from barenet.nn import (
    ClassToken,
    Conv2D,
    Dense,
    PatchEmbed,
    PositionEmbedding,
    TakeToken,
    TokenMean,
    describe_layers,
    layer_from_config,
    parse_layers,
)
from tests.nn.layer_check import check_layer, standalone

# (factory, per-sample input shape)
LAYERS = {
    "patch2_4x6x2": (lambda: PatchEmbed(2, 3), (4, 6, 2)),
    "patch3_6x3x1": (lambda: PatchEmbed(3, 4), (6, 3, 1)),
    "patch1": (lambda: PatchEmbed(1, 2), (2, 3, 2)),
    "patch_whole_image": (lambda: PatchEmbed(4, 5), (4, 4, 1)),
    "patch_he": (lambda: PatchEmbed(2, 2, init="he"), (2, 4, 3)),
    "position_3x4": (lambda: PositionEmbedding(), (3, 4)),
    "position_1x5": (lambda: PositionEmbedding(), (1, 5)),
    "class_token_3x4": (lambda: ClassToken(), (3, 4)),
    "class_token_1x2": (lambda: ClassToken(), (1, 2)),
    "take_first": (lambda: TakeToken(0), (3, 4)),
    "take_last": (lambda: TakeToken(2), (3, 4)),
    "token_mean_3x4": (lambda: TokenMean(), (3, 4)),
    "token_mean_5x2": (lambda: TokenMean(), (5, 2)),
    "dense_tokens_4x5": (lambda: Dense(3), (4, 5)),
    "dense_tokens_1x3": (lambda: Dense(6, init="he"), (1, 3)),
    "dense_tokens_6x2": (lambda: Dense(2), (6, 2)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_token_layer_gradients_match_finite_differences(name):
    make, shape = LAYERS[name]
    errors = check_layer(make(), shape, batch=3)
    assert "X" in errors and max(errors.values()) < 1e-6, errors


def test_patches_are_cut_row_by_row_in_the_order_of_the_kernel():
    layer = standalone(PatchEmbed(2, 3), (4, 6, 2))
    X = np.random.default_rng(0).normal(size=(2, 4, 6, 2))
    Y = layer.forward(X)
    assert Y.shape == (2, 6, 3) and layer.output_shape == (6, 3)
    W2 = layer.W.reshape(-1, 3)
    for t in range(6):  # token t is patch (t // 3, t % 3), flattened (row, column, channel)
        i, j = divmod(t, 3)
        patch = X[:, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2, :].reshape(2, -1)
        np.testing.assert_allclose(Y[:, t], patch @ W2 + layer.b, rtol=1e-12)


def test_patch_embedding_is_a_convolution_with_stride_p():
    patch = standalone(PatchEmbed(4, 5), (8, 12, 3))
    conv = standalone(Conv2D(5, 4, stride=4), (8, 12, 3))
    conv.W[...], conv.b[...] = patch.W, patch.b
    X = np.random.default_rng(1).normal(size=(2, 8, 12, 3))
    Y = conv.forward(X)
    np.testing.assert_allclose(patch.forward(X), Y.reshape(2, 6, 5), rtol=1e-12)
    dY = np.random.default_rng(2).normal(size=Y.shape)
    np.testing.assert_allclose(
        patch.backward(dY.reshape(2, 6, 5).copy()), conv.backward(dY.copy()), rtol=1e-12
    )
    np.testing.assert_allclose(patch.dW, conv.dW, rtol=1e-12)
    np.testing.assert_allclose(patch.db, conv.db, rtol=1e-12)


def test_patches_that_do_not_tile_the_image_are_refused():
    with pytest.raises(BarenetError, match="patches of 3x3 do not tile 28x28 images"):
        PatchEmbed(3, 16).build((28, 28, 1))
    with pytest.raises(BarenetError, match=r"needs image samples .* got shape \(784,\)"):
        PatchEmbed(4, 16).build((784,))
    with pytest.raises(BarenetError, match="patch_size must be >= 1, got 0"):
        PatchEmbed(0, 16)


def test_class_token_goes_first_and_take_token_takes_it_back():
    cls, take = standalone(ClassToken(), (3, 4)), standalone(TakeToken(0), (4, 4))
    X = np.random.default_rng(3).normal(size=(2, 3, 4))
    Y = cls.forward(X)
    assert Y.shape == (2, 4, 4)
    np.testing.assert_array_equal(Y[:, 0], np.broadcast_to(cls.token, (2, 4)))
    np.testing.assert_array_equal(Y[:, 1:], X)
    out = take.forward(Y)
    np.testing.assert_array_equal(out, Y[:, 0])
    out[...] = 0  # the next layer may work in place: the tokens are untouched
    assert np.all(Y[:, 0] == cls.token)


def test_position_embedding_adds_one_vector_per_position_drawn_from_the_seed():
    a, b = standalone(PositionEmbedding(), (50, 64)), standalone(PositionEmbedding(), (50, 64))
    np.testing.assert_array_equal(a.P, b.P)
    fresh = PositionEmbedding()
    fresh.build((50, 64))
    fresh.bind({"P": np.zeros((50, 64))}, {"P": np.zeros((50, 64))})
    fresh.initialize(np.random.default_rng(0))
    assert 0.015 < fresh.P.std() < 0.025 and abs(fresh.P.mean()) < 0.002
    X = np.random.default_rng(4).normal(size=(3, 50, 64))
    before = X.copy()
    np.testing.assert_allclose(a.forward(X), X + a.P, rtol=1e-12)
    np.testing.assert_array_equal(X, before)


def test_token_mean_averages_the_tokens():
    layer = standalone(TokenMean(), (5, 3))
    X = np.random.default_rng(5).normal(size=(2, 5, 3))
    np.testing.assert_allclose(layer.forward(X), X.mean(axis=1), rtol=1e-12)
    assert layer.output_shape == (3,)


@pytest.mark.parametrize(
    "make, shape, message",
    [
        (lambda: TakeToken(3), (3, 4), "cannot take token 3 of samples with 3 tokens"),
        (lambda: TokenMean(), (28, 28, 1), r"TokenMean needs token samples .*patch4x64"),
        (lambda: ClassToken(), (784,), r"ClassToken needs token samples \(tokens, features\)"),
        (lambda: PositionEmbedding(), (2, 2, 2), "PositionEmbedding needs token samples"),
    ],
)
def test_token_layers_refuse_the_wrong_shapes_clearly(make, shape, message):
    with pytest.raises(BarenetError, match=message):
        make().build(shape)


def test_dense_on_tokens_is_dense_on_each_token_without_a_copy():
    tokens, flat = standalone(Dense(3), (4, 5)), standalone(Dense(3), (5,))
    X = np.random.default_rng(6).normal(size=(2, 4, 5))
    dY = np.random.default_rng(7).normal(size=(2, 4, 3))
    Y = tokens.forward(X)
    assert Y.shape == (2, 4, 3) and tokens.output_shape == (4, 3)
    assert np.shares_memory(tokens.X, X)  # a view of the input, no copy
    np.testing.assert_allclose(Y.reshape(-1, 3), flat.forward(X.reshape(-1, 5)), rtol=1e-12)
    dX = tokens.backward(dY.copy())
    assert dX.shape == X.shape
    np.testing.assert_allclose(dX.reshape(-1, 5), flat.backward(dY.reshape(-1, 3)), rtol=1e-12)
    np.testing.assert_allclose(tokens.dW, flat.dW, rtol=1e-12)
    np.testing.assert_allclose(tokens.db, flat.db, rtol=1e-12)


def test_dense_on_flat_rows_computes_exactly_what_it_did():
    """Y = X W + b, dW = X^T dY, db = 1^T dY, dX = dY W^T, in float32, bit for bit."""
    rng = np.random.default_rng(8)
    layer = standalone(Dense(16), (30,), dtype=np.float32)
    X = rng.normal(size=(64, 30)).astype(np.float32)
    dY = rng.normal(size=(64, 16)).astype(np.float32)
    Y = layer.forward(X)
    assert Y.shape == (64, 16) and layer.X is not None
    expected = np.matmul(X, layer.W)
    expected += layer.b
    assert Y.tobytes() == expected.tobytes()
    dX = layer.backward(dY)
    assert dX.shape == (64, 30)
    assert dX.tobytes() == np.matmul(dY, layer.W.T).tobytes()
    assert layer.dW.tobytes() == np.matmul(X.T, dY).tobytes()
    assert layer.db.tobytes() == np.matmul(np.ones(64, np.float32), dY).tobytes()


@pytest.mark.parametrize(
    "layer",
    [PatchEmbed(4, 64, init="he"), PositionEmbedding(), ClassToken(), TakeToken(2), TokenMean()],
    ids=lambda la: la.kind,
)
def test_token_layers_are_rebuilt_from_their_config(layer):
    copy = layer_from_config(layer.config())
    assert type(copy) is type(layer) and copy.config() == layer.config()


def test_token_words():
    line = "patch4x64 cls pos layernorm token0 dense10"
    layers = parse_layers(line)
    assert [type(la) for la in layers[:3]] == [PatchEmbed, ClassToken, PositionEmbedding]
    assert (layers[0].patch_size, layers[0].dim, layers[4].index) == (4, 64, 0)
    assert describe_layers(layers) == line
    assert describe_layers(parse_layers("patch7x16 pos tokenmean dense10")) == (
        "patch7x16 pos tokenmean dense10"
    )
    for word in ("patch4", "patch_embed", "attention", "token"):
        with pytest.raises(BarenetError, match=f"unknown layer '{word}'"):
            parse_layers(word)


def test_a_token_network_pools_before_its_head():
    net = NeuralNetwork.from_layers(parse_layers("patch4x8 pos tokenmean dense3"), (8, 8, 1))
    assert net.forward(np.zeros((2, 64), np.float32)).shape == (2, 3)
    with pytest.raises(BarenetError, match="the last layer must give one score per class"):
        NeuralNetwork.from_layers(parse_layers("patch4x8 pos dense3"), (8, 8, 1))
