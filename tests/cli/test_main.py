"""The entry point: every command's help, the one-line errors and the exit codes, the scripts."""

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import barenet.cli.files
import barenet.cli.train
from barenet.cli.main import build_parser
from tests.cli.helpers import assert_one_line_error, run


def test_missing_model_file(tmp_path, capsys):
    missing = tmp_path / "nothing.npz"
    assert_one_line_error(*run(capsys, "evaluate", missing), str(missing), "no such file")


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--hidden", "0"], ["--hidden", "must be >= 1, got 0"]),
        (["train", "--epochs", "-1"], ["--epochs", "must be >= 1, got -1"]),
        (["train", "--epochs", "two"], ["--epochs", "expected an integer"]),
        (["train", "--optimizer", "sgdx"], ["--optimizer", "'sgdx'", "adam"]),
        # Option checks speak options (issue 18), not the Python names (learning_rate...).
        (["train", "--lr", "-1"], ["--lr", "must be > 0, got -1"]),
        (["train", "--l2", "-0.5"], ["--l2", "must be >= 0, got -0.5"]),
        (["train", "--momentum", "1"], ["--momentum", "must be >= 0 and < 1, got 1"]),
        (["train", "--dropout", "1.5"], ["--dropout must be in [0, 1)"]),
        (["train", "--output", "no/such/folder/m.npz"], ["no/such/folder/m.npz", "no folder"]),
        (["train", "--history", "no/such/h.csv"], ["--history no/such/h.csv", "no folder"]),
        (["train", "--history", "h.txt"], ["--history h.txt", ".csv or .json"]),
        (["train", "--resume"], ["--resume", "--checkpoint PATH"]),
        (["train", "--checkpoint", "a.npz", "-o", "a.npz"], ["must name different files"]),
        (["train", "--image-size", "32"], ["--image-size", "--data PATH"]),
        (["train", "--data", "nowhere"], ["nowhere", "no such file or folder"]),
        (["train", "--data", "d/", "--dataset", "digits"], ["--data", "--dataset"]),
        (["train", "--data", "d/", "--data-dir", "x"], ["--data", "--data-dir"]),
        (["experiment", "architectures", "--model", "m.npz"], ["robustness study"]),
        (["experiment", "dynamics", "--optimizers", "sgd"], ["learning-rates study"]),
        (["report", "m.npz", "-o", "no/such/r.html"], ["no/such/r.html", "no folder"]),
        (["export", "m.npz", "--onnx", "no/such/m.onnx"], ["no/such/m.onnx", "no folder"]),
        (["predict", "model.npz"], ["IMAGE"]),
        (["predict", "model.npz", "x.png", "--top", "0"], ["--top"]),
        ([], ["COMMAND"]),
    ],
)
def test_bad_options_are_one_line_errors(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a run that wrongly went ahead would write nothing elsewhere
    assert_one_line_error(*run(capsys, *argv), *words)
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_a_folder_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    """`-o` naming a folder used to train to the end, then fail on an internal temporary file
    (`.adir.06af9529.tmp: Is a directory`): now the user's path is named at once."""
    folder = tmp_path / "adir"
    folder.mkdir()
    monkeypatch.setattr(barenet.cli.train, "load_dataset", _no_loading)
    for argv in (
        ["train", "-o", folder],
        ["train", "--history", tmp_path / "h.csv", "--checkpoint", folder],
        ["report", "m.npz", "-o", folder],
        ["export", "m.npz", "--onnx", folder],
    ):
        assert_one_line_error(*run(capsys, *argv), f"{folder}: is a folder")
    assert list(folder.iterdir()) == []


def _no_loading(*args, **kwargs):
    raise AssertionError("data was loaded before the output path was checked")


def test_ctrl_c_exits_130_without_traceback(monkeypatch, capsys):
    def interrupted(name, data_dir):
        raise KeyboardInterrupt

    monkeypatch.setattr(barenet.cli.files, "download_dataset", interrupted)
    code, out, err = run(capsys, "download")
    assert code == 130 and out == "" and err == "barenet: interrupted\n"


def test_unexpected_failures_exit_1_without_traceback(monkeypatch, capsys):
    def broken(name, data_dir):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(barenet.cli.files, "download_dataset", broken)
    code, _, err = run(capsys, "download")
    assert code == 1 and err == "barenet: error: RuntimeError: disk on fire\n"


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "info", "download"])
def test_each_command_has_help_with_an_example(command, capsys):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: barenet {command}")
    assert re.search(rf"example:\n  barenet {command} ", out)


def test_help_lists_the_commands_in_order(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    listed = re.findall(r"^    (\w+)", out, flags=re.M)
    commands_in_order = "train evaluate predict info download export experiment report serve course"
    assert listed == commands_in_order.split()
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(commands.choices) == listed


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
