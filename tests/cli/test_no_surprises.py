"""Issue 29 on the command line: your own table data standardised and answered in its units,
never taken for pictures, too small to split refused early; nothing overwritten without
--force; every message about what was saved true."""

import json
import os

import numpy as np
import pytest

from barenet import load_model
from barenet.cli.main import main
from tests.cli.helpers import assert_one_line_error, run

SMALL = ["--hidden", 32, "--epochs", 20, "--batch-size", 32, "-q"]


def write_csv(path, header, rows):
    lines = [",".join(header), *(",".join(f"{v:g}" if isinstance(v, float) else str(v)
                                          for v in row) for row in rows)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def house(tmp_path_factory):
    """Areas in the thousands and prices of about 100 per unit of area, as a user has them."""
    rng = np.random.default_rng(0)
    area = rng.uniform(500, 4000, 300).round(1)
    price = (100 * area + rng.normal(0, 5000, 300)).round()
    rows = [(a, int(r), p) for a, r, p in zip(area, rng.integers(1, 7, 300), price, strict=True)]
    return write_csv(tmp_path_factory.mktemp("house") / "house.csv", ["area", "rooms", "price"],
                     rows)  # fmt: skip


@pytest.fixture(scope="module")
def price_model(house, tmp_path_factory):
    model = tmp_path_factory.mktemp("price") / "price.npz"
    code = main([str(a) for a in ["train", "--data", house, "--loss", "mse", "--label-column",
                                  "price", *SMALL, "-o", model]])  # fmt: skip
    assert code == 0
    return model


# -- own data: standardised, in the user's units ------------------------------------------------


def test_raw_columns_in_the_thousands_are_standardised_and_learned(house, tmp_path, capsys):
    model = tmp_path / "price.npz"
    code, out, err = run(capsys, "train", "--data", house, "--loss", "mse", "--label-column",
                         "price", *SMALL, "-o", model)  # fmt: skip
    assert code == 0, err
    assert "preprocessing: the 2 features standardised" in out and "target" in out
    first = next(line for line in out.splitlines() if line.startswith("epoch   1/"))
    assert float(first.split("loss ")[1].split()[0]) < 10  # was 3.9e16
    r2 = float(out.split("test R^2: ")[1].split()[0])
    assert r2 > 0.9
    net = load_model(model)
    assert net.input_scaling is not None and net.output_scaling is not None
    assert net.image_shape is None and "pictures" not in out


def test_evaluate_and_predict_answer_in_the_targets_units(price_model, house, capsys):
    code, out, err = run(capsys, "evaluate", price_model, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["r2"] > 0.9
    # The price's noise has a standard deviation of 5000: errors in those units, not in 1s.
    assert 3000 < report["outputs"][0]["rmse"] < 10000
    net = load_model(price_model)
    rows = np.loadtxt(house, delimiter=",", skiprows=1)
    predicted = net.predict(rows[:, :2])[:, 0]
    assert np.median(np.abs(predicted - rows[:, 2]) / rows[:, 2]) < 0.1


def test_info_says_the_model_standardises_features(price_model, capsys):
    code, out, _ = run(capsys, "info", price_model)
    assert code == 0 and "preprocessing: the 2 features standardised" in out
    code, out, _ = run(capsys, "info", price_model, "--json")
    info = json.loads(out)
    assert info["inputs"] == "features" and info["image_shape"] is None
    assert set(info["preprocessing"]) == {"inputs", "outputs", "input_range"}
    assert len(info["preprocessing"]["inputs"]["mean"]) == 2


def test_no_standardize_keeps_the_raw_columns_and_says_what_became_of_the_run(
    house, tmp_path, capsys
):
    """The run of the issue: raw columns blow the network up; the message is true."""
    model, history = tmp_path / "raw.npz", tmp_path / "raw.csv"
    code, out, err = run(capsys, "train", "--data", house, "--loss", "mse", "--label-column",
                         "price", *SMALL, "--no-standardize", "-o", model,
                         "--history", history)  # fmt: skip
    assert code == 2, err
    assert "preprocessing" not in out
    assert "training diverged" in err and f"no model saved to {model}" in err
    assert "were kept" not in err and "None" not in err
    assert not model.exists()


def test_a_negative_validation_r2_ends_with_a_warning_and_exit_1(tmp_path, capsys):
    rng = np.random.default_rng(1)
    noise = write_csv(tmp_path / "noise.csv", ["a", "b", "y"], rng.normal(size=(100, 3)).tolist())
    model = tmp_path / "n.npz"
    argv = ["train", "--data", noise, "--loss", "mse", "--label-column", "y", "--hidden", 64,
            "--epochs", 30, "-q", "-o", model]  # fmt: skip
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert "warning: the validation R^2 is -" in err and "--allow-negative-r2" in err
    assert f"model saved to {model}" in out and model.exists()  # said, and true
    code, out, err = run(capsys, *argv, "--allow-negative-r2", "--force")
    assert code == 0 and "R^2" not in err


def test_regression_without_a_label_column_names_the_option(house, tmp_path, capsys):
    code, out, err = run(capsys, "train", "--data", house, "--loss", "mse", "-o", tmp_path / "m")
    assert_one_line_error(code, out, err, "no column 'label'", "area, rooms, price",
                          "with --label-column")  # fmt: skip


# -- features are not pictures ------------------------------------------------------------------


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """A table of four columns and two classes named by words."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    names = np.where(X[:, 0] + X[:, 1] > 0, "tall", "short")
    rows = [[*x.round(4).tolist(), name] for x, name in zip(X, names, strict=True)]
    return write_csv(tmp_path_factory.mktemp("four") / "four.csv", ["a", "b", "c", "d", "label"],
                     rows)  # fmt: skip


def test_four_columns_are_features_and_a_picture_is_refused_in_words(four, tmp_path, capsys):
    model = tmp_path / "four.npz"
    code, out, err = run(capsys, "train", "--data", four, *SMALL, "-o", model)
    assert code == 0, err
    assert "4 inputs -> 2 classes" in out and "pictures" not in out and "2x2" not in out
    from PIL import Image

    Image.fromarray(np.full((28, 28), 200, np.uint8)).save(tmp_path / "photo.png")
    code, out, err = run(capsys, "predict", model, tmp_path / "photo.png")
    assert_one_line_error(code, out, err, "classifier of features", "not pictures",
                          "--image-size", ".predict(X)", "(n, 4)")  # fmt: skip


def test_the_confusion_matrix_of_own_data_is_labelled_with_its_class_names(four, tmp_path, capsys):
    model = tmp_path / "four.npz"
    assert run(capsys, "train", "--data", four, *SMALL, "-o", model)[0] == 0
    code, out, err = run(capsys, "evaluate", model)
    assert code == 0, err
    assert "(16 four test rows)" in out
    matrix = out[out.index("confusion matrix") :].splitlines()
    assert matrix[1].split() == ["true", "short", "tall"]
    assert matrix[2].split()[0] == "short" and matrix[3].split()[0] == "tall"
    assert sum(int(n) for line in matrix[2:4] for n in line.split()[1:]) == 16


def test_long_class_names_number_the_columns_with_a_legend():
    from barenet.cli.models import confusion_lines

    lines = confusion_lines([[3, 1], [0, 4]], ["Ankle boot", "Sneaker"])
    assert lines[1].split() == ["true", "0", "1"]
    assert lines[2].startswith("Ankle boot") and lines[-1] == "columns: 0 Ankle boot, 1 Sneaker"


def test_data_too_small_to_split_is_refused_before_training(tmp_path, capsys):
    tiny = write_csv(tmp_path / "tiny.csv", ["a", "b", "label"], [[1, 2, "x"], [3, 4, "y"]])
    code, out, err = run(capsys, "train", "--data", tiny, "-o", tmp_path / "m.npz")
    assert_one_line_error(code, out, err, "2 samples are too few to split", "at least 3")
    assert not (tmp_path / "m.npz").exists()


# -- nothing overwritten -----------------------------------------------------------------------


def _no_training(*args, **kwargs):
    raise AssertionError("training started before the output was checked")


def test_an_existing_model_is_not_replaced_without_force(four, tmp_path, capsys, monkeypatch):
    keep = tmp_path / "keep.npz"
    assert run(capsys, "train", "--data", four, *SMALL, "-o", keep)[0] == 0
    before = keep.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr("barenet.network.NeuralNetwork.train", _no_training)
        code, out, err = run(capsys, "train", "--data", four, *SMALL, "-o", keep)
    assert_one_line_error(code, out, err, f"-o {keep}: the file exists", "--force")
    assert keep.read_bytes() == before
    code, out, err = run(capsys, "train", "--data", four, *SMALL, "--epochs", 1, "-o", keep,
                         "--force")  # fmt: skip
    assert code == 0 and keep.read_bytes() != before


def test_the_default_model_file_is_not_replaced_either(four, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "train", "--data", four, *SMALL)[0] == 0
    assert os.path.exists("barenet-model.npz")
    monkeypatch.setattr("barenet.network.NeuralNetwork.train", _no_training)
    code, out, err = run(capsys, "train", "--data", four, *SMALL)
    assert_one_line_error(code, out, err, "-o barenet-model.npz: the file exists", "--force")


def test_a_model_is_never_written_under_another_formats_name(four, tmp_path, capsys):
    code, out, err = run(capsys, "train", "--data", four, "-o", tmp_path / "model.onnx")
    assert_one_line_error(code, out, err, "an ONNX model", "barenet export",
                          str(tmp_path / "model.npz"))  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_report_export_checkpoint_and_history_outputs_follow_the_same_rule(
    price_model, four, tmp_path, capsys, monkeypatch
):
    existing = tmp_path / "there.html"
    existing.write_text("mine")
    code, out, err = run(capsys, "report", price_model, "-o", existing)
    assert_one_line_error(code, out, err, "the file exists", "--force")
    onnx = tmp_path / "there.onnx"
    onnx.write_bytes(b"mine")
    code, out, err = run(capsys, "export", price_model, "--onnx", onnx)
    assert_one_line_error(code, out, err, "the file exists", "--force")
    assert existing.read_text() == "mine" and onnx.read_bytes() == b"mine"
    code, out, err = run(capsys, "export", price_model, "--onnx", tmp_path / "m.npz")
    assert_one_line_error(code, out, err, "name the ONNX file with .onnx")
    code, out, err = run(capsys, "export", price_model, "--onnx", onnx, "--force")
    assert code == 0 and onnx.read_bytes() != b"mine"
    ckpt, history = tmp_path / "run.ckpt", tmp_path / "run.csv"
    ckpt.write_bytes(b"an older run")
    history.write_text("mine")
    monkeypatch.setattr("barenet.network.NeuralNetwork.train", _no_training)
    code, out, err = run(capsys, "train", "--data", four, "--checkpoint", ckpt, "-o",
                         tmp_path / "m.npz")  # fmt: skip
    assert_one_line_error(code, out, err, "--checkpoint", "--resume continues from it",
                          "--force starts over")  # fmt: skip
    code, out, err = run(capsys, "train", "--data", four, "--history", history, "-o",
                         tmp_path / "m.npz")  # fmt: skip
    assert_one_line_error(code, out, err, f"--history {history}: the file exists")


# -- nothing claimed that did not happen ------------------------------------------------------


def _interrupt_in_the_second_epoch(monkeypatch):
    from barenet.train.trainer import Trainer

    real = Trainer.train_epoch

    def train_epoch(self, X, y):
        if self.epoch == 1:
            raise KeyboardInterrupt
        return real(self, X, y)

    monkeypatch.setattr(Trainer, "train_epoch", train_epoch)


def test_ctrl_c_names_the_history_only_when_one_was_written(four, tmp_path, capsys, monkeypatch):
    _interrupt_in_the_second_epoch(monkeypatch)
    model, history = tmp_path / "m.npz", tmp_path / "h.csv"
    code, _, err = run(capsys, "train", "--data", four, *SMALL, "-o", model)
    assert code == 130
    assert "after 1 complete epoch(s)" in err and f"no model saved to {model}" in err
    assert "None" not in err and "figures" not in err
    code, _, err = run(capsys, "train", "--data", four, *SMALL, "-o", model, "--history", history)
    assert code == 130
    assert f"the figures of 1 epoch(s) are in {history}" in err and history.exists()
    assert "nothing was saved" not in err and not model.exists()


def test_a_network_too_large_for_memory_is_one_line_before_any_work(tmp_path, capsys):
    code, out, err = run(capsys, "train", "--hidden", 200000, 200000, "-o", tmp_path / "m.npz")
    assert_one_line_error(code, out, err, "needs about", "GB of memory", "available")
    assert "MemoryError" not in err
