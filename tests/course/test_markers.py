"""The two editions are cut with nbgrader's markers (notebooks) and pymdownx.details' blocks
(pages): the cuts behave as nbgrader's ClearSolutions and ClearHiddenTests do, and the course's
own sources carry the markers and metadata the build needs."""

import ast
import json
import re
from pathlib import Path

import pytest

from barenet.course import markers
from barenet.course.build import solutions_of
from barenet.course.grade import GRADING, collect, default_tests, grading_files
from barenet.course.markers import CourseError

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAGES = sorted((ROOT / "docs" / "how-it-works").glob("*.md"))


def code(source, **nbgrader):
    cell = {"cell_type": "code", "source": source, "metadata": {}, "outputs": []}
    if nbgrader:
        cell["metadata"]["nbgrader"] = {"grade_id": "x", "schema_version": 3, **nbgrader}
    return cell


def text(source, **nbgrader):
    cell = code(source, **nbgrader)
    cell["cell_type"] = "markdown"
    return cell


def test_a_code_region_becomes_nbgraders_stub_at_the_markers_indentation():
    cell = code(
        'def foo(bar):\n    """Prints bar."""\n    ### BEGIN SOLUTION\n    print(bar)\n'
        "    ### END SOLUTION\n\nfoo(1)",
        solution=True,
    )
    assert markers.clear_solutions(cell)
    assert cell["source"] == (
        'def foo(bar):\n    """Prints bar."""\n    # YOUR CODE HERE\n'
        "    raise NotImplementedError()\n\nfoo(1)"
    )


def test_a_text_region_becomes_your_answer_here_and_a_regionless_solution_cell_its_stub():
    cell = text("something\n### BEGIN SOLUTION\nthe answer\n### END SOLUTION", solution=True)
    assert markers.clear_solutions(cell) and cell["source"] == "something\nYOUR ANSWER HERE"
    whole = code('print("the answer")', solution=True)
    assert markers.clear_solutions(whole)
    assert whole["source"] == "# YOUR CODE HERE\nraise NotImplementedError()"
    plain = code('print("not an exercise")')
    assert not markers.clear_solutions(plain) and plain["source"] == 'print("not an exercise")'


