"""Residual blocks: gradients (shortcuts, blocks inside blocks), parameters in the network's flat
buffers, model files, the layer-string syntax, and a tiny ResNet that trains."""

import pickle

import numpy as np
import pytest

from barenet import BarenetError, NeuralNetwork, load_model
from barenet.nn import (
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    GlobalAvgPool2D,
    LayerNorm,
    MultiHeadSelfAttention,
    ReLU,
    Residual,
    Tanh,
    describe_layers,
    layer_from_config,
    parse_layers,
)
from barenet.nn.stack import takes_images
from barenet.train.parallel import ParallelStep
from tests.nn.layer_check import check_layer, numeric_input_gradient, standalone
from tests.nn.test_attention import quadrant_images

# (factory, per-sample input shape, training mode)
BLOCKS = {
    "dense_identity": (lambda: Residual([Dense(4), ReLU(), Dense(4)]), (4,), True),
    "dense_shortcut": (lambda: Residual([Dense(3), Tanh()], shortcut=Dense(3)), (5,), True),
    "batch_norm_inside": (
        lambda: Residual([Dense(4), ReLU(), BatchNorm(), Dense(4)]),
        (4,),
        True,
    ),
    "dropout_inside": (lambda: Residual([Dense(5), Dropout(0.4), Dense(5)]), (5,), True),
    "in_place_activation_first": (lambda: Residual([Tanh(), Dense(4)]), (4,), True),
    "conv_identity": (
        lambda: Residual([Conv2D(2, 3, padding="same"), ReLU(), Conv2D(2, 3, padding="same")]),
        (4, 4, 2),
        True,
    ),
    # Prediction mode: in training, batch norm cancels the bias of the convolution before it,
    # whose gradient is then zero (and its relative error meaningless).
    "resnet_block_downsampling": (
        lambda: Residual(
            [
                Conv2D(4, 3, stride=2, padding=1),
                BatchNorm(),
                ReLU(),
                Conv2D(4, 3, padding="same"),
                BatchNorm(),
            ],
            shortcut=Conv2D(4, 1, stride=2),
        ),
        (4, 4, 2),
        False,
    ),
    "nested": (
        lambda: Residual([Dense(4), Residual([LayerNorm(), Dense(4), Tanh()]), Dense(4)]),
        (4,),
        True,
    ),
    "nested_twice_with_shortcuts": (
        lambda: Residual(
            [Dense(3), Residual([Residual([Dense(3)]), Dense(2)], shortcut=Dense(2))],
            shortcut=Dense(2),
        ),
        (4,),
        True,
    ),
    "attention_block_on_tokens": (
        lambda: Residual([LayerNorm(), MultiHeadSelfAttention(2)]),
        (3, 4),
        True,
    ),
    "mlp_block_on_tokens": (
        lambda: Residual([LayerNorm(), Dense(6), Tanh(), Dense(4)]),
        (5, 4),
        True,
    ),
}


@pytest.mark.parametrize("name", BLOCKS)
def test_residual_gradients_match_finite_differences(name):
    make, shape, training = BLOCKS[name]
    errors = check_layer(make(), shape, batch=3, training=training)
    assert "X" in errors and len(errors) > 1
    assert max(errors.values()) < 1e-6, errors


def test_the_block_adds_its_input_to_what_its_layers_make_of_it():
    block = standalone(Residual([Dense(3), Tanh()]), (3,))
    dense = block.layers[0]
    X = np.random.default_rng(0).normal(size=(4, 3))
    before = X.copy()
    np.testing.assert_allclose(block.forward(X), X + np.tanh(X @ dense.W + dense.b), rtol=1e-12)
    np.testing.assert_array_equal(X, before)
    shortcut = standalone(Residual([Tanh()], shortcut=Dense(3)), (3,))
    S = shortcut.shortcut
    np.testing.assert_allclose(shortcut.forward(X), X @ S.W + S.b + np.tanh(X), rtol=1e-12)
    np.testing.assert_array_equal(X, before)  # the in-place tanh worked on a copy


