"""The HTML report: one self-contained file with the figures inside and the key numbers."""

import base64
import contextlib
import io
import re

import numpy as np
import pytest

from barenet import NeuralNetwork
from barenet.cli.main import main
from barenet.viz.plots import plot_history
from barenet.viz.report import model_report, write_report

EMBEDDED = re.compile(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


def test_report_embeds_each_figure_byte_for_byte_and_escapes_text(tmp_path):
    figure = plot_history(
        {"train_loss": [1.0, 0.5], "train_accuracy": [0.5, 0.8]}, tmp_path / "h.png"
    )
    sections = [
        {
            "heading": "Results <b>",
            "numbers": {"accuracy": "97.5%"},
            "text": ["a & b <script>alert(1)</script>"],
            "table": "x  y\n1  <2>",
            "figures": [figure],
        }
    ]
    path = write_report(tmp_path / "sub" / "r.html", "Study", sections)
    text = path.read_text(encoding="utf-8")
    (data,) = EMBEDDED.findall(text)
    assert base64.b64decode(data) == figure.read_bytes()
    assert "<script>" not in text and "a &amp; b &lt;script&gt;" in text
    assert "<h2>Results &lt;b&gt;</h2>" in text and "1  &lt;2&gt;" in text
    assert "<dt>accuracy</dt><dd>97.5%</dd>" in text
    assert not re.search(r'(src|href)="(?!data:)', text)  # nothing loaded from elsewhere


def test_model_report_holds_the_key_numbers_and_six_figures(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.random((300, 784)).astype(np.float32), np.arange(300) % 10
    net = NeuralNetwork(784, [16], 10, seed=0)
    net.train(X[:200], y[:200], X[200:250], y[200:250], epochs=2, verbose=False)
    path = model_report(net, tmp_path / "model.html", X[250:], y[250:])
    text = path.read_text(encoding="utf-8")
    accuracy = net.calculate_accuracy(X[250:], y[250:])
    assert f"<dt>test accuracy</dt><dd>{accuracy:.2%} of 50 images</dd>" in text
    assert "<dt>parameters</dt><dd>12,730</dd>" in text
    assert "<dt>epochs</dt><dd>2</dd>" in text
    optimizer = "<dt>optimizer</dt><dd>SGD, learning rate 0.01</dd>"  # in words, from names
    assert optimizer in text
    assert len(EMBEDDED.findall(text)) == 6  # history, confusion, per class, grid, mistakes, W


@pytest.mark.mnist
def test_report_command_scores_a_saved_model_on_the_test_set(tmp_path):
    model = tmp_path / "m.npz"
    NeuralNetwork(784, [16], 10, seed=0).save_model(model)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["report", str(model), "-o", str(tmp_path / "r.html")]) == 0
    assert f"report saved to {tmp_path / 'r.html'}" in out.getvalue()
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "of 10000 images" in text
    assert len(EMBEDDED.findall(text)) == 5  # an untrained model has no history figure


def test_report_command_scores_on_the_models_data_set_and_names_the_classes(tmp_path):
    model, report = tmp_path / "m.npz", tmp_path / "r.html"
    net = NeuralNetwork(64, [16], 10, class_names=[f"digit {k}" for k in range(10)], seed=0)
    net.training_info.dataset = "digits"  # as `barenet train --dataset digits` records it
    net.save_model(model)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", str(model), "-o", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    assert "of 360 images" in text and "digit 7" in text
    assert len(EMBEDDED.findall(text)) == 5  # confusion, per class, grid, mistakes, W


def test_report_command_refuses_a_model_of_another_data_set(tmp_path, capsys):
    model = tmp_path / "m.npz"
    NeuralNetwork(784, [16], 10, seed=0).save_model(model)
    assert main(["report", str(model), "--dataset", "digits", "-o", str(tmp_path / "r")]) == 2
    assert "takes 784 inputs and 10 classes; digits has 64 and 10" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_a_network_whose_inputs_are_not_an_image_gets_no_image_figures(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.random((60, 30)).astype(np.float32), np.arange(60) % 3
    net = NeuralNetwork(30, [8], 3, class_names=["low", "mid", "high"], seed=0)
    assert net.image_shape is None
    text = model_report(net, tmp_path / "m.html", X, y).read_text(encoding="utf-8")
    assert len(EMBEDDED.findall(text)) == 2  # confusion matrix and per class
    assert "high" in text


def test_a_convolutional_network_shows_its_filters_and_feature_maps(tmp_path):
    from barenet.nn import Dense, parse_layers

    rng = np.random.default_rng(0)
    X, y = rng.random((120, 784)).astype(np.float32), np.arange(120) % 10
    layers = [*parse_layers("conv4x3 relu pool2 flatten dense8 relu"), Dense(10)]
    net = NeuralNetwork.from_layers(layers, input_shape=(28, 28, 1), seed=0)
    net.train(X[:80], y[:80], epochs=1, verbose=False)
    text = model_report(net, tmp_path / "cnn.html", X[80:], y[80:]).read_text(encoding="utf-8")
    alts = re.findall(r'<img alt="([^"]*)"', text)
    assert alts == [
        "training history",
        "confusion matrix",
        "per class",
        "predictions",
        "mistakes",
        "conv filters",
        "feature maps",
    ]
    describe = "conv4x3 relu pool2 flatten dense8 relu dense10"
    assert f"<dt>architecture</dt><dd>28x28x1: {describe}</dd>" in text
    assert f"<dt>parameters</dt><dd>{net.n_parameters:,}</dd>" in text


def test_a_stack_whose_first_layer_is_no_dense_on_the_pixels_gets_no_weight_images(tmp_path):
    from barenet.nn import BatchNorm, Dense, ReLU

    rng = np.random.default_rng(0)
    X, y = rng.random((40, 64)).astype(np.float32), np.arange(40) % 10
    net = NeuralNetwork.from_layers([BatchNorm(), Dense(8), ReLU(), Dense(10)], 64, seed=0)
    text = model_report(net, tmp_path / "bn.html", X, y).read_text(encoding="utf-8")
    alts = re.findall(r'<img alt="([^"]*)"', text)
    assert alts == ["confusion matrix", "per class", "predictions", "mistakes"]


def test_model_report_states_the_settings_in_words(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.random((120, 784)).astype(np.float32), np.arange(120) % 10
    net = NeuralNetwork(784, [8], 10, 0.05, optimizer="nesterov", seed=0)
    net.train(X[:100], y[:100], epochs=1, verbose=False, schedule="cosine", augment="shift")
    text = model_report(net, tmp_path / "m.html", X[100:], y[100:]).read_text(encoding="utf-8")
    assert "<dd>SGD with Nesterov momentum 0.9, learning rate 0.05</dd>" in text
    assert "<dt>schedule</dt><dd>cosine (down to 0)</dd>" in text
    assert "<dt>augment</dt><dd>shift" in text and "{" not in text.split("<body>")[1][:4000]
