"""Shared setup of the command-line tests: one quick model that ``barenet train`` saved."""

import contextlib
import io

import pytest

from barenet.cli.main import main

pytest.register_assert_rewrite("tests.cli.helpers")  # its asserts explain their failures


@pytest.fixture(scope="package")
def trained(tmp_path_factory):
    """``(model path, stdout)`` of one quick ``barenet train`` run without a validation set."""
    path = tmp_path_factory.mktemp("cli") / "model.npz"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        options = "--epochs 1 --hidden 32 --validation-size 0 --quiet".split()
        code = main(["train", *options, "--output", str(path)])
    assert code == 0
    return path, out.getvalue()
