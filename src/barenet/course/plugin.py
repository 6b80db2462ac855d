"""The pytest plugin that grades a student's notebook: it runs the notebook's cells and gives
the tests the functions the student wrote, with points per test.

A grading test module names the notebook it grades and the functions it needs::

    NOTEBOOK = "06-write-the-backward-pass.ipynb"
    FUNCTIONS = ("dense_backward", "relu_backward", ...)

    @pytest.mark.grade("dense_backward", points=2)
    def test_dense_backward(student):
        expect(exercises.check_dense(student.function("dense_backward")))

``student`` runs the code cells of the notebook from the top through the last cell that
defines one of ``FUNCTIONS`` (or is an nbgrader solution cell), in one namespace, as Jupyter
would: the cells after it use the answers (train a network on MNIST) and are not needed to grade
them. A cell that raises is noted and the next ones still run, as in nbgrader's autograder; a
cell or a test that runs longer than its time limit is stopped (``--cell-timeout``,
``--test-timeout``). :func:`expect` fails a test with the checker's own message.

Load it with ``-p barenet.course.plugin`` (``barenet course grade`` does), or with
``pytest_plugins = ("barenet.course.plugin",)`` in a ``conftest.py`` (the student edition's
GitHub Classroom repository does). ``--submission`` names the notebook, or a folder holding it
(default: the folder pytest runs in, and its ``notebooks/``); ``--grade-report FILE`` writes each
test's exercise, points, outcome and message as JSON.
"""

import contextlib
import io
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from barenet.course.submission import cells_to_run, find_notebook, python_of, source_of

os.environ.setdefault("MPLBACKEND", "Agg")  # a notebook's plt.show() draws nothing, anywhere

CELL_TIMEOUT = 60.0  # seconds: a cell of these notebooks that defines functions takes < 1 s
TEST_TIMEOUT = 60.0
RESULTS = pytest.StashKey[dict]()  # per session: each test's grade, and the notebooks run


class GradingTimeout(Exception):
    """A cell or a test ran past its time limit (an endless loop?)."""


@contextlib.contextmanager
def time_limit(seconds, what):
    """Raise GradingTimeout in the main thread after ``seconds`` (on systems with SIGALRM;
    elsewhere the grader's limit on the whole process still applies)."""
    if not seconds or not hasattr(signal, "SIGALRM"):
        yield
        return

    def stop(signum, frame):
        raise GradingTimeout(f"{what} took longer than {seconds:g} s (an endless loop?)")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def expect(check):
    """Fail the current test with ``str(check)``, the checker's report, unless it passed."""
    if not check.passed:
        pytest.fail(str(check), pytrace=False)


# -- the student's notebook --------------------------------------------------------------------


