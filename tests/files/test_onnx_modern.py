"""barenet.files.onnx on residual, transformer and recurrent networks: onnxruntime gives barenet's
own probabilities for a ViT, a ResNet and RNN/LSTM/GRU readers of MNIST-sized inputs."""

import os

import numpy as np
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from barenet import BarenetError, NeuralNetwork
from barenet.files.onnx import export, to_model
from barenet.nn import parse_layers
from barenet.nn.layers import Layer

VIT = "patch7x16 cls pos res[layernorm attention2] res[layernorm dense32 gelu dense16] layernorm"
# Layer strings and input shapes. The first seven are the networks of issues 26 and 27; the
# others reach the remaining layouts: layer norm on images, batch norm on tokens, a Flatten
# after sequences, residual blocks on flat rows (a Dense shortcut) and around recurrent layers.
NETWORKS = {
    "vit": (f"{VIT} token0 dense10", (28, 28, 1)),
    "resnet": (
        "conv8x3same batchnorm relu "
        "res[conv8x3same batchnorm relu res[conv8x3same batchnorm relu conv8x3same] "
        "conv16x3s2p1 batchnorm | conv16x1s2] relu gap dense10",
        (28, 28, 1),
    ),
    "vit_tokenmean": (
        "patch7x16 pos res[layernorm attention4] res[layernorm dense32 gelu dense16] layernorm "
        "tokenmean dense10",
        (28, 28, 1),
    ),
    "lstm": ("lstm16 dense10", (28, 28)),
    "gru": ("gru16 dense10", (28, 28)),
    "rnn": ("rnn16 dense10", (28, 28)),
    "lstm_seq_gru": ("lstm16seq gru8 dense10", (28, 28)),
    "layer_norm_on_images": (
        "conv4x3same layernorm relu res[layernorm conv4x3same] flatten layernorm dense10",
        (12, 12, 1),
    ),
    "batch_norm_on_tokens": (
        "patch4x8 batchnorm res[layernorm attention1 dropout0.1] res[relu dense8] flatten dense10",
        (12, 12, 2),
    ),
    "flatten_after_sequences": ("lstm6seq flatten dense10", (7, 5)),
    "residual_around_recurrent": (
        "gru6seq dense8 gelu res[lstm8seq] res[rnn8seq] attention2 token3 dense10",
        (7, 5),
    ),
    "residual_on_rows": (
        "res[dense32 relu dense16 | dense16] res[batchnorm relu dense16] dense10",
        (20,),
    ),
}
# Largest |p_onnx - p_barenet| allowed; float64 rounding adds up over a ViT's dozens of nodes.
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}


def session(path):
    """An onnxruntime session on one thread (the tests share the machine)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def random_rows(rng, n, size, dtype="float32"):
    """``n`` random inputs in [0, 1), each with its own fraction (5-60%) of non-zero values,
    like digits of different thickness: uniform noise everywhere would look alike to a ViT
    after its averages, and give nearly the same answer for every row."""
    density = rng.uniform(0.05, 0.6, (n, 1))
    return ((rng.random((n, size)) < density) * rng.random((n, size))).astype(dtype)


def trained(layers, input_shape, dtype="float32", **keywords):
    """The network of a layer string after a few Adam steps on random rows, so that no weight
    is at its initial value (biases zero, gates alike) and batch norm's running statistics are
    the data's."""
    net = NeuralNetwork.from_layers(
        parse_layers(layers), input_shape, optimizer="adam", learning_rate=0.01, seed=0,
        dtype=dtype, **keywords,
    )  # fmt: skip
    rng = np.random.default_rng(1)
    X = random_rows(rng, 64, net.input_size, net.dtype)
    y = rng.random((64, net.output_size)) if net.is_regression else rng.integers(0, 10, 64)
    net.train(X, y, epochs=2, batch_size=16, verbose=False)
    return net


def largest_difference(net, path, rows=50):
    """``max |p_onnx - p_barenet|`` on random rows, checking the output's name, shape
    and type, and that a batch of one gives the same as the first row of a larger batch."""
    X = random_rows(np.random.default_rng(2), rows, net.input_size, net.dtype)
    run = session(path)
    output = "predictions" if net.is_regression else "probabilities"
    expected = net.predict(X) if net.is_regression else net.predict_proba(X)
    got = run.run([output], {"input": X})[0]
    assert got.shape == (rows, net.output_size) and got.dtype == net.dtype
    one = run.run([output], {"input": X[:1]})[0]  # the batch size is free
    assert np.abs(one - got[:1]).max() <= TOLERANCE[net.dtype.type]
    return np.abs(got - expected.reshape(got.shape)).max(), expected


@pytest.mark.parametrize("name", NETWORKS)
def test_onnxruntime_matches_barenet(tmp_path, name):
    net = trained(*NETWORKS[name])
    net.to_onnx(tmp_path / "model.onnx")
    difference, expected = largest_difference(net, tmp_path / "model.onnx")
    # The outputs differ from row to row: a comparison of near-uniform answers would prove little.
    assert expected.std(axis=0).max() > 5e-3
    assert difference <= TOLERANCE[np.float32]


