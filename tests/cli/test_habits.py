"""What users of other tools expect of a command line (issue 18): a summary and a bar per batch,
-q hiding only the bar, --history, info, resume said, Ctrl-C truthful, predict answering every
good picture, a closed pipe being no error, the optimizer that ran, per-study help."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import barenet.cli.files
import barenet.data.mnist
import barenet.network
from barenet import load_mnist, load_model
from tests.cli.helpers import assert_one_line_error, needs_mnist, run

DIGITS = ["--dataset", "digits", "--hidden", "16", "--batch-size", "64"]


def test_summary_bar_per_batch_epoch_lines_and_history(tmp_path, capsys):
    model, history = tmp_path / "m.npz", tmp_path / "run.csv"
    code, out, err = run(capsys, "train", *DIGITS, "--epochs", 2, "-o", model, "--history", history)
    assert code == 0, err
    # The summary before training: layers with their parameters, data sizes, optimizer.
    assert "dense_0  16" in out and "1,040" in out and "total: 1,210 parameters" in out
    assert "data: digits, 1,137 training, 300 validation, 360 test samples" in out
    assert "optimizer: SGD with Nesterov momentum 0.9, learning rate 0.1" in out
    assert "training: 2 epochs of 18 batches of 64" in out
    assert "augmentation none" in out  # 8x8 digits are not distorted
    assert out.index("optimizer:") < out.index("epoch   1/2")
    # The bar counts batches (2 epochs of 18) with the running loss, on stderr.
    assert "36/36" in err and "batch" in err and "loss " in err
    rows = history.read_text().splitlines()
    assert rows[0].startswith("epoch,train_loss,train_accuracy") and len(rows) == 3
    assert [float(r.split(",")[1]) for r in rows[1:]] == load_model(model).history["train_loss"]
    code, out, err = run(capsys, "train", *DIGITS, "--epochs", 2, "-q", "-o", model,
                         "--history", tmp_path / "run.json", "--force")  # fmt: skip
    assert code == 0 and err == ""  # -q: no bar...
    assert "epoch   1/2" in out and "epoch   2/2" in out  # ...and the per-epoch lines stay
    assert [row["epoch"] for row in json.loads((tmp_path / "run.json").read_text())] == [1, 2]


def test_info_describes_a_model_without_any_data(tmp_path, capsys, monkeypatch):
    model = tmp_path / "m.npz"
    assert run(capsys, "train", *DIGITS, "--epochs", 1, "-q", "-o", model)[0] == 0
    accuracy = load_model(model).training_info.test_accuracy
    monkeypatch.setenv("BARENET_DATA", str(tmp_path / "nowhere"))  # no data to read
    code, out, _ = run(capsys, "info", model)
    assert code == 0
    assert "network: dense16 relu dense10" in out and "total: 1,210 parameters" in out
    assert "optimizer: SGD with Nesterov momentum 0.9, learning rate 0.1" in out
    assert "trained: 1 epoch, batch 64, schedule cosine (down to 0)" in out
    assert f"test accuracy: {accuracy:.2%}" in out and "data: digits" in out
    info = json.loads(run(capsys, "info", model, "--json")[1])
    assert info["parameters"] == 1210 and info["test_accuracy"] == accuracy


def test_resume_says_where_it_resumes_and_refuses_other_settings(tmp_path, capsys):
    ckpt, model = tmp_path / "run.ckpt", tmp_path / "m.npz"
    base = [*DIGITS, "-q", "--checkpoint", ckpt, "-o", model]
    assert run(capsys, "train", *base, "--epochs", 2)[0] == 0
    base.append("--force")  # the model of the first run is replaced by the longer run's
    code, out, err = run(capsys, "train", *base, "--epochs", 3, "--resume")
    assert code == 0, err
    assert f"resuming at epoch 3 of 3 from {ckpt}" in out
    assert "its run was set for 2 epochs: the schedule now spans 3" in out
    assert len(load_model(model).history["train_loss"]) == 3
    # Other settings are refused (the summary was printed; the error is one line, no training).
    code, out, err = run(capsys, "train", *base, "--epochs", 4, "--resume", "--lr", 0.5)
    assert code == 2 and "epoch   1/" not in out and err.count("\n") == 1
    assert "learning rate 0.1, not" in err and "learning rate 0.5" in err
    code, out, err = run(capsys, "train", *base, "--epochs", 4, "--resume", "--hidden", 8)
    assert code == 2 and str(ckpt) in err and "layers" in err
    assert len(load_model(model).history["train_loss"]) == 3  # the model was left as it was


def test_ctrl_c_before_the_first_checkpoint_says_nothing_was_saved(tmp_path, capsys, monkeypatch):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("barenet.train.trainer.Trainer.train_batch", interrupted)
    ckpt = tmp_path / "run.ckpt"
    code, _, err = run(capsys, "train", *DIGITS, "-q", "--checkpoint", ckpt,
                       "-o", tmp_path / "m.npz")  # fmt: skip
    assert code == 130
    assert "after 0 complete epoch(s); nothing was saved" in err and not ckpt.exists()
    assert f"no model saved to {tmp_path / 'm.npz'}" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    _, _, images, labels = load_mnist(download=False)
    for i in range(3):
        Image.fromarray(images[i]).save(folder / f"digit{i}.png")
    Image.new("L", (28, 28), 0).save(folder / "blank.png")
    return folder, labels[:3]


@needs_mnist
def test_predict_answers_every_good_picture_and_names_each_bad_one(trained, pictures, capsys):
    folder, labels = pictures
    files = [folder / "digit0.png", folder / "blank.png", folder / "digit1.png", "missing.png"]
    code, out, err = run(capsys, "predict", trained[0], *files)
    assert code == 2
    assert [line.split(":")[0] for line in out.splitlines()] == [
        str(folder / "digit0.png"),
        str(folder / "digit1.png"),
    ]
    assert f"barenet: error: {folder / 'blank.png'}: " in err and "blank image" in err
    assert "barenet: error: missing.png: no such file" in err and err.count("\n") == 2
    code, out, err = run(capsys, "predict", trained[0], folder, "--json")  # a whole folder
    result = json.loads(out)
    assert code == 2 and len(result["predictions"]) == 3
    assert [e["path"] for e in result["errors"]] == [str(folder / "blank.png")]
    code, out, _ = run(capsys, "predict", trained[0], folder / "digit2.png", "--csv", "--top", 2)
    header, row = out.splitlines()
    assert header == "path,class,name,probability,name_2,probability_2"
    assert row.startswith(f"{folder / 'digit2.png'},") and len(row.split(",")) == 6


@needs_mnist
def test_evaluate_shows_the_optimizer_that_ran(trained, capsys):
    code, out, _ = run(capsys, "evaluate", trained[0])
    assert code == 0
    assert "SGD with Nesterov momentum 0.9, learning rate 0.1" in out.splitlines()[0]
    report = json.loads(run(capsys, "evaluate", trained[0], "--json")[1])
    assert report["optimizer"] == "SGD with Nesterov momentum 0.9, learning rate 0.1"


@needs_mnist
def test_a_closed_pipe_is_not_an_error(trained):
    """`barenet evaluate ... | head`: the reader is gone before the report is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "barenet", "evaluate", str(trained[0])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # as `head` does once it has its lines
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert b"Broken pipe" not in err and b"Traceback" not in err and err == b""