class Submission:
    """A student's notebook, run: its namespace, and what went wrong in which cell."""

    def __init__(self, path, namespace, problems, ran):
        self.path, self.namespace, self.problems, self.ran = path, namespace, problems, ran

    @classmethod
    def run(cls, path, functions=(), cell_timeout=CELL_TIMEOUT):
        """Run the cells of the notebook at ``path`` that define ``functions`` (see
        :func:`cells_to_run`); never raises for the student's code."""
        try:
            notebook = json.loads(Path(path).read_text(encoding="utf-8"))
            cells = notebook["cells"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            return cls(path, {}, [f"the notebook cannot be read: {error}"], [])
        namespace = {"__name__": "__main__"}
        problems, ran = [], []
        for index in cells_to_run(cells, functions):
            name = f"<cell {index}>"  # what a traceback into the student's code shows
            try:
                code = compile(python_of(source_of(cells[index])), name, "exec")
                with time_limit(cell_timeout, f"cell {index}"), _quiet():
                    exec(code, namespace)
            except BaseException as error:  # the student's code: note it, go on
                if isinstance(error, KeyboardInterrupt):
                    raise
                problems.append(f"cell {index} raised {type(error).__name__}: {error}")
            ran.append(index)
        return cls(path, namespace, problems, ran)

    def function(self, name):
        """The function ``name`` the notebook defines; fails the test saying why it is not
        there (not defined, or the cell that defines it raised)."""
        value = self.namespace.get(name)
        if callable(value):
            return value
        why = f"{name} is not defined by the notebook ({Path(self.path).name})"
        if self.problems:
            why += ": " + "; ".join(self.problems)
        pytest.fail(why, pytrace=False)


@contextlib.contextmanager
def _quiet():
    """What the cells print (the checkers' reports, figures' notes) is not the grader's."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


# -- pytest hooks ------------------------------------------------------------------------------


def pytest_addoption(parser):
    group = parser.getgroup("barenet course", "grading a student's notebook")
    group.addoption(
        "--submission",
        default=None,
        help="the student's notebook, or a folder holding it (default: the folder pytest runs "
        "in, and its notebooks/)",
    )
    group.addoption(
        "--grade-report", default=None, metavar="FILE", help="write the graded results as JSON"
    )
    group.addoption("--cell-timeout", type=float, default=CELL_TIMEOUT, metavar="SECONDS")
    group.addoption("--test-timeout", type=float, default=TEST_TIMEOUT, metavar="SECONDS")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "grade(exercise, points): the exercise a test grades and what it is worth"
    )
    config.stash[RESULTS] = {"tests": {}, "notebooks": {}}


def grade_of(item):
    """``(exercise, points)`` of a test, from its ``grade`` marker."""
    marker = item.get_closest_marker("grade")
    if marker is None or not marker.args:
        raise pytest.UsageError(
            f"{item.nodeid}: a grading test needs @pytest.mark.grade(exercise, points=n)"
        )
    return marker.args[0], marker.kwargs.get("points", 1)


def pytest_collection_modifyitems(session, config, items):
    tests = config.stash[RESULTS]["tests"]
    for item in items:
        exercise, points = grade_of(item)
        hidden = "hidden" in Path(str(item.path)).parent.name or "hidden" in item.path.name
        tests[item.nodeid] = {
            "test": item.name,
            "notebook": getattr(item.module, "NOTEBOOK", None),
            "functions": list(getattr(item.module, "FUNCTIONS", ())),
            "file": item.path.name,
            "exercise": exercise,
            "points": points,
            "hidden": hidden,
            "outcome": "not run",
            "message": "",
        }


@pytest.fixture(scope="module")
def student(request):
    """The student's notebook, run (a :class:`Submission`) for the test module's NOTEBOOK."""
    module, config = request.module, request.config
    name = getattr(module, "NOTEBOOK", None)
    if name is None:
        raise pytest.UsageError(f"{module.__name__}: a grading module needs NOTEBOOK = '...'")
    functions = getattr(module, "FUNCTIONS", ())
    submission = config.getoption("submission") or config.invocation_params.dir
    path = find_notebook(submission, name, functions, unreadable=True)
    if path is None:
        pytest.fail(f"no notebook {name} in {submission}", pytrace=False)
    started = time.perf_counter()
    run = Submission.run(path, functions, config.getoption("cell_timeout"))
    config.stash[RESULTS]["notebooks"][name] = {
        "path": str(path),
        "cells_run": run.ran,
        "problems": run.problems,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with time_limit(item.config.getoption("test_timeout"), "the test"):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    entry = item.config.stash[RESULTS]["tests"].get(item.nodeid)
    if entry is None or (call.when != "call" and not report.failed):
        return
    if report.passed:
        entry["outcome"], entry["message"] = "passed", ""
    elif report.failed:
        entry["outcome"], entry["message"] = "failed", describe(call.excinfo)
    elif report.skipped:
        entry["outcome"], entry["message"] = "skipped", str(report.longrepr[-1])


def describe(excinfo):
    """The message of a failed test: the checker's report when it failed through
    :func:`expect`, else the exception and where in the student's cells it was raised."""
    if excinfo is None:
        return "failed"
    if isinstance(excinfo.value, pytest.fail.Exception):
        return str(excinfo.value.msg)
    where = [
        f"{entry.frame.code.raw.co_filename.strip('<>')}, line {entry.lineno + 1}"
        for entry in excinfo.traceback
        if entry.frame.code.raw.co_filename.startswith("<cell ")
    ]
    message = excinfo.exconly().strip()
    return f"{message} (in {where[-1]})" if where else message


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("grade_report")
    if path:
        results = session.config.stash[RESULTS]
        Path(path).write_text(
            json.dumps(
                {"tests": list(results["tests"].values()), "notebooks": results["notebooks"]},
                indent=1,
            ),
            encoding="utf-8",
        )


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Points per exercise after the test results, for the student running the visible
    tests (and for the Classroom log)."""
    tests = list(config.stash[RESULTS]["tests"].values())
    if not tests or config.getoption("collectonly", False):
        return
    exercises = {}
    for test in tests:
        got, total = exercises.get(test["exercise"], (0, 0))
        won = test["points"] if test["outcome"] == "passed" else 0
        exercises[test["exercise"]] = (got + won, total + test["points"])
    terminalreporter.section("points")
    for exercise, (got, total) in exercises.items():
        terminalreporter.write_line(f"{exercise:<32} {got:g} / {total:g}")
    got = sum(g for g, _ in exercises.values())
    total = sum(t for _, t in exercises.values())
    terminalreporter.write_line(f"{'total':<32} {got:g} / {total:g}")
    sys.stdout.flush()
