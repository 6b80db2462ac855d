"""``barenet train``, run in-process through main() on the real MNIST (BARENET_DATA)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import barenet.cli.train
from barenet import NeuralNetwork, load_model
from barenet.cli.main import build_parser
from barenet.cli.parsing import TRAIN_DEFAULTS
from barenet.cli.train import build_network
from tests.cli.helpers import assert_one_line_error, needs_mnist, run


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


@pytest.mark.parametrize(
    "options, rate",
    [
        ("--optimizer adam", 0.001),  # Adam's own rate, not the recipe's 0.1 for Nesterov
        ("--optimizer sgd", 0.01),
        ("--optimizer nesterov", 0.1),  # the recipe's optimizer keeps the recipe's rate
        ("--optimizer adam --lr 0.02", 0.02),
        ("--model cnn --optimizer rmsprop", 0.001),
        ("--model cnn", 0.05),
    ],
)
def test_an_optimizer_named_without_lr_runs_at_its_own_default_rate(options, rate):
    args = build_parser().parse_args(["train", *options.split()])
    assert build_network(args).learning_rate == rate


def test_train_help_shows_the_defaults(capsys):
    out = run(capsys, "train", "--help")[1]
    assert f"(default: {TRAIN_DEFAULTS['hidden']})" in out and "(default: [512, 256])" in out
    assert f"(default: {TRAIN_DEFAULTS['output']})" in out


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
    # A shell's background job (`pytest ... &`) inherits SIGINT ignored, and so would barenet:
    # give it the default disposition, as at a terminal.
    proc = subprocess.Popen(
        args,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
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

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "accuracy_recipes.py"
    spec = importlib.util.spec_from_file_location("accuracy_recipes", path)
    recipes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipes)
    recipe = recipes.RECIPES["default"]
    args = build_parser().parse_args(["train"])
    net = build_network(args)
    expected = NeuralNetwork(**recipe["network"])
    assert net.get_config() == {**expected.get_config(), "seed": 0}
    options = barenet.cli.train.train_options(args)
    assert {k: options[k] for k in recipe["train"] if k != "augment"} == {
        k: v for k, v in recipe["train"].items() if k != "augment"
    }
    from barenet.train.augment import get_augmentation

    assert (
        get_augmentation(options["augment"]).config()
        == get_augmentation(recipe["train"]["augment"]).config()
    )


def parse_train(line):
    return build_parser().parse_args(["train", *line.split()])


def test_layers_build_any_stack_with_one_output_unit_per_class():
    args = build_parser().parse_args(
        ["train", "--layers", "conv8x3 relu pool2 flatten dense32 relu", "--lr", "0.02"]
    )
    net = build_network(args)
    assert net.describe() == "conv8x3 relu pool2 flatten dense32 relu dense10"
    assert net.input_shape == (28, 28, 1) and net.learning_rate == 0.02
    flat = build_network(build_parser().parse_args(["train", "--layers", "dense64 gelu"]))
    assert flat.input_shape == (784,) and flat.describe() == "dense64 gelu dense10"


def test_model_cnn_is_the_preset_and_options_given_win_whatever_their_place():
    preset = barenet.cli.train.MODEL_PRESETS["cnn"]
    args = parse_train("--epochs 16 --model cnn")  # 16 is also the mlp default: it still wins
    net = build_network(args)
    assert net.describe() == preset["layers"] + " dense10"
    assert (args.epochs, args.batch_size) == (16, preset["batch_size"])
    assert net.learning_rate == preset["learning_rate"]
    assert parse_train("--model mlp").hidden == TRAIN_DEFAULTS["hidden"]


def test_layer_options_that_cannot_apply_are_refused(capsys):
    for argv, words in [
        (["--model", "cnn", "--hidden", "10"], ["--hidden", "--layers"]),
        (["--layers", "dense8", "--hidden", "10"], ["--hidden or --layers"]),
        (["--layers", "dense8", "--dropout", "0.2"], ["--dropout", "'dropout0.2'"]),
        (["--layers", "dense8 relu wobble3"], ["unknown layer 'wobble3'"]),
        (["--layers", "conv8x3 dense8"], ["put flatten (or gap) before it"]),
    ]:
        assert_one_line_error(*run(capsys, "train", *argv, "-o", "never.npz"), *words)
    assert not Path("never.npz").exists()
