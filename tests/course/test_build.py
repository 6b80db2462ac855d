"""One command builds the student's and the teacher's editions from the same sources: the
student's has no solution and no hidden test anywhere, and its GitHub Classroom repository runs
the visible tests for points; the teacher's has the solutions in place and every test; the
student's site shows the questions open and no solution."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from barenet import exercises
from barenet.cli.main import main
from barenet.course.build import build, find_source
from barenet.course.classroom import step_id
from barenet.course.plugin import Submission

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "notebooks" / "solutions"
RIGHT = Path(__file__).resolve().parent / "submissions" / "right"
FUNCTIONS = (
    "dense_backward",
    "relu_backward",
    "softmax_cross_entropy_backward",
    "network_backward",
)


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    out = tmp_path_factory.mktemp("course")
    code = main(["course", "build", "--out", str(out), "--no-site", "--requirement", "barenet"])
    assert code == 0
    return out / "student", out / "teacher"


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"])


def test_both_editions_hold_every_lesson(editions):
    student, teacher = editions
    lessons = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in (student / "notebooks").glob("*.ipynb")) == lessons
    assert sorted(p.name for p in (teacher / "notebooks").glob("*.ipynb")) == lessons
    assert sorted(p.name for p in (student / "classroom" / "notebooks").glob("*.ipynb")) == lessons
    assert (teacher / "notebooks" / "solutions" / "backward.py").is_file()
    assert (teacher / "grading" / "hidden" / "test_06_backward_pass_hidden.py").is_file()


def test_the_student_edition_holds_no_solution_and_no_hidden_test(editions):
    student, _ = editions
    solution_lines = {
        line.strip()
        for path in SOLUTIONS.glob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("    ") and len(line.strip()) >= 16 and line.strip()[0] not in '#"`'
    }
    assert len(solution_lines) > 20
    for path in student.rglob("*"):
        assert "hidden" not in path.name and "solutions" not in path.parts, path
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text, path
            leaked = [line for line in solution_lines if line in text]
            assert not leaked, f"{path}: {leaked[:3]}"
    sixth = cells(student / "notebooks" / "06-write-the-backward-pass.ipynb")
    blanks = [c for c in sixth if "# YOUR CODE HERE\n    raise NotImplementedError()" in source(c)]
    assert len(blanks) == 4
    assert all(c["metadata"]["nbgrader"]["solution"] for c in blanks)  # nbgrader's, kept
    fourth = cells(student / "notebooks" / "04-inside-the-network.ipynb")
    (answer,) = [c for c in fourth if c["metadata"].get("nbgrader")]
    assert source(answer).endswith("Guess before running the next cell.\n\nYOUR ANSWER HERE")
    for path in (student / "notebooks").glob("*.ipynb"):
        for cell in cells(path):
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None


def test_the_teacher_edition_holds_the_solutions_in_nbgraders_source_form(
    editions, tmp_path, monkeypatch
):
    _, teacher = editions
    sixth = cells(teacher / "notebooks" / "06-write-the-backward-pass.ipynb")
    dense = next(source(c) for c in sixth if source(c).startswith("def dense_backward"))
    assert "### BEGIN SOLUTION" in dense and "return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)" in dense
    assert not any("raise NotImplementedError" in source(c) for c in sixth)
    # The cells that define the answers run, as the grader runs them, and pass the checkers.
    monkeypatch.chdir(tmp_path)
    run = Submission.run(teacher / "notebooks" / "06-write-the-backward-pass.ipynb", FUNCTIONS)
    assert not run.problems
    assert exercises.check_dense(run.function("dense_backward")).passed
    assert exercises.check_network(run.function("network_backward"), hidden_sizes=(5,)).passed
    first = (teacher / "notebooks" / "01-build-and-train.ipynb").read_bytes()
    assert first == (ROOT / "notebooks" / "01-build-and-train.ipynb").read_bytes()


def test_the_classroom_workflow_runs_each_visible_test_for_its_points(editions):
    yaml = pytest.importorskip("yaml")
    student, _ = editions
    repo = student / "classroom"
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "classroom.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    graders = [
        s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command")
    ]
    reporter = steps[-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"]["runners"].split(",") == [s["id"] for s in graders]
    for step in graders:
        assert reporter["env"][f"{step['id'].upper()}_RESULTS"] == (
            f"${{{{steps.{step['id']}.outputs.result}}}}"
        )
    scores = {s["name"]: s["with"]["max-score"] for s in graders}
    assert scores["test_dense_backward"] == 2 and scores["test_network_backward"] == 3
    assert all("tests/test_0" in s["with"]["command"] for s in graders)
    assert (
        step_id({"test": "test_more_layers[conv2d_backward]"}) == "test-more-layers-conv2d-backward"
    )
    assert (repo / "requirements.txt").read_text().splitlines()[-2:] == ["barenet", "pytest>=7"]
    assert not list((repo / "tests").glob("*hidden*"))


def test_the_classroom_repository_grades_the_students_notebook(editions, tmp_path):
    # As GitHub Classroom's runner does: pytest in the repository, the student's notebook in
    # notebooks/. Blank, every visible test fails; with a right answer, every one passes.
    student, _ = editions
    repo = tmp_path / "repo"
    shutil.copytree(student / "classroom", repo)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}

    def pytest_in_repo():
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "tests/test_06_backward_pass.py"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    blank = pytest_in_repo()
    assert blank.returncode == 1 and "4 failed" in blank.stdout, blank.stdout + blank.stderr
    assert "dense_backward: not written yet" in blank.stdout
    assert re.search(r"total\s+0 / 8", blank.stdout)
    name = "06-write-the-backward-pass.ipynb"
    shutil.copy2(RIGHT / name, repo / "notebooks" / name)
    right = pytest_in_repo()
    assert right.returncode == 0 and "4 passed" in right.stdout, right.stdout + right.stderr
    assert re.search(r"total\s+8 / 8", right.stdout)


def test_the_build_refuses_a_folder_that_is_no_checkout(tmp_path):
    with pytest.raises(Exception, match="not a barenet checkout"):
        find_source(tmp_path)


@pytest.mark.slow
def test_the_sites_show_the_solutions_to_the_teacher_only(tmp_path):
    student, teacher = build(tmp_path / "course", log=lambda line: None)
    page = "how-it-works/backpropagation.html"
    student_page = (student / "site" / page).read_text(encoding="utf-8")
    teacher_page = (teacher / "site" / page).read_text(encoding="utf-8")
    assert teacher_page.count('<details class="success">') == 4
    assert '<details class="success">' not in student_page
    assert student_page.count('<details class="question" open="open">') == 4
    assert "Shapes first" in student_page and "\\(" not in student_page  # formulas drawn
    for path in (student / "site").rglob("*.html"):
        assert '<details class="success">' not in path.read_text(encoding="utf-8"), path
    assert (student / "site" / "syllabus.html").is_file()


def test_nbgrader_itself_cuts_the_same_student_edition(editions):
    # Where nbgrader is installed: its own preprocessors, on the teacher's notebooks (nbgrader's
    # source form), give the student's notebooks cell for cell, and its validator accepts them.
    # (Checked with nbgrader 0.9.6 in a separate environment; it is not a dependency.)
    preprocessors = pytest.importorskip("nbgrader.preprocessors")
    nbformat = pytest.importorskip("nbformat")
    from nbgrader.nbgraderformat import MetadataValidator

    student, teacher = editions
    for path in sorted((teacher / "notebooks").glob("*.ipynb")):
        notebook, resources = nbformat.read(path, as_version=4), {}
        MetadataValidator().validate_nb(notebook)
        for step in (preprocessors.ClearSolutions, preprocessors.ClearHiddenTests):
            notebook, resources = step().preprocess(notebook, resources)
        ours = nbformat.read(student / "notebooks" / path.name, as_version=4)
        assert [c.source for c in notebook.cells] == [c.source for c in ours.cells], path.name
