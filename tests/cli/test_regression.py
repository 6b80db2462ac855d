"""`barenet train --loss mse`: a regression network from a CSV column or an .npz of float
targets; then evaluate, info, export, and the commands that need a classifier refusing it."""

import contextlib
import io
import json

import numpy as np
import pytest

from barenet import load_model, load_own_data
from barenet.cli.main import main
from tests.cli.helpers import assert_one_line_error, run

TRAIN = ["--hidden", 16, "--epochs", 40, "--batch-size", 32, "--optimizer", "adam", "-q"]


def house_rows(n=300, seed=0):
    """Three features and a price that is mostly linear in them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, 2.0, -1.0]) + 0.3 * np.sin(3 * X[:, 0])


@pytest.fixture(scope="module")
def house(tmp_path_factory):
    """A CSV whose target is the column "price", not the last one."""
    X, y = house_rows()
    path = tmp_path_factory.mktemp("house") / "house.csv"
    lines = ["size,price,rooms,age"]
    lines += [f"{a:.5f},{t:.5f},{b:.5f},{c:.5f}" for (a, b, c), t in zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def trained(house, tmp_path_factory):
    """``(model path, history path, stdout)`` of one regression run on the house CSV."""
    folder = tmp_path_factory.mktemp("regression")
    model, history = folder / "price.npz", folder / "history.csv"
    argv = ["train", "--data", house, "--loss", "mse", "--label-column", "price", *TRAIN,
            "--lr", 0.01, "-o", model, "--history", history]  # fmt: skip
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([str(a) for a in argv]) == 0
    return model, history, out.getvalue()


def test_train_with_loss_mse_fits_the_target_column_and_says_so(trained):
    model, _, out = trained
    net = load_model(model)
    assert net.loss == "mse" and net.class_names == ["price"] and net.input_size == 3
    assert "  3 inputs -> 1 output: price" in out
    assert "  loss: mean squared error (regression)" in out
    assert "data: house, 216 training, 24 validation, 60 test samples (random split" in out
    epoch_lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) == 40 and all("val_r2 " in line for line in epoch_lines)
    assert not any("acc" in line for line in epoch_lines)
    r2 = float(out.split("test R^2: ")[1].split()[0])
    assert r2 > 0.9  # a nearly linear target
    assert "test accuracy" not in out


def test_the_printed_test_score_is_that_of_the_test_split(trained, house):
    model, _, out = trained
    net = load_model(model)
    data = load_own_data(house, task="regression", label_column="price", validation=0)
    scores = net.evaluate(data.X_test, data.y_test)
    assert f"test R^2: {scores['r2']:.4f}  loss {scores['loss']:.4f} (60 house" in out


def test_the_history_file_holds_the_regression_figures(trained):
    _, history, _ = trained
    header, *rows = history.read_text().splitlines()
    assert header.split(",") == ["epoch", "train_loss", "learning_rate", "epoch_time",
                                 "val_loss", "val_r2"]  # fmt: skip
    assert len(rows) == 40
    assert float(rows[-1].split(",")[5]) > 0.9


def test_evaluate_reports_the_loss_and_r2_on_the_test_rows(trained, house, capsys):
    model, _, _ = trained
    net = load_model(model)
    data = load_own_data(house, task="regression", label_column="price", validation=0)
    expected = net.evaluate(data.X_test, data.y_test)
    code, out, err = run(capsys, "evaluate", model, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["loss"] == pytest.approx(expected["loss"])
    assert report["r2"] == pytest.approx(expected["r2"])
    assert report["n_samples"] == 60 and report["output_names"] == ["price"]
    errors = net.predict(data.X_test)[:, 0] - data.y_test
    (price,) = report["outputs"]
    assert price["rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)), rel=1e-5)
    assert price["mae"] == pytest.approx(np.mean(np.abs(errors)), rel=1e-5)
    assert "accuracy" not in report
    code, out, err = run(capsys, "evaluate", model, "--data", house)
    assert code == 0, err
    assert f"R^2 {expected['r2']:.4f}  loss {expected['loss']:.4f}  (60 house test rows)" in out
    assert out.splitlines()[3].split() == ["output", "R^2", "RMSE", "MAE"]


def test_evaluate_refuses_a_built_in_data_set_for_a_regression_model(trained, capsys):
    model, _, _ = trained
    code, out, err = run(capsys, "evaluate", model, "--dataset", "digits")
    assert_one_line_error(code, out, err, "regression network", "give --data")


def test_info_names_the_loss(trained, tmp_path, capsys):
    model, _, _ = trained
    code, out, _ = run(capsys, "info", model)
    assert code == 0
    assert "loss: mean squared error (regression)" in out
    assert "last validation R^2: " in out and "test accuracy" not in out
    printed_r2 = float(trained[2].split("test R^2: ")[1].split()[0])  # what train printed
    assert f"test R^2: {printed_r2:.4f}, loss " in out  # kept in the model file
    code, out, _ = run(capsys, "info", model, "--json")
    record = json.loads(out)
    assert record["loss"] == "mse" and record["test_r2"] == pytest.approx(printed_r2, abs=1e-4)
    assert record["loss_description"] == "mean squared error (regression)"
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "ab.npz", X=rng.random((40, 4)), y=np.repeat([0, 1], 20))
    classifier = tmp_path / "c.npz"
    assert main(["train", "--data", str(tmp_path / "ab.npz"), "--hidden", "4", "--epochs", "1",
                 "-q", "-o", str(classifier)]) == 0  # fmt: skip
    capsys.readouterr()
    code, out, _ = run(capsys, "info", classifier)
    assert "loss: cross-entropy (classification)" in out and "2 classes: 0, 1" in out


def test_predict_serve_and_report_refuse_a_regression_model_in_one_line(
    trained, tmp_path, capsys, monkeypatch
):
    model, _, _ = trained
    code, out, err = run(capsys, "predict", model, tmp_path / "seven.png")
    assert_one_line_error(code, out, err, "regression network", ".predict(X)", "(n, 3)")

    def listen(*args):
        raise AssertionError("serve must refuse a regression model before listening")

    monkeypatch.setattr("barenet.cli.serve._listen", listen)
    code, out, err = run(capsys, "serve", model, "--port", 0)
    assert_one_line_error(code, out, err, "regression network", "needs a classifier")
    code, out, err = run(capsys, "report", model, "-o", tmp_path / "r.html")
    assert_one_line_error(code, out, err, "regression network", "barenet evaluate")
    assert not (tmp_path / "r.html").exists()


def test_the_web_app_refuses_a_regression_model(trained):
    pytest.importorskip("fastapi")
    from barenet.errors import BarenetError
    from barenet.serve.app import create_app

    model, _, _ = trained
    with pytest.raises(BarenetError, match="regression network .* needs a classifier"):
        create_app(model)


def test_export_writes_predictions_without_softmax(trained, tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model, _, _ = trained
    code, out, err = run(capsys, "export", model, "--onnx", tmp_path / "price.onnx")
    assert code == 0, err
    assert 'output "predictions"' in out
    session = ort.InferenceSession(str(tmp_path / "price.onnx"))
    assert [o.name for o in session.get_outputs()] == ["predictions"]
    X = house_rows(5, seed=9)[0].astype(np.float32)
    (got,) = session.run(None, {"input": X})
    np.testing.assert_allclose(got, load_model(model).predict(X), rtol=1e-5, atol=1e-5)


def test_several_targets_from_an_npz_with_layers(tmp_path, capsys):
    X, y = house_rows(200, seed=1)
    np.savez(tmp_path / "two.npz", X=X, y=np.c_[y, -2 * y], output_names=["up", "down"])
    model = tmp_path / "two_model.npz"
    # 3 features: no image; a --layers network of dense layers still takes them.
    code, out, err = run(capsys, "train", "--data", tmp_path / "two.npz", "--loss", "mse",
                         "--layers", "dense16 relu", "--epochs", 30, "--batch-size", 16,
                         "-q", "-o", model)  # fmt: skip
    assert code == 0, err
    assert "3 inputs -> 2 outputs: up, down" in out
    assert "learning rate 0.01" in out  # regression's default rate, not MNIST's 0.1
    net = load_model(model)
    assert net.class_names == ["up", "down"] and net.output_size == 2
    code, out, err = run(capsys, "evaluate", model, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [o["name"] for o in report["outputs"]] == ["up", "down"] and report["r2"] > 0.8


def test_loss_mse_needs_numbers_to_predict(tmp_path, capsys):
    code, out, err = run(capsys, "train", "--loss", "mse", "-o", tmp_path / "m.npz")
    assert_one_line_error(code, out, err, "--loss mse", "mnist", "--data")
    (tmp_path / "shapes" / "circle").mkdir(parents=True)
    code, out, err = run(capsys, "train", "--loss", "mse", "--data", tmp_path / "shapes",
                         "-o", tmp_path / "m.npz")  # fmt: skip
    assert_one_line_error(code, out, err, "--loss mse", "folder of pictures")
    (tmp_path / "w.csv").write_text("a,label\n1,3\n2,cheap\n")
    code, out, err = run(capsys, "train", "--loss", "mse", "--data", tmp_path / "w.csv",
                         "-o", tmp_path / "m.npz")  # fmt: skip
    assert_one_line_error(code, out, err, "line 3", "not a number")
    assert not (tmp_path / "m.npz").exists()


def test_convolutions_on_features_that_are_no_image_are_refused_in_words(house, tmp_path, capsys):
    code, out, err = run(capsys, "train", "--data", house, "--loss", "mse", "--label-column",
                         "price", "--layers", "conv4x3 relu flatten",
                         "-o", tmp_path / "m.npz")  # fmt: skip
    assert_one_line_error(code, out, err, "convolutions and pooling read images", "3 features")
