"""The barenet command, run in-process through main() on the real MNIST (BARENET_DATA)."""

import contextlib
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import barenet.cli.main
from barenet import NeuralNetwork, load_mnist, load_model
from barenet.cli.main import TRAIN_DEFAULTS, build_network, build_parser, main
from barenet.data import data_home

needs_mnist = pytest.mark.mnist


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(model path, stdout)`` of one quick ``barenet train`` run without a validation set."""
    path = tmp_path_factory.mktemp("cli") / "model.npz"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        options = "--epochs 1 --hidden 32 --validation-size 0 --quiet".split()
        code = main(["train", *options, "--output", str(path)])
    assert code == 0
    return path, out.getvalue()


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory):
    """The first ten MNIST test digits as PNG files, with their labels."""
    folder = tmp_path_factory.mktemp("digits")
    _, _, images, labels = load_mnist(download=False)
    paths = []
    for i in range(10):
        paths.append(folder / f"digit{i}.png")
        Image.fromarray(images[i]).save(paths[-1])
    return paths, labels[:10]


def run(capsys, *argv):
    """``(exit code, stdout, stderr)`` of ``barenet argv``."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- train ----------------------------------------------------------------------------------------


@needs_mnist
def test_train_saves_a_model_and_prints_its_test_accuracy(trained):
    path, out = trained
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    assert 80 < accuracy <= 100
    assert f"model saved to {path}" in out
    net = load_model(path)
    assert net.hidden_sizes == [32]
    # One epoch of history was saved with the model, without validation figures.
    assert len(net.history["train_loss"]) == 1 and "val_loss" not in net.history


def test_train_defaults_all_come_from_train_defaults(monkeypatch):
    args = build_parser().parse_args(["train"])
    assert {key: getattr(args, key) for key in TRAIN_DEFAULTS} == TRAIN_DEFAULTS
    # Tuning the dict is enough to change the command, evaluate's default model included.
    monkeypatch.setitem(TRAIN_DEFAULTS, "epochs", 33)
    monkeypatch.setitem(TRAIN_DEFAULTS, "output", "tuned.npz")
    assert build_parser().parse_args(["train"]).epochs == 33
    assert build_parser().parse_args(["evaluate"]).model == "tuned.npz"


def test_build_network_uses_every_option():
    options = (
        "--hidden 20 10 --lr 0.003 --optimizer adam --activation tanh --init he --dropout 0.2 "
        "--batch-norm --l2 1e-4 --l1 1e-5 --dtype float64 --seed 7"
    )
    args = build_parser().parse_args(["train", *options.split()])
    net = build_network(args)
    config = net.get_config()
    assert net.hidden_sizes == [20, 10] and config["optimizer"]["name"] == "adam"
    assert config["optimizer"]["learning_rate"] == 0.003
    assert (net.activation, net.init, config["dtype"]) == ("tanh", "he", "float64")
    assert (net.dropout, net.batch_norm, config["seed"]) == (0.2, True, 7)
    assert (config["l2"], config["l1"]) == (1e-4, 1e-5)
    assert net.describe() == (
        "dense20 batchnorm tanh dropout0.2 dense10 batchnorm tanh dropout0.2 dense10"
    )


# -- evaluate -------------------------------------------------------------------------------------