def test_missing_data_speaks_of_the_option_and_the_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(barenet.data.mnist, "MIRRORS", ("http://127.0.0.1:9/",))
    code, out, err = run(capsys, "evaluate", "--data-dir", tmp_path / "none", "--dataset", "mnist",
                         tmp_path / "m.npz")  # fmt: skip
    assert code == 2  # the model is missing: that is said first
    barenet.network.NeuralNetwork(784, [4], 10).save_model(tmp_path / "m.npz")
    code, out, err = run(capsys, "evaluate", tmp_path / "m.npz", "--data-dir", tmp_path / "none")
    assert code == 2 and "--data-dir" in err and "BARENET_DATA" in err
    assert "data_dir" not in err
    assert not (tmp_path / "none").exists()  # the failed download left no folder behind


def test_export_without_onnx_is_a_sentence_and_exit_2(tmp_path, capsys, monkeypatch):
    barenet.network.NeuralNetwork(6, [5], 3).save_model(tmp_path / "m.npz")
    monkeypatch.delitem(sys.modules, "barenet.files.onnx", raising=False)
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    code, out, err = run(capsys, "export", tmp_path / "m.npz", "--onnx", tmp_path / "m.onnx")
    assert_one_line_error(code, out, err, "onnx package", "pip install barenet[onnx]")
    assert "ImportError" not in err


def test_each_study_has_its_own_help_and_says_its_defaults(capsys):
    pages = {}
    for study in ("architectures", "learning-rates", "dynamics", "robustness"):
        code, out, _ = run(capsys, "experiment", study, "--help")
        assert code == 0 and out.startswith(f"usage: barenet experiment {study}")
        pages[study] = out
    assert "--architecture" in pages["architectures"] and "--model" not in pages["architectures"]
    assert "--perturbations" in pages["robustness"] and "--optimizers" not in pages["robustness"]
    assert "--optimizers" in pages["learning-rates"] and "--activation" in pages["dynamics"]
    assert "--epochs 10 (train: 16)" in pages["dynamics"]
    assert "--optimizer sgd (train: nesterov)" in pages["architectures"].replace("\n", " ")
    assert len(set(pages.values())) == 4


def test_an_option_of_another_study_is_refused(tmp_path, capsys):
    argv = ["experiment", "architectures", "--perturbations", "noise", "-o", tmp_path]
    code, out, err = run(capsys, *argv)
    assert_one_line_error(code, out, err, "--perturbations", "robustness study")
    assert list(tmp_path.iterdir()) == []


def test_a_fractional_warmup_then_cosine_runs_to_the_end_with_adam(tmp_path, capsys):
    """`--warmup 0.5` with cosine used to reach a rate of 0 half an epoch early, where Adam
    divided by zero; now the rate falls over the 1.5 epochs after the warm-up."""
    model = tmp_path / "m.npz"
    code, _, err = run(capsys, "train", *DIGITS, "--optimizer", "adam", "--lr", 0.01,
                       "--warmup", 0.5, "--epochs", 2, "-q", "-o", model)  # fmt: skip
    assert code == 0, err
    rates = load_model(model).history["learning_rate"]  # the rate of each epoch's last batch
    batches = 18
    expected = 0.01 * (1 + np.cos(np.pi * (1.5 - 1 / batches) / 1.5)) / 2
    assert rates[-1] > 0 and rates[-1] == pytest.approx(expected)