def test_shapes_that_cannot_be_added_are_refused_clearly():
    with pytest.raises(BarenetError, match=r"turn samples of shape \(8, 8, 4\) into \(4, 4, 8\)"
                       r".*give the block a shortcut"):  # fmt: skip
        Residual([Conv2D(8, 3, stride=2, padding=1)]).build((8, 8, 4))
    with pytest.raises(BarenetError, match=r"shortcut gives samples of shape \(8, 8, 8\), its "
                       r"layers \(4, 4, 8\)"):  # fmt: skip
        Residual([Conv2D(8, 3, stride=2, padding=1)], shortcut=Conv2D(8, 1)).build((8, 8, 4))
    with pytest.raises(BarenetError, match="layers must hold at least one layer"):
        Residual([])
    with pytest.raises(BarenetError, match="shortcut must be a layer"):
        Residual([Dense(3)], shortcut="dense3")
    dense = Dense(3)
    with pytest.raises(BarenetError, match="each layer object may appear only once"):
        Residual([dense, dense])
    with pytest.raises(BarenetError, match="cannot also be one of its layers"):
        Residual([dense], shortcut=dense)


def nested_network(dtype="float32", seed=0, dropout=True):
    """A small ResNet with a block inside a block, batch norm and dropout inside blocks."""
    line = (
        "conv4x3same res[conv4x3same batchnorm relu res[conv4x3same batchnorm relu dropout0.2] "
        "conv4x3same batchnorm] relu res[conv8x3s2p1 batchnorm relu conv8x3same | conv8x1s2] "
        "gap dense4"
    )
    if not dropout:
        line = line.replace(" dropout0.2", "")
    return NeuralNetwork.from_layers(parse_layers(line), (8, 8, 1), dtype=dtype, seed=seed)


def test_inner_parameters_live_in_the_flat_buffers_under_prefixed_names():
    net = nested_network()
    slices = net.parameter_slices()
    for name in ("layers.1.0.W", "layers.1.3.0.W", "layers.1.3.1.gamma", "layers.1.5.beta",
                 "layers.3.0.W", "layers.3.shortcut.W", "layers.3.shortcut.b"):  # fmt: skip
        assert name in slices
    assert sum(s.stop - s.start for s in slices.values()) == net.params.size
    inner = net.layers[1].layers[3].layers[0]  # the conv in the block inside the block
    assert np.shares_memory(inner.W, net.params) and np.shares_memory(inner.dW, net.grads)
    np.testing.assert_array_equal(inner.W.ravel(), net.params[slices["layers.1.3.0.W"]])
    assert net.decay_mask[slices["layers.3.shortcut.W"]].all()
    assert not net.decay_mask[slices["layers.1.3.1.gamma"]].any()
    arrays = net.named_arrays()
    assert "layers.1.3.1.running_mean" in arrays and "layers.3.1.running_var" in arrays
    assert arrays["layers.1.3.1.running_mean"] is net.layers[1].layers[3].layers[1].running_mean


def test_dropout_inside_a_block_draws_from_the_network_generator():
    net = nested_network()
    dropout = net.layers[1].layers[3].layers[3]
    assert isinstance(dropout, Dropout) and dropout.rng is net.rng
    copy = pickle.loads(pickle.dumps(net))
    assert copy.layers[1].layers[3].layers[3].rng is copy.rng
    X = np.random.default_rng(1).normal(size=(5, 64)).astype(np.float32)
    np.testing.assert_array_equal(copy.predict_proba(X), net.predict_proba(X))
    assert np.shares_memory(copy.layers[1].layers[0].W, copy.params)


