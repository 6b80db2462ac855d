"""A teacher grades a folder of submissions with one command: the three examples of
``submissions/`` (one right, one partly wrong, one blank, for notebook 6) score full, partial
with the checker's hint, and 0; the reference solutions score full on every graded test, the
hidden ones too; a notebook that crashes or hangs scores 0 where it breaks, with a note, and
never stops the grader."""

import csv
import json
from pathlib import Path

import pytest

from barenet.cli.main import main
from barenet.course.grade import grade

pytestmark = pytest.mark.slow  # pytest in a child process per student and test file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SUBMISSIONS = HERE / "submissions"


def notebook(*sources):
    """A notebook of code cells, as a student's file holds it."""
    cells = [
        {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
         "outputs": [], "source": source}
        for i, source in enumerate(sources)
    ]  # fmt: skip
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_one_command_grades_the_three_examples(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["course", "grade", str(SUBMISSIONS), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "13/13" in printed and "7/13" in printed and "0/13" in printed

    reports = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}
    assert sorted(reports) == ["blank", "partly_wrong", "right"]
    right, partly, blank = reports["right"], reports["partly_wrong"], reports["blank"]
    assert right["total"] == right["possible"] == 13 and not right["notes"]
    assert blank["total"] == 0 and blank["possible"] == 13
    assert partly["total"] == 7
    points = {name: row["points"] for name, row in partly["exercises"].items()}
    assert points == {
        "dense_backward": 3,  # right
        "relu_backward": 1,  # right, but changes the dA it is given: the hidden test sees it
        "softmax_cross_entropy_backward": 0,  # the 1/B forgotten, np.exp overflows
        "network_backward": 3,  # written for two hidden layers only
    }

    # The report says why, in the checker's words, for each wrong answer.
    text = (out / "partly_wrong.md").read_text()
    assert "# partly_wrong: 7 / 13 points" in text
    assert "yours is 5 times the right one" in text  # the 1/B of a batch of 5
    assert "relu_backward changed the dA it was given, in place" in text
    assert "not finite (nan or inf)" in text
    assert "network_backward: raised KeyError: 'layers.4.W'" in text
    assert (out / "blank.md").read_text().count("not written yet") == 8  # every test

    with open(out / "summary.csv", newline="") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert {s: int(r["total"]) for s, r in rows.items()} == {
        "blank": 0,
        "partly_wrong": 7,
        "right": 13,
    }
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exercises"]["network_backward"] == {
        "possible": 5,
        "mean": pytest.approx(8 / 3),
        "full_marks": 1,
    }
    assert "[right](right.md)" in (out / "summary.md").read_text()


def test_the_reference_solutions_pass_every_graded_test(tmp_path):
    # Each graded notebook, written with the solutions of notebooks/solutions/: full marks on
    # the visible and the hidden tests, so no test asks for more than the lesson does.
    solutions = ROOT / "notebooks" / "solutions"
    folder = tmp_path / "submissions" / "teacher"
    folder.mkdir(parents=True)
    for name, file in (
        ("06-write-the-backward-pass.ipynb", "backward.py"),
        ("07-write-more-layers.ipynb", "more_layers.py"),
    ):
        (folder / name).write_text(notebook((solutions / file).read_text()))
    (report,) = grade(tmp_path / "submissions", tmp_path / "report", log=lambda line: None)
    failed = [f"{t['test']}: {t['message']}" for t in report.tests if t["outcome"] != "passed"]
    assert not failed, "\n".join(failed)
    assert report.total == report.possible >= 13 + 11 * 2
    assert {t["hidden"] for t in report.tests} == {True, False}


def test_a_notebook_that_crashes_or_hangs_scores_0_where_it_breaks(tmp_path):
    right = json.loads((SUBMISSIONS / "right" / "06-write-the-backward-pass.ipynb").read_text())
    sources = {
        "".join(c["source"]).split("(")[0].removeprefix("def "): "".join(c["source"])
        for c in right["cells"]
        if c["cell_type"] == "code" and "".join(c["source"]).startswith("def ")
    }
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "hangs.ipynb").write_text(
        notebook(
            "import numpy as np",
            "def dense_backward(X, W, b, dZ):\n    return dZ @ W.T, X.T @@ dZ\n",  # SyntaxError
            "def relu_backward(Z, dA):\n    while True:\n        pass\n",  # hangs in the test
            "while True:\n    pass\n",  # hangs in the cell: stopped, the next cells run
            sources["softmax_cross_entropy_backward"],
        )
    )
    (submissions / "garbled.ipynb").write_text("{not a notebook")
    reports = grade(
        submissions,
        tmp_path / "report",
        cell_timeout=3,
        test_timeout=3,
        log=lambda line: None,
    )
    hangs, garbled = sorted(reports, key=lambda r: r.student, reverse=True)
    assert hangs.student == "hangs"
    points = {name: won for name, (won, _) in hangs.exercises().items()}
    assert points == {
        "dense_backward": 0,
        "relu_backward": 0,
        "softmax_cross_entropy_backward": 3,
        "network_backward": 0,
    }
    messages = {t["test"]: t["message"] for t in hangs.tests}
    assert "dense_backward is not defined" in messages["test_dense_backward"]
    assert "cell 1 raised SyntaxError" in messages["test_dense_backward"]
    assert "took longer than 3 s" in messages["test_relu_backward"]
    assert any("cell 3 raised GradingTimeout" in note for note in hangs.notes)
    assert "network_backward is not defined" in messages["test_network_backward"]
    # A file that is no notebook: every test scores 0, saying so.
    assert garbled.total == 0 and garbled.possible == 13
    assert all("cannot be read" in t["message"] for t in garbled.tests)


def test_a_run_past_the_time_limit_scores_0_with_a_note(tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "stuck.ipynb").write_text(
        notebook(
            "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)  # no cell time limit",
            "def dense_backward(X, W, b, dZ):\n    while True:\n        pass\n",
            "while True:\n    pass\n",
        )
    )
    (report,) = grade(submissions, tmp_path / "report", timeout=20, log=lambda line: None)
    assert report.total == 0 and report.possible == 13
    assert report.notes and all("stopped after 20 s" in note for note in report.notes)


def test_an_empty_folder_or_no_graded_notebook_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["course", "grade", str(tmp_path / "empty"), "--out", str(tmp_path / "r")]) == 2
    assert "no submissions (one sub-folder or one .ipynb per student)" in capsys.readouterr().err
    (tmp_path / "other" / "ada").mkdir(parents=True)
    (tmp_path / "other" / "ada" / "notes.ipynb").write_text(notebook("x = 1"))
    assert main(["course", "grade", str(tmp_path / "other"), "--out", str(tmp_path / "r")]) == 2
    assert "no submission holds a notebook the tests grade" in capsys.readouterr().err
