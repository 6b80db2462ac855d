"""barenet.files.onnx: exported graphs run in onnxruntime and give barenet's own probabilities."""

import importlib
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest

from barenet import BarenetError, NeuralNetwork, load_mnist
from barenet.cli.main import main
from barenet.files.onnx import OPSET, export, to_model
from barenet.nn.activations import Activation
from barenet.nn.layers import Layer

# Briefly trained networks (2 epochs on 3,000 images) cover every exportable layer and activation.
ARCHITECTURES = {
    "relu": {"activation": "relu"},
    "leaky_relu": {"activation": "leaky_relu"},
    "sigmoid": {"activation": "sigmoid", "learning_rate": 0.005},
    "tanh": {"activation": "tanh"},
    "gelu": {"activation": "gelu"},
    "relu_batch_norm": {"activation": "relu", "batch_norm": True},
    "relu_dropout": {"activation": "relu", "dropout": 0.5},
    "gelu_3_layers_batch_norm_dropout": {
        "hidden_sizes": [128, 64, 32],
        "activation": "gelu",
        "batch_norm": True,
        "dropout": 0.2,
    },
    "tanh_float64": {"activation": "tanh", "dtype": "float64"},
}
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}  # largest |p_onnx - p_barenet| allowed


def session(path):
    """An onnxruntime session on one thread (the tests share the machine)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def mnist():
    """3,000 training images and the 10,000 test images, as float32 rows in [0, 1]."""
    X_train, y_train, X_test, y_test = load_mnist(download=False)

    def rows(images):
        return images.reshape(len(images), -1).astype(np.float32) / 255

    return rows(X_train[:3000]), y_train[:3000], rows(X_test), y_test


@pytest.mark.mnist
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_onnxruntime_matches_barenet_on_the_mnist_test_set(mnist, tmp_path, name):
    X_train, y_train, X_test, y_test = mnist
    options = {"hidden_sizes": [64, 32], "learning_rate": 0.003, **ARCHITECTURES[name]}
    net = NeuralNetwork(784, output_size=10, optimizer="adam", seed=0, **options)
    net.train(X_train, y_train, epochs=2, verbose=False)
    X = X_test.astype(net.dtype)
    # Trained, so that the comparison is between confident outputs, not near-uniform ones.
    assert net.calculate_accuracy(X, y_test) > 0.8
    net.to_onnx(tmp_path / "model.onnx")
    run = session(tmp_path / "model.onnx")
    expected = net.predict_proba(X)
    got = run.run(["probabilities"], {"input": X})[0]
    assert got.shape == (10_000, 10) and got.dtype == net.dtype
    assert np.abs(got - expected).max() <= TOLERANCE[net.dtype.type]
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    one = run.run(["probabilities"], {"input": X[:1]})[0]  # the batch size is free
    assert one.shape == (1, 10)
    np.testing.assert_allclose(one, expected[:1], rtol=0, atol=TOLERANCE[net.dtype.type])


def test_graph_is_the_inference_form_of_the_layers():
    net = NeuralNetwork(6, [5, 4], 3, activation="leaky_relu", batch_norm=True, dropout=0.5)
    model = to_model(net)
    ops = [node.op_type for node in model.graph.node]
    hidden = ["Gemm", "BatchNormalization", "LeakyRelu"]  # dropout leaves no node
    assert ops == [*hidden, *hidden, "Gemm", "Softmax"]
    alpha = model.graph.node[2].attribute[0]
    assert (alpha.name, alpha.f) == ("alpha", pytest.approx(0.01))
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    assert (graph_input.name, graph_output.name) == ("input", "probabilities")
    dims = [
        [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in (graph_input, graph_output)
    ]
    assert dims == [["batch", 6], ["batch", 3]]
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)]


def test_to_onnx_writes_the_model_it_returns(tmp_path):
    net = NeuralNetwork(12, [8], 4, activation="gelu", seed=1)
    model = net.to_onnx(tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").read_bytes() == model.SerializeToString()
    assert os.listdir(tmp_path) == ["m.onnx"]  # written atomically: no temporary file left
    X = np.random.default_rng(0).normal(size=(7, 12)).astype(np.float32)
    got = session(tmp_path / "m.onnx").run(None, {"input": X})[0]
    assert np.abs(got - net.predict_proba(X)).max() <= 1e-6


class Doubler(Layer):
    kind = "doubler"

    def forward(self, X, training=False):
        return 2 * X


class Swish(Activation):
    kind = "swish"


def test_a_layer_onnx_cannot_express_is_named_in_the_error(tmp_path):
    net = NeuralNetwork(6, [5], 3)
    net.layers.insert(1, Doubler())
    with pytest.raises(BarenetError, match=r"cannot export layers\.1 \(Doubler, kind 'doubler'\)"):
        export(net, tmp_path / "m.onnx")
    net = NeuralNetwork(6, [5], 3)
    net.layers[1] = Swish()
    with pytest.raises(BarenetError, match=r"cannot export layers\.1 \(Swish, kind 'swish'\)"):
        export(net, tmp_path / "m.onnx")
    assert not os.listdir(tmp_path)


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(BarenetError, match="no folder"):
        export(NeuralNetwork(6, [5], 3), tmp_path / "missing" / "m.onnx")


def test_cli_export_writes_a_file_onnxruntime_runs(tmp_path, capsys):
    net = NeuralNetwork(784, [16], 10, seed=0)
    net.save_model(tmp_path / "model.npz")
    out = tmp_path / "model.onnx"
    assert main(["export", str(tmp_path / "model.npz"), "--onnx", str(out)]) == 0
    assert f"ONNX model saved to {out}" in capsys.readouterr().out
    X = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    got = session(out).run(None, {"input": X})[0]
    assert np.abs(got - net.predict_proba(X)).max() <= 1e-6


def test_cli_export_errors_are_one_line(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nothing.npz"), "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert capsys.readouterr().err.startswith(f"barenet: error: {tmp_path / 'nothing.npz'}")
    assert main(["export", str(tmp_path / "nothing.npz")]) == 2  # --onnx is required
    assert "--onnx" in capsys.readouterr().err


def test_onnx_stays_optional(monkeypatch, tmp_path, capsys):
    code = "import sys, barenet, barenet.cli.main; sys.exit('onnx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
    monkeypatch.delitem(sys.modules, "barenet.files.onnx")
    for name in [m for m in sys.modules if m.split(".")[0] == "onnx"]:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import onnx...` fail
    with pytest.raises(ImportError, match=r"pip install barenet\[onnx\]"):
        importlib.import_module("barenet.files.onnx")
    NeuralNetwork(6, [5], 3).save_model(tmp_path / "model.npz")
    assert main(["export", str(tmp_path / "model.npz"), "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert "pip install barenet[onnx]" in capsys.readouterr().err