def test_a_whole_resnet_gradient_matches_finite_differences():
    """Batch norm in training mode, a dropout mask, a block in a block, a shortcut: the whole
    flat gradient against centred differences."""
    net = NeuralNetwork.from_layers(
        parse_layers(
            "conv2x3same res[conv2x3same batchnorm relu res[conv2x3same tanh dropout0.3] "
            "conv2x3same] relu res[conv3x3s2p1 batchnorm relu conv3x3same | conv3x1s2] gap dense3"
        ),
        (4, 4, 1),
        dtype="float64",
        seed=1,
    )
    rng = np.random.default_rng(2)
    net.params[...] += rng.normal(0, 0.1, net.params.size)
    X, y = rng.normal(size=(5, 16)), rng.integers(0, 3, 5)

    def loss_and_gradient():
        net.rng.bit_generator.state = np.random.default_rng(7).bit_generator.state  # same mask
        return net.loss_and_gradient(X, y)

    _, grad = loss_and_gradient()
    numeric = np.empty_like(grad)
    for i in range(net.params.size):
        old = net.params[i]
        net.params[i] = old + 1e-6
        plus = loss_and_gradient()[0]
        net.params[i] = old - 1e-6
        minus = loss_and_gradient()[0]
        net.params[i] = old
        numeric[i] = (plus - minus) / 2e-6
    error = np.linalg.norm(grad - numeric) / (np.linalg.norm(grad) + np.linalg.norm(numeric))
    assert error < 1e-6


def test_input_gradients_flow_through_blocks_even_first_in_the_network():
    net = NeuralNetwork.from_layers(
        [Residual([Dense(4), Tanh(), Dense(4)]), Residual([Dense(3), Tanh()], shortcut=Dense(3))],
        4,
        dtype="float64",
        seed=3,
    )
    first = net.layers[0]
    assert not first.input_grad and not first.layers[0].input_grad and first.layers[2].input_grad
    assert net.layers[1].input_grad and net.layers[1].shortcut.input_grad
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(3, 4)), rng.integers(0, 3, 3)
    net.forward(X, training=True)
    assert net.backward(np.ones((3, 3))) is None  # training: nobody needs dL/dX
    np.testing.assert_allclose(
        net.input_gradient(X, y), numeric_input_gradient(net, X, y), rtol=1e-6, atol=1e-9
    )
    assert not first.input_grad and not first.layers[0].input_grad  # flags put back


def test_nested_blocks_save_and_load_bit_for_bit(tmp_path):
    net = nested_network(seed=2)
    X, y = quadrant_images(64, 1)
    net.train(X, y, epochs=1, batch_size=16, verbose=False)  # running statistics move
    path = tmp_path / "resnet.npz"
    net.save_model(path)
    loaded = load_model(path)
    assert loaded.get_config() == net.get_config()
    assert loaded.describe() == net.describe()
    for name, array in net.named_arrays().items():
        assert loaded.named_arrays()[name].tobytes() == array.tobytes(), name
    assert loaded.predict_proba(X).tobytes() == net.predict_proba(X).tobytes()
    block = loaded.layers[1].layers[3]
    assert isinstance(block, Residual) and block.layers[3].rng is loaded.rng


def test_describe_repr_and_config_nest():
    net = nested_network()
    assert net.describe() == (
        "conv4x3same res[conv4x3same batchnorm relu res[conv4x3same batchnorm relu dropout0.2] "
        "conv4x3same batchnorm] relu res[conv8x3s2p1 batchnorm relu conv8x3same | conv8x1s2] "
        "gap dense4"
    )
    assert repr(net).startswith("NeuralNetwork(8x8x1: conv4x3same res[conv4x3same batchnorm")
    block = Residual([Dense(4), ReLU()], shortcut=Dense(4))
    assert repr(block) == (
        "Residual([Dense(units=4, init='xavier'), ReLU()], shortcut=Dense(units=4, init='xavier'))"
    )
    config = net.layers[3].config()
    assert config["kind"] == "residual" and config["shortcut"]["kind"] == "conv2d"
    assert [c["kind"] for c in config["layers"]][:3] == ["conv2d", "batch_norm", "relu"]
    inner = net.layers[1].config()["layers"][3]
    assert inner["kind"] == "residual" and inner["shortcut"] is None
    rebuilt = layer_from_config(net.layers[1].config())
    assert rebuilt.config() == net.layers[1].config()
    assert takes_images([Residual([Conv2D(4, 3)])]) and not takes_images([Residual([Dense(4)])])


