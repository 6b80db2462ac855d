"""A model file's preprocessing (the standardisation of table data, the training inputs'
range): kept and checked on loading, and carried into the ONNX graph."""

import json
import zipfile

import numpy as np
import onnxruntime as ort
import pytest

from barenet import ModelFileError, NeuralNetwork, load_model
from barenet.files.archive import load_arrays, save_arrays
from barenet.scaling import Standardization


def table(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal([2000, 3, -50], [600, 1, 20], (n, 3))
    y = np.column_stack([X @ [100, 2000, 10], X[:, 1] * 7])
    return X, y


def standardized_net(loss="mse", outputs=2, dtype="float32"):
    X, y = table()
    net = NeuralNetwork(3, [16], outputs, loss=loss, optimizer="adam", seed=0, dtype=dtype,
                        image_shape=False)  # fmt: skip
    net.input_scaling = Standardization.fit(X)
    labels = (y[:, 0] > np.median(y[:, 0])).astype(int)
    if loss == "mse":
        net.output_scaling = Standardization.fit(y)
    net.train(X, y if loss == "mse" else labels, epochs=3, batch_size=32, verbose=False)
    return net, X


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_onnx_graph_standardizes_inputs_and_gives_targets_in_their_units(tmp_path, dtype):
    net, X = standardized_net(dtype=dtype)
    net.to_onnx(tmp_path / "m.onnx")
    got = session(tmp_path / "m.onnx").run(None, {"input": X.astype(dtype)})[0]
    expected = net.predict(X).astype(np.float64)
    assert np.abs(got - expected).max() <= 1e-5 * np.abs(expected).max()
    ops = [node.op_type for node in net.to_onnx(tmp_path / "again.onnx").graph.node]
    assert ops[:2] == ["Sub", "Div"] and ops[-3:] == ["Mul", "Add", "Identity"]


def test_a_standardizing_classifier_exports_its_input_standardization(tmp_path):
    net, X = standardized_net(loss="cross_entropy", outputs=2)
    net.to_onnx(tmp_path / "c.onnx")
    got = session(tmp_path / "c.onnx").run(None, {"input": X.astype(np.float32)})[0]
    assert np.abs(got - net.predict_proba(X)).max() <= 1e-6


def test_damaged_or_mismatched_preprocessing_is_refused_by_name(tmp_path):
    net, _ = standardized_net()
    net.save_model(tmp_path / "m.npz")
    header, arrays = load_arrays(tmp_path / "m.npz", kind="model")
    header = {k: v for k, v in header.items() if k not in ("format", "format_version", "kind",
                                                           "arrays", "checksum")}  # fmt: skip

    def saved(name, header, arrays):
        save_arrays(tmp_path / name, header, arrays, kind="model")
        return tmp_path / name

    missing = {k: v for k, v in arrays.items() if k != "preprocessing.inputs.scale"}
    with pytest.raises(ModelFileError, match="preprocessing of its inputs is incomplete"):
        load_model(saved("a.npz", header, missing))
    short = {**arrays, "preprocessing.inputs.mean": np.zeros(2), "preprocessing.inputs.scale":
             np.ones(2)}  # fmt: skip
    with pytest.raises(ModelFileError, match="input scaling has 2 columns, the network 3"):
        load_model(saved("b.npz", header, short))
    zero = {**arrays, "preprocessing.outputs.scale": np.zeros(2)}
    with pytest.raises(ModelFileError, match="scale must be > 0"):
        load_model(saved("c.npz", header, zero))
    bad_range = {**header, "preprocessing": {**header["preprocessing"], "input_range": "wide"}}
    with pytest.raises(ModelFileError, match="input_range must be"):
        load_model(saved("d.npz", bad_range, arrays))


def test_the_header_says_what_is_done_in_words(tmp_path):
    net, X = standardized_net()
    net.save_model(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        section = json.loads(archive.read("header.json"))["preprocessing"]
    assert section == {
        "inputs": "standardized",
        "outputs": "standardized",
        # The training inputs' range, as the network saw them: float32.
        "input_range": [float(X.astype(np.float32).min()), float(X.astype(np.float32).max())],
    }