def test_bad_regions_are_refused_in_the_words_of_the_notebook():
    with pytest.raises(CourseError, match="without nbgrader's solution metadata"):
        markers.clear_solutions(code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"))
    with pytest.raises(CourseError, match="has no END SOLUTION"):
        markers.clear_solutions(code("### BEGIN SOLUTION\nx = 1", solution=True))
    with pytest.raises(CourseError, match="inside another one"):
        source = "### BEGIN SOLUTION\n### BEGIN SOLUTION\nx\n### END SOLUTION"
        markers.clear_solutions(code(source, solution=True))
    with pytest.raises(CourseError, match="without the grade metadata|without nbgrader's grade"):
        markers.clear_hidden_tests(code("### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS"))


def test_hidden_tests_are_removed_and_the_visible_ones_kept():
    cell = code(
        "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS",
        grade=True,
        points=2,
    )
    assert markers.clear_hidden_tests(cell) and cell["source"] == "assert f(1) == 1"


def test_the_student_notebook_has_no_outputs_and_refuses_twice_the_same_grade_id():
    notebook = {
        "cells": [
            code("x = 1", solution=True),
            {**code("print(2)"), "outputs": [{"text": "2"}], "execution_count": 3},
        ]
    }
    student = markers.student_notebook(notebook)
    assert student["cells"][1]["outputs"] == [] and student["cells"][1]["execution_count"] is None
    twice = {"cells": [code("a", solution=True), code("b", solution=True)]}
    with pytest.raises(CourseError, match="grade_id 'x' used twice"):
        markers.student_notebook(twice)


def test_the_teacher_notebook_fills_a_blank_region_from_the_solutions():
    cell = code(
        "def double(x):\n    # return 2x\n    ### BEGIN SOLUTION\n    raise NotImplementedError\n"
        "    ### END SOLUTION\n\nprint(double(2))",
        solution=True,
    )
    bodies = markers.functions_of('def double(x):\n    """Twice."""\n    return 2 * x\n')
    teacher = markers.teacher_notebook({"cells": [cell]}, bodies)
    source = teacher["cells"][0]["source"]
    namespace = {}
    exec(source.replace("print(double(2))", "result = double(2)"), namespace)
    assert namespace["result"] == 4 and "### BEGIN SOLUTION" in source  # nbgrader's source form
    missing = code(
        "def triple(x):\n    ### BEGIN SOLUTION\n    raise NotImplementedError\n"
        "    ### END SOLUTION",
        solution=True,
    )
    with pytest.raises(CourseError, match=r"triple\(\) and no solution"):
        markers.teacher_notebook({"cells": [missing]}, bodies)


def test_a_page_loses_its_solutions_and_shows_its_questions_open():
    page = (ROOT / "docs" / "how-it-works" / "backpropagation.md").read_text(encoding="utf-8")
    student, removed = markers.student_page(page)
    questions = len(re.findall(r"^\?\?\? question", page, flags=re.M))
    assert removed == questions == 4
    assert "??? success" not in student and "Solution" not in student.split("## Exercises")[1]
    assert len(re.findall(r"^\?\?\?\+ question", student, flags=re.M)) == questions
    before, after = page.split("## Exercises")[0], student.split("## Exercises")[0]
    assert before == after  # the lesson itself is untouched


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_solution_block_of_the_pages_is_removed(page):
    text = page.read_text(encoding="utf-8")
    student, removed = markers.student_page(text)
    assert removed == text.count('??? success "Solution"')
    assert "??? success" not in student and "??? question" not in student


def notebook_cells(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [{**cell, "source": "".join(cell["source"])} for cell in cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_committed_notebooks_cut_cleanly(path):
    # Every region in a solution cell, ids unique: the build can cut the student's copy.
    cells = notebook_cells(path)
    markers.student_notebook({"cells": [dict(c) for c in cells]}, path.name)
    markers.teacher_notebook({"cells": [dict(c) for c in cells]}, solutions_of(ROOT), path.name)


def test_notebook_6s_exercises_are_nbgrader_solution_cells_named_as_the_graded_functions():
    cells = notebook_cells(ROOT / "notebooks" / "06-write-the-backward-pass.ipynb")
    ids = [markers.nbgrader(c)["grade_id"] for c in cells if markers.is_solution(c)]
    visible = next(p for p in default_tests() if p.name == "test_06_backward_pass.py")
    tree = ast.parse(visible.read_text(encoding="utf-8"))
    (functions,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "FUNCTIONS"
    ]
    assert ids == list(functions)
    for cell in cells:
        if markers.is_solution(cell):  # the blank is the region: the student's code goes there
            (region,) = markers.regions(cell["source"], "BEGIN SOLUTION", "END SOLUTION")
            lines = cell["source"].split("\n")[region[0] + 1 : region[1]]
            assert markers.is_blank(lines)


def test_the_visible_tests_grade_every_exercise_of_the_notebooks_for_the_notebooks_points():
    # An nbgrader solution cell of a graded notebook is an exercise: a visible test grades it,
    # for the points its metadata gives (when it gives some).
    collected = collect(grading_files(GRADING / "visible"))
    for tests in collected.values():
        notebook = ROOT / "notebooks" / tests[0]["notebook"]
        exercises = {
            markers.nbgrader(cell)["grade_id"]: markers.nbgrader(cell).get("points")
            for cell in notebook_cells(notebook)
            if markers.is_solution(cell) and cell["cell_type"] == "code"
        }
        graded = {}
        for test in tests:
            graded[test["exercise"]] = graded.get(test["exercise"], 0) + test["points"]
        assert sorted(graded) == sorted(exercises), notebook.name
        for name, points in exercises.items():
            assert points is None or graded[name] == points, f"{notebook.name}: {name}"