def test_float64_vit_matches_to_rounding(tmp_path):
    # PatchEmbed is written as MatMul, not Conv, so that onnxruntime (whose Conv is float32
    # only) runs a float64 ViT; its answers then agree to rounding.
    net = trained(f"{VIT} token0 dense10", (28, 28, 1), dtype="float64")
    net.to_onnx(tmp_path / "model.onnx")
    difference, _ = largest_difference(net, tmp_path / "model.onnx")
    assert difference <= TOLERANCE[np.float64]


def test_regression_on_sequences_ends_in_predictions(tmp_path):
    net = trained("gru8 dense2", (7, 5), loss="mse")
    model = net.to_onnx(tmp_path / "model.onnx")
    assert [o.name for o in model.graph.output] == ["predictions"]
    assert "Softmax" not in {node.op_type for node in model.graph.node}
    difference, _ = largest_difference(net, tmp_path / "model.onnx")
    assert difference <= TOLERANCE[np.float32]


def dims(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def test_vit_graph_takes_flat_rows_and_uses_the_standard_operators():
    model = to_model(trained(f"{VIT} token0 dense10", (28, 28, 1)))
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    assert (graph_input.name, dims(graph_input)) == ("input", ["batch", 784])
    assert (graph_output.name, dims(graph_output)) == ("probabilities", ["batch", 10])
    nodes = {node.name: node for node in model.graph.node}
    ops = [node.op_type for node in model.graph.node]
    assert ops[:2] == ["Reshape", "Transpose"]  # flat rows -> images, as for a CNN
    assert ops.count("LayerNormalization") == 3
    assert ops.count("Softmax") == 2  # the attention's, over the keys, and the classes'
    assert nodes["layers.3.1.attention"].attribute[0].i == -1
    for block in ("layers.3", "layers.4"):  # x + f(x): the block's input and its last layer's
        add = nodes[f"{block}.add"]
        assert add.op_type == "Add" and add.input[1].startswith(f"{block}.")
    assert nodes["layers.3.add"].input[0] == "layers.2.add"  # the position embedding's Add
    assert nodes["layers.1.concat"].op_type == "Concat"  # the class token, then the patches
    assert nodes["layers.1.tokens"].op_type == "Expand"
    assert nodes["layers.6.token"].op_type == "Gather"


def test_resnet_shortcut_is_a_conv_added_to_the_block():
    model = to_model(trained(*NETWORKS["resnet"]))
    nodes = {node.name: node for node in model.graph.node}
    outer, inner = nodes["layers.3.add"], nodes["layers.3.3.add"]
    assert outer.input[0] == "layers.3.shortcut.conv"
    assert nodes["layers.3.shortcut.conv"].input[0] == "layers.2.relu"  # the block's input
    assert inner.input[0] == "layers.3.2.relu"  # no shortcut: the nested block's own input


def initializer(model, name):
    return next(numpy_helper.to_array(t) for t in model.graph.initializer if t.name == name)


@pytest.mark.parametrize(
    "kind, onnx_order", [("lstm", [0, 3, 1, 2]), ("gru", [1, 0, 2]), ("rnn", [0])]
)
def test_recurrent_weights_in_onnx_gate_order(kind, onnx_order):
    # ONNX: LSTM i, o, f, c and GRU z, r, h; barenet (as PyTorch): LSTM i, f, g, o, GRU r, z, n.
    net = trained(f"{kind}6 dense10", (7, 5))
    layer, n = net.layers[0], 6
    model = to_model(net)
    (node,) = [node for node in model.graph.node if node.op_type == kind.upper()]
    attributes = {a.name: a for a in node.attribute}
    assert attributes["hidden_size"].i == n
    assert (kind == "gru") == ("linear_before_reset" in attributes)
    if kind == "gru":
        assert attributes["linear_before_reset"].i == 1  # r times (h U_n + bn)
    W, R, B = (initializer(model, f"layers.0.{part}") for part in "WRB")
    G = len(onnx_order)
    assert W.shape == (1, G * n, 5) and R.shape == (1, G * n, n) and B.shape == (1, 2 * G * n)
    for position, gate in enumerate(onnx_order):
        rows, columns = slice(position * n, (position + 1) * n), slice(gate * n, (gate + 1) * n)
        np.testing.assert_array_equal(W[0, rows], layer.W[:, columns].T)
        np.testing.assert_array_equal(R[0, rows], layer.U[:, columns].T)
        np.testing.assert_array_equal(B[0, rows], layer.b[columns])
    recurrent_bias = B[0, G * n :]
    if kind == "gru":  # only the candidate has a recurrent bias: barenet's bn, ONNX's Rbh
        np.testing.assert_array_equal(recurrent_bias[2 * n :], layer.bn)
        assert not recurrent_bias[: 2 * n].any()
    else:
        assert not recurrent_bias.any()


class Halver(Layer):
    kind = "halver"

    def forward(self, X, training=False):
        return X / 2


def test_a_layer_onnx_cannot_express_inside_a_block_is_named(tmp_path):
    net = trained("dense16 res[dense16 relu] dense10", (12,))
    net.layers[1].layers.insert(1, Halver())
    with pytest.raises(
        BarenetError, match=r"cannot export layers\.1\.1 \(Halver, kind 'halver'\) to ONNX"
    ) as error:
        export(net, tmp_path / "m.onnx")
    assert "self_attention" in str(error.value) and "lstm" in str(error.value)
    assert not os.listdir(tmp_path)