@needs_mnist
def test_evaluate_json_report(trained, capsys):
    code, out, err = run(capsys, "evaluate", trained[0], "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert 0 <= report["accuracy"] <= 1 and report["loss"] > 0
    assert report["n_samples"] == 10000
    confusion = np.array(report["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10000
    assert np.trace(confusion) / 10000 == pytest.approx(report["accuracy"])
    assert [row["class"] for row in report["per_class"]] == list(range(10))
    assert [row["support"] for row in report["per_class"]] == confusion.sum(axis=1).tolist()
    assert set(report["per_class"][0]) == {"class", "precision", "recall", "f1", "support"}


@needs_mnist
def test_evaluate_text_report_agrees_with_json(trained, capsys):
    report = json.loads(run(capsys, "evaluate", trained[0], "--json")[1])
    code, out, _ = run(capsys, "evaluate", trained[0])
    assert code == 0
    assert f"accuracy {report['accuracy']:.2%}" in out and f"loss {report['loss']:.4f}" in out
    lines = out.splitlines()
    # The last ten lines are the confusion matrix, each row led by its true class.
    matrix = [[int(v) for v in line.split()] for line in lines[-10:]]
    assert [row[1:] for row in matrix] == report["confusion_matrix"]
    assert [row[0] for row in matrix] == list(range(10))


# -- predict --------------------------------------------------------------------------------------


@needs_mnist
def test_predict_reads_mnist_digits_from_png_files(trained, digit_files, capsys):
    paths, labels = digit_files
    code, out, _ = run(capsys, "predict", trained[0], *paths)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 10
    found = [re.fullmatch(r"(.+): (\d) \(probability ([\d.]+)\)", line) for line in lines]
    assert [m.group(1) for m in found] == [str(p) for p in paths]
    digits = np.array([int(m.group(2)) for m in found])
    assert np.count_nonzero(digits == labels) >= 8


@needs_mnist
def test_predict_json_with_top_classes(trained, digit_files, capsys):
    paths, _ = digit_files
    code, out, _ = run(capsys, "predict", trained[0], paths[0], paths[1], "--json", "--top", "3")
    assert code == 0
    predictions = json.loads(out)["predictions"]
    assert [p["path"] for p in predictions] == [str(paths[0]), str(paths[1])]
    for p in predictions:
        probabilities = [t["probability"] for t in p["top"]]
        assert len(p["top"]) == 3 and len({t["class"] for t in p["top"]}) == 3
        assert all(t["name"] == str(t["class"]) for t in p["top"])  # MNIST's class names
        assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1
        assert (p["class"], p["probability"]) == (p["top"][0]["class"], probabilities[0])


@needs_mnist
def test_predict_text_with_top_classes_lists_the_runners_up(trained, digit_files, capsys):
    code, out, _ = run(capsys, "predict", trained[0], digit_files[0][0], "--top", "2")
    assert code == 0
    assert re.fullmatch(r".+: \d \(probability [\d.]+\); next: \d \([\d.]+\)\n", out)


# -- errors ---------------------------------------------------------------------------------------


def assert_one_line_error(code, out, err, *words):
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1
    assert "error:" in err
    for word in words:
        assert word in err


def test_missing_model_file(tmp_path, capsys):
    missing = tmp_path / "nothing.npz"
    assert_one_line_error(*run(capsys, "evaluate", missing), str(missing), "no such file")


@needs_mnist
def test_predict_refuses_a_file_that_is_not_an_image(trained, tmp_path, capsys):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    assert_one_line_error(*run(capsys, "predict", trained[0], text), str(text), "not an image")


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--hidden", "0"], ["--hidden", "must be >= 1, got 0"]),
        (["train", "--epochs", "-1"], ["--epochs", "must be >= 1, got -1"]),
        (["train", "--epochs", "two"], ["--epochs", "expected an integer"]),
        (["train", "--optimizer", "sgdx"], ["--optimizer", "'sgdx'", "adam"]),
        (["train", "--lr", "-1"], ["learning_rate must be > 0"]),
        (["train", "--dropout", "1.5"], ["dropout must be in [0, 1)"]),
        (["train", "--output", "no/such/folder/m.npz"], ["no/such/folder/m.npz", "no folder"]),
        (["predict", "model.npz"], ["IMAGE"]),
        (["predict", "model.npz", "x.png", "--top", "0"], ["--top"]),
        ([], ["COMMAND"]),
    ],
)
def test_bad_options_are_one_line_errors(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a run that wrongly went ahead would write nothing elsewhere
    assert_one_line_error(*run(capsys, *argv), *words)
    assert list(tmp_path.iterdir()) == []


@needs_mnist
def test_download_with_the_files_present_prints_the_folder(capsys):
    # Nothing is missing, so nothing is fetched: this runs offline.
    code, out, _ = run(capsys, "download", "--data-dir", data_home())
    assert code == 0 and out == f"mnist is in {data_home()}\n"


def test_ctrl_c_exits_130_without_traceback(monkeypatch, capsys):
    def interrupted(name, data_dir):
        raise KeyboardInterrupt

    monkeypatch.setattr(barenet.cli.main, "download_dataset", interrupted)
    code, out, err = run(capsys, "download")
    assert code == 130 and out == "" and err == "barenet: interrupted\n"


def test_unexpected_failures_exit_1_without_traceback(monkeypatch, capsys):
    def broken(name, data_dir):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(barenet.cli.main, "download_dataset", broken)
    code, _, err = run(capsys, "download")
    assert code == 1 and err == "barenet: error: RuntimeError: disk on fire\n"


# -- help -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "download"])
def test_each_command_has_help_with_an_example(command, capsys):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: barenet {command}")
    assert re.search(rf"example:\n  barenet {command} ", out)


def test_download_help_names_the_data_folder_option(capsys):
    out = run(capsys, "download", "--help")[1]
    assert "--data-dir" in out and "BARENET_DATA" in out


def test_train_help_shows_the_defaults(capsys):
    out = run(capsys, "train", "--help")[1]
    assert f"(default: {TRAIN_DEFAULTS['hidden']})" in out and "(default: [512, 256])" in out
    assert f"(default: {TRAIN_DEFAULTS['output']})" in out


def test_python_dash_m_barenet_help():
    result = subprocess.run(
        [sys.executable, "-m", "barenet", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: barenet")
    for command in ("train", "evaluate", "predict", "download"):
        assert command in result.stdout


def test_installed_barenet_script_help():
    beside_python = Path(sys.executable).with_name("barenet")
    script = str(beside_python) if beside_python.exists() else shutil.which("barenet")
    if script is None:
        pytest.skip("the barenet script is not installed")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("usage: barenet")


# -- the training toolkit from the command line ----------------------------------------------------


@needs_mnist
def test_toolkit_options_reach_training_and_the_model_file(tmp_path, capsys):
    path = tmp_path / "m.npz"
    code, out, err = run(
        capsys,
        "train",
        "--hidden",
        32,
        "--epochs",
        2,
        "--optimizer",
        "nesterov",
        "--lr",
        0.05,
        "--schedule",
        "cosine",
        "--warmup",
        0.5,
        "--augment",
        "shift",
        "--max-shift",
        1,
        "--dropout",
        0.1,
        "--early-stopping",
        5,
        "--clip-norm",
        5,
        "--quiet",
        "-o",
        path,
    )
    assert code == 0, err
    net = load_model(path)
    info = net.training_info
    assert net.optimizer.config()["nesterov"] and net.dropout == 0.1
    assert info.schedule["name"] == "warmup" and info.schedule["then"]["name"] == "cosine"
    assert info.augment == {"name": "shift", "max_shift": 1}
    assert info.early_stopping == 5 and info.clip_norm == 5 and info.best_epoch in (1, 2)
    assert 0.8 < info.test_accuracy <= 1 and f"{info.test_accuracy:.2%}" in out


@needs_mnist
def test_ctrl_c_saves_and_resume_finishes_the_run(tmp_path):
    """A real SIGINT to a real `barenet train`: exit 130 naming the checkpoint; --resume ends."""
    import signal
    import time

    ckpt, model = tmp_path / "run.ckpt", tmp_path / "m.npz"
    args = [
        sys.executable,
        "-m",
        "barenet",
        "train",
        "--hidden",
        "32",
        "--epochs",
        "40",
        "--batch-size",
        "32",
        "--quiet",
        "--checkpoint",
        str(ckpt),
        "-o",
        str(model),
    ]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ckpt.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "training interrupted after" in err and str(ckpt) in err and "Traceback" not in err
    assert not model.exists()
    done = subprocess.run(
        [*args[:7], "2", *args[8:], "--resume"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert len(load_model(model).history["train_loss"]) >= 2


def test_train_defaults_are_the_documented_default_recipe():
    """`barenet train` with no options builds and trains the README's "default" recipe."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "accuracy_recipes.py"
    spec = importlib.util.spec_from_file_location("accuracy_recipes", path)
    recipes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipes)
    recipe = recipes.RECIPES["default"]
    args = build_parser().parse_args(["train"])
    net = build_network(args)
    expected = NeuralNetwork(**recipe["network"])
    assert net.get_config() == {**expected.get_config(), "seed": 0}
    options = barenet.cli.main.train_options(args)
    assert {k: options[k] for k in recipe["train"] if k != "augment"} == {
        k: v for k, v in recipe["train"].items() if k != "augment"
    }
    from barenet.train.augment import get_augmentation

    assert (
        get_augmentation(options["augment"]).config()
        == get_augmentation(recipe["train"]["augment"]).config()
    )