LINES = [
    "res[dense8 relu dense8] relu dense3",
    "res[conv32x3same batchnorm relu conv32x3same batchnorm] relu",
    "res[conv64x3s2p1 batchnorm relu conv64x3same batchnorm | conv64x1s2] relu",
    "res[layernorm attention4] res[layernorm dense128 gelu dense64]",
    "dense8 res[dense8 res[relu dense8 res[tanh dense8]] relu | dense8] dense2",
    "patch7x16 cls pos res[layernorm attention2] res[layernorm dense32 gelu dropout0.1 dense16] "
    "layernorm token0 dense10",
]


@pytest.mark.parametrize("line", LINES)
def test_a_line_with_blocks_reads_back_as_it_was_written(line):
    layers = parse_layers(line)
    assert describe_layers(layers) == line
    rebuilt = [layer_from_config(layer.config()) for layer in layers]
    assert describe_layers(rebuilt) == line
    assert [la.config() for la in rebuilt] == [la.config() for la in layers]


def test_block_words_are_read_loosely_and_written_one_way():
    layers = parse_layers("RES [ Dense8, ReLU | dense8 ]  res[dense8]")
    assert describe_layers(layers) == "res[dense8 relu | dense8] res[dense8]"
    block = layers[0]
    assert isinstance(block, Residual) and isinstance(block.shortcut, Dense)
    assert [type(la) for la in block.layers] == [Dense, ReLU]


@pytest.mark.parametrize(
    "line, message",
    [
        ("res[dense8 relu", "res\\[ is not closed with '\\]'"),
        ("dense8 ] dense3", "'\\]' outside a residual block"),
        ("dense8 | dense3", "'\\|' outside a residual block"),
        ("res dense8", "res needs its layers in brackets"),
        ("res", "res needs its layers in brackets"),
        ("[dense8]", "'\\[' must follow res"),
        ("res[]", "a residual block holds no layers"),
        ("res[| dense8]", "a residual block holds no layers"),
        ("res[dense8 | ]", "takes one shortcut layer after '\\|'"),
        ("res[dense8 | dense8 relu]", "takes one shortcut layer after '\\|'"),
        ("res[dense8 | dense8 | dense8]", "res\\[ is not closed"),
        ("res[dense8 residual]", "unknown layer 'residual'"),
        ("res[dense8 bogus]", "unknown layer 'bogus'.*res\\[...\\] for a residual block"),
    ],
)
def test_a_bad_block_is_named_in_the_words_of_the_line(line, message):
    with pytest.raises(BarenetError, match=message) as info:
        parse_layers(line)
    assert "Residual" not in str(info.value) and "Dense" not in str(info.value)


def test_a_tiny_resnet_learns_and_the_same_seed_gives_the_same_weights():
    X, y = quadrant_images(256, 0)
    line = (
        "conv8x3same batchnorm relu res[conv8x3same batchnorm relu conv8x3same batchnorm] relu "
        "res[conv16x3s2p1 batchnorm relu conv16x3same batchnorm | conv16x1s2] relu gap dense4"
    )
    nets = []
    for _ in range(2):
        net = NeuralNetwork.from_layers(
            parse_layers(line), (8, 8, 1), optimizer="adam", learning_rate=1e-2, seed=5
        )
        before = net.evaluate(X, y)["loss"]
        history = net.train(X, y, epochs=4, batch_size=32, verbose=False)
        assert history["train_loss"][-1] < history["train_loss"][0]
        assert net.evaluate(X, y)["loss"] < 0.5 * before
        nets.append(net)
    assert nets[0].params.tobytes() == nets[1].params.tobytes()
    assert isinstance(nets[0].layers[-2], GlobalAvgPool2D)


