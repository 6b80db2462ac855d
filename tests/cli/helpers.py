"""Running ``barenet`` in-process, and checking its one-line errors."""

import pytest

from barenet.cli.main import main

needs_mnist = pytest.mark.mnist


def run(capsys, *argv):
    """``(exit code, stdout, stderr)`` of ``barenet argv``."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, out, err, *words):
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1
    assert "error:" in err
    for word in words:
        assert word in err
