"""The test suite's own setup (tests/conftest.py), run in sessions of its own with pytester: on a
fresh machine the tests marked mnist get MNIST once, from mirrors served on 127.0.0.1 here; when
the download fails they are skipped with a one-line reason, or fail in CI; and the slow tests
are left out of the fast subset without touching the network."""

from pathlib import Path

import numpy as np
import pytest

import barenet.data
import barenet.data.mnist as mnist

CONFTEST = Path(__file__).with_name("conftest.py")

# Two real-data tests and one that needs nothing; the files are what fake_mnist serves.
SESSION = """
import pytest

from barenet.data import load_mnist


@pytest.mark.mnist
def test_reads_the_training_set():
    X_train, y_train, _, _ = load_mnist(download=False)
    assert X_train.shape == (6, 28, 28) and y_train.shape == (6,)


@pytest.mark.mnist
def test_reads_the_test_set():
    _, _, X_test, y_test = load_mnist(download=False)
    assert X_test.shape == (4, 28, 28) and y_test.shape == (4,)


def test_needs_no_data():
    pass
"""
REASON = "MNIST could not be downloaded ({}): set BARENET_DATA to a folder holding mnist/"


@pytest.fixture
def fresh_machine(pytester, monkeypatch, tmp_path):
    """A session folder holding the suite's conftest and SESSION, on a machine without MNIST:
    no BARENET_DATA, an empty cache, not CI. Returns the folder MNIST is downloaded to."""
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(test_session=SESSION)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("BARENET_DATA", raising=False)
    monkeypatch.delenv("CI", raising=False)
    return tmp_path / "cache" / "barenet" / "mnist"


@pytest.fixture
def downloads(monkeypatch):
    """The calls the sessions make to barenet.data.download_mnist, which still downloads."""
    calls, download_mnist = [], barenet.data.download_mnist

    def count(*args, **kwargs):
        calls.append((args, kwargs))
        return download_mnist(*args, **kwargs)

    monkeypatch.setattr(barenet.data, "download_mnist", count)
    return calls


@pytest.fixture
def mirrors_down(monkeypatch, closed_port_url):
    """Every MNIST mirror refuses the connection, as on a machine without network."""
    monkeypatch.setattr(mnist, "MIRRORS", (closed_port_url.rsplit("/", 1)[0] + "/",))


@pytest.fixture
def mirrors_up(monkeypatch, fake_mnist):
    """The MNIST mirror is the local server, with small files and their checksums."""
    base, arrays, checksums = fake_mnist
    monkeypatch.setattr(mnist, "MIRRORS", (base,))
    monkeypatch.setattr(mnist, "MD5", checksums)
    return arrays


def test_a_fresh_machine_downloads_mnist_once_then_runs_every_test(
    pytester, fresh_machine, mirrors_up, downloads
):
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [f"MNIST not found in {fresh_machine}: downloading it once for 2 real-data tests... done"]
    )
    assert len(downloads) == 1  # once for the session, not once per test
    assert sorted(p.name for p in fresh_machine.iterdir()) == sorted(mnist.FILES)
    arrays = barenet.data.load_mnist(fresh_machine, download=False)
    for loaded, served in zip(arrays, mirrors_up, strict=True):
        np.testing.assert_array_equal(loaded, served)
    # The next session finds the files in the cache: no download, not a word about it.
    again = pytester.runpytest("-rs")
    again.assert_outcomes(passed=3)
    assert "MNIST" not in again.stdout.str() and len(downloads) == 1


def test_the_download_goes_to_barenet_data_when_it_is_set(
    pytester, fresh_machine, mirrors_up, tmp_path, monkeypatch
):
    monkeypatch.setenv("BARENET_DATA", str(tmp_path / "data"))
    pytester.runpytest().assert_outcomes(passed=3)
    assert sorted(p.name for p in (tmp_path / "data" / "mnist").iterdir()) == sorted(mnist.FILES)
    assert not fresh_machine.exists()


def test_without_network_the_real_data_tests_are_skipped_saying_why(
    pytester, fresh_machine, mirrors_down, downloads
):
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=2)
    reason = REASON.format("ConnectionRefusedError: [[]Errno 111[]] Connection refused")
    result.stdout.fnmatch_lines(
        [
            f"MNIST not found in {fresh_machine}: downloading it once for 2 real-data tests... "
            "failed",
            f"SKIPPED [[]2[]] conftest.py:*: {reason}",
        ]
    )
    assert len(downloads) == 1
    assert not fresh_machine.exists()  # no empty folder that would look like a data set


def test_in_ci_the_real_data_tests_fail_instead_of_skipping(
    pytester, fresh_machine, mirrors_down, monkeypatch
):
    monkeypatch.setenv("CI", "1")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines([f"*{REASON.format('*Connection refused')}*"])
    assert "skipped" not in result.stdout.str()


def test_the_fast_subset_leaves_the_real_data_tests_out_and_downloads_nothing(
    pytester, fresh_machine, mirrors_down, downloads
):
    result = pytester.runpytest("-m", "not slow")
    result.assert_outcomes(passed=1, deselected=2)
    assert "MNIST" not in result.stdout.str() and not downloads


def test_collecting_only_downloads_nothing(pytester, fresh_machine, mirrors_down, downloads):
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["3 tests collected*"])
    assert not downloads


def test_the_slow_tests_are_marked_by_rule(pytester):
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(
        test_notebooks="def test_a_notebook(): pass",
        test_files="""
import pytest

@pytest.fixture
def site():
    return "built"

def test_the_site(site): pass

@pytest.mark.parametrize("n", [1, 2])
def test_mutated_files_load_unchanged_or_raise_model_file_error(n): pass

def test_quick(): pass
""",
    )
    result = pytester.runpytest("-m", "not slow", "-v")
    result.assert_outcomes(passed=1, deselected=4)
    result.stdout.fnmatch_lines(["*test_files.py::test_quick PASSED*"])
    pytester.runpytest("-m", "slow").assert_outcomes(passed=4, deselected=1)