@pytest.mark.parametrize(
    "line",
    [
        "patch4x16 cls pos res[layernorm attention2 dropout0.1] "
        "res[layernorm dense32 gelu dropout0.1 dense16] layernorm token0 dense4",
        "conv4x3same res[conv4x3same batchnorm relu res[conv4x3same batchnorm relu dropout0.2] "
        "conv4x3same batchnorm] relu gap dense4",
    ],
    ids=["vit", "resnet"],
)
def test_resuming_from_a_checkpoint_gives_the_uninterrupted_weights(tmp_path, line):
    """Dropout and batch norm inside blocks, AdamW, a schedule and augmentation: a run stopped
    after 2 epochs and resumed ends bit for bit where an uninterrupted one does."""
    X, y = quadrant_images(96, 2)

    def run(**kwargs):
        net = NeuralNetwork.from_layers(
            parse_layers(line), (8, 8, 1), optimizer="adamw", learning_rate=3e-3, seed=4
        )
        options = dict(epochs=4, batch_size=32, verbose=False, schedule="cosine")
        net.train(X, y, **options, augment={"name": "shift", "max_shift": 1}, **kwargs)
        return net

    reference = run()
    path = tmp_path / "run.ckpt"
    stopped = run(checkpoint=path, callbacks=[lambda epoch, logs: epoch == 1])
    assert len(stopped.history["train_loss"]) == 2  # stopped after 2 of 4 epochs
    resumed = run(checkpoint=path, resume=True)
    assert resumed.params.tobytes() == reference.params.tobytes()
    for name, array in reference.named_arrays().items():
        assert resumed.named_arrays()[name].tobytes() == array.tobytes(), name


@pytest.mark.parametrize(
    "line",
    [
        "patch4x8 cls pos res[layernorm attention2] res[layernorm dense16 gelu dense8] "
        "layernorm token0 dense4",
        "conv4x3same res[conv4x3same relu res[conv4x3same tanh] conv4x3same] relu "
        "res[conv6x3s2p1 relu conv6x3same | conv6x1s2] gap dense4",
    ],
    ids=["vit", "resnet"],
)
def test_a_step_shared_by_threads_gives_the_whole_batch_gradient(line):
    """Two threads, each with a replica of the blocks rebuilt from their configs."""
    X, y = quadrant_images(25, 3)
    whole, shared = (
        NeuralNetwork.from_layers(parse_layers(line), (8, 8, 1), dtype="float64", seed=1)
        for _ in range(2)
    )
    loss = whole.backprop(X, y)
    step = ParallelStep(shared, 2)
    shared_loss, _ = step(X, y)
    step.close()
    assert shared_loss == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(shared.grads, whole.grads, rtol=1e-10, atol=1e-14)


def test_threads_average_batch_norm_inside_blocks_and_draw_dropout_masks_reproducibly():
    X, y = quadrant_images(16, 4)
    shared = nested_network(dtype="float64", dropout=False)  # the same activations as below
    step = ParallelStep(shared, 2)
    step(X, y)
    step.close()
    halves = [nested_network(dtype="float64", dropout=False) for _ in range(2)]
    for net, part in zip(halves, (slice(0, 8), slice(8, 16))):
        net.backprop(X[part], y[part])
    for name in ("layers.1.1.running_mean", "layers.1.3.1.running_var", "layers.3.1.running_mean"):
        expected = (halves[0].named_arrays()[name] + halves[1].named_arrays()[name]) / 2
        np.testing.assert_allclose(shared.named_arrays()[name], expected, rtol=1e-12)
    runs = []
    for _ in range(2):
        net = nested_network(seed=6)
        net.train(X, y, epochs=2, batch_size=8, verbose=False, workers=2)
        assert net.training_info.workers == 2
        runs.append(net.params.tobytes())
    assert runs[0] == runs[1]


def test_the_network_finds_dropout_and_batch_norm_inside_blocks():
    from barenet import NeuralNetwork
    from barenet.nn import parse_layers

    vit = NeuralNetwork.from_layers(parse_layers(
        "patch4x8 cls pos res[layernorm attention2 dropout0.1] layernorm token0 dense10"
    ), (8, 8, 1))  # fmt: skip
    assert vit.dropout == 0.1 and not vit.batch_norm
    resnet = NeuralNetwork.from_layers(
        parse_layers("conv4x3same res[conv4x3same batchnorm relu | conv4x1] flatten dense10"),
        (8, 8, 1),
    )
    assert resnet.batch_norm and resnet.dropout == 0.0
    kinds = [layer.kind for layer in resnet.all_layers()]
    assert kinds == ["conv2d", "residual", "conv2d", "batch_norm", "relu", "conv2d", "flatten",
                     "dense"]  # fmt: skip
