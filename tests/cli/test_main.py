"""The entry point: every command's help, the one-line errors and the exit codes, the scripts."""

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import barenet.cli.files
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


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "download"])
def test_each_command_has_help_with_an_example(command, capsys):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: barenet {command}")
    assert re.search(rf"example:\n  barenet {command} ", out)


def test_help_lists_the_commands_in_order(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    listed = re.findall(r"^    (\w+)", out, flags=re.M)
    assert listed == "train evaluate predict download export experiment report serve".split()
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
