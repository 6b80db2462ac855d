"""The tutorial notebooks: each runs from top to bottom and saves its figures.

Every notebook in ``notebooks/`` is executed with nbclient in a fresh kernel, in a temporary
folder, with ``BARENET_NOTEBOOK_SUBSET`` set so that it trains on a small part of MNIST in
seconds (a teacher running it by hand gets the full data). The committed files must carry no
outputs: they are handed out clean.

A number in a notebook's text that a run produces is followed by a comment that says where the
run keeps it, and the test compares the two after running the notebook (the same rule as the
documentation's output comments: the number agrees to the digits written, an integer exactly):

- ``+1.1<!-- check full: points["dropout"] --> points`` for the notebook as handed out, on all
  of MNIST (such notebooks run once more that way, with one BLAS thread);
- ``<!-- check quick: ... -->`` for the quick run of the tests;
- ``<!-- check: ... -->`` for both (a number of parameters).

The expression is evaluated in the notebook's kernel after its last cell. The comment follows
the number directly (a ``%`` may come between); the HTML comment does not show in Jupyter.

Notebook 6 leaves the backward pass to the student; its solutions (``notebooks/solutions/``)
run here through barenet's checker, which must pass them and name the gradient a wrong answer
gets wrong; and the notebook runs once more with the solutions in place of the blanks. Notebook
7 too (its checkers' own tests are in ``tests/exercises/``): its blanks sit between nbgrader's
``### BEGIN SOLUTION`` and ``### END SOLUTION`` markers, in cells with nbgrader's metadata.
"""

import ast
import importlib.util
import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from barenet import exercises
from tests.test_docs import numbers_agree

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SUBSET = "1000"  # images per split in CI: enough for every figure to mean something
TIMEOUT = 300  # seconds per cell

# The figures each notebook saves into figures/ under its working folder.
FIGURES = {
    "01-build-and-train.ipynb": [
        "digits.png",
        "gradient_check.png",
        "manual_training.png",
        "history.png",
    ],
    "02-learning-rate.ipynb": [
        "parabola.png",
        "learning_rates.png",
        "loss_per_step.png",
        "range_test.png",
    ],
    "03-overfitting.ipynb": ["overfitting.png", "dropout.png", "early_stopping.png"],
    "04-inside-the-network.ipynb": [
        "first_layer_weights.png",
        "hidden_activations.png",
        "top_images.png",
        "confusion_matrix.png",
        "confident_mistakes.png",
        "fgsm_example.png",
        "fgsm_accuracy.png",
    ],
    "05-convolutions.ipynb": ["first_layer_filters.png", "feature_maps.png", "saliency.png"],
    "06-write-the-backward-pass.ipynb": ["own_backward.png"],
    "07-write-more-layers.ipynb": ["optimizer_paths.png"],
    "08-vision-transformer.ipynb": [
        "class_token_attention.png",
        "attention_by_class.png",
        "position_similarity.png",
    ],
    "09-reading-row-by-row.ipynb": [
        "hidden_states.png",
        "prediction_by_row.png",
        "accuracy_by_row.png",
    ],
}
SOLUTIONS = ROOT / "notebooks" / "solutions" / "backward.py"
MORE_SOLUTIONS = ROOT / "notebooks" / "solutions" / "more_layers.py"


def test_every_notebook_is_listed():
    assert sorted(p.name for p in NOTEBOOKS) == sorted(FIGURES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_carry_no_outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for number, cell in enumerate(notebook["cells"], start=1):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name}, cell {number}: strip its outputs"
        assert cell.get("execution_count") is None, f"{path.name}, cell {number}: execution count"
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


def run(notebook, folder, monkeypatch, subset=SUBSET):
    """Execute ``notebook`` (an nbformat object) in ``folder`` as a student would: quickly, on
    ``subset`` images per split, or on the whole data set when ``subset`` is None."""
    nbclient = pytest.importorskip("nbclient")
    # The kernel is a child process: it inherits this environment.
    if subset is None:
        monkeypatch.delenv("BARENET_NOTEBOOK_SUBSET", raising=False)
    else:
        monkeypatch.setenv("BARENET_NOTEBOOK_SUBSET", subset)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    client = nbclient.NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{notebook.metadata.get('name', 'notebook')} failed:\n{error}", pytrace=False)
    return notebook


# -- the numbers in the text -------------------------------------------------------------------

NUMBER_CHECK = re.compile(
    r"(?P<number>[-+\u2212]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?)%?"
    r"<!-- check(?: (?P<mode>full|quick))?: (?P<expression>.+?) -->"
)


def number_checks(path):
    """``[(cell, number as written, mode, expression)]`` for the ``check`` comments of ``path``'s
    text; ``mode`` is "full", "quick" or "both"."""
    checks = []
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        found = list(NUMBER_CHECK.finditer(text))
        assert len(found) == text.count("<!-- check"), (
            f"{path.name}, cell {index}: a check comment must follow the number it checks, as "
            "12.5<!-- check: expression --> (or check full: / check quick:)"
        )
        for match in found:
            number = match["number"].replace(",", "").replace("\u2212", "-")
            checks.append((index, number, match["mode"] or "both", match["expression"]))
    return checks


def run_and_check_numbers(path, folder, monkeypatch, subset):
    """Run the notebook at ``path`` and compare the numbers of its text that the run checks
    (``full`` when ``subset`` is None, else ``quick``, and ``both``) with the run's values;
    returns the executed notebook."""
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    mode = "full" if subset is None else "quick"
    notebook.metadata["name"] = f"{path.name} ({mode} run)"
    checks = [c for c in number_checks(path) if c[2] in (mode, "both")]
    expressions = sorted({c[3] for c in checks})
    notebook.cells.append(  # evaluated in the kernel, after the last cell
        nbformat.v4.new_code_cell(
            "import json as _json\n"
            "_values = {}\n"
            f"for _expression in {expressions!r}:\n"
            "    try:\n"
            "        _values[_expression] = repr(float(eval(_expression)))\n"
            "    except Exception as _error:\n"
            "        _values[_expression] = f'{type(_error).__name__}: {_error}'\n"
            "print('NUMBER-CHECKS', _json.dumps(_values))"
        )
    )
    run(notebook, folder, monkeypatch, subset)
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    values = json.loads(printed.split("NUMBER-CHECKS", 1)[1])
    failures = []
    for index, number, _, expression in checks:
        value = values[expression]
        try:
            agree = numbers_agree(number, value)
        except ValueError:  # not a number: the expression failed
            agree = False
        if not agree:
            failures.append(f"cell {index}: the text says {number}, {expression} is {value}")
    assert not failures, f"{path.name}, {mode} run:\n" + "\n".join(failures)
    return notebook


@pytest.mark.mnist
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_saves_its_figures_and_says_what_it_measures(path, tmp_path, monkeypatch):
    run_and_check_numbers(path, tmp_path, monkeypatch, SUBSET)
    for name in FIGURES[path.name]:
        figure = tmp_path / "figures" / name
        assert figure.is_file() and figure.stat().st_size > 1000, f"{path.name}: no {name}"


FULL_CHECKS = [p for p in NOTEBOOKS if any(c[2] == "full" for c in number_checks(p))]


@pytest.mark.mnist
@pytest.mark.parametrize("path", FULL_CHECKS, ids=lambda p: p.name)
def test_the_numbers_of_the_text_are_those_of_a_full_run(path, tmp_path, monkeypatch):
    run_and_check_numbers(path, tmp_path, monkeypatch, None)


def test_the_texts_check_the_numbers_a_run_produces():
    checked = {p.name: number_checks(p) for p in NOTEBOOKS}
    modes = {name: {c[2] for c in checks} for name, checks in checked.items()}
    assert {"full", "quick"} <= modes["03-overfitting.ipynb"]
    assert len(checked["03-overfitting.ipynb"]) >= 10  # the table, in both columns
    assert {p.name for p in FULL_CHECKS} >= {"02-learning-rate.ipynb", "05-convolutions.ipynb"}
    written = {(c[1], c[3]) for c in checked["03-overfitting.ipynb"]}
    assert ("23", 'ran["val_accuracy"]') in written and ("+1.1", 'points["dropout"]') in written


# -- notebook 6: the student's backward pass ---------------------------------------------------


def solutions():
    spec = importlib.util.spec_from_file_location("backward_solutions", SOLUTIONS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_solutions_pass_every_check():
    answers = solutions()
    checks = [
        exercises.check_dense(answers.dense_backward),
        exercises.check_relu(answers.relu_backward),
        exercises.check_softmax_cross_entropy(answers.softmax_cross_entropy_backward),
        exercises.check_network(answers.network_backward),
        exercises.check_network(answers.network_backward, hidden_sizes=(7,), seed=3),
    ]
    for check in checks:
        assert check.passed, str(check)
        assert all(v.error < 1e-8 for v in check.verdicts), str(check)


def test_the_checker_names_the_wrong_gradient_and_by_how_much():
    answers = solutions()

    def dense_without_bias_sum(X, W, b, dZ):
        dX, dW, _ = answers.dense_backward(X, W, b, dZ)
        return dX, dW, dZ[0]  # the first image's only: the sum over the batch forgotten

    check = exercises.check_dense(dense_without_bias_sum)
    assert not check.passed and check.wrong == ["db"]
    assert re.search(r"db\s+relative error \S+\s+WRONG", str(check))
    assert "dense_backward: 2 of 3 gradients right" in str(check)

    def network_with_sum_not_mean(weights, X, y):
        grads = answers.network_backward(weights, X, y)
        grads["layers.2.W"] = grads["layers.2.W"] * len(X)  # the 1/B forgotten in one layer
        return grads

    check = exercises.check_network(network_with_sum_not_mean)
    assert check.wrong == ["layers.2.W"]
    assert "yours is 8 times the right one" in str(check)  # eight images in the check's batch
    (verdict,) = [v for v in check.verdicts if not v.passed]
    assert verdict.error == pytest.approx(7 / 9)  # ||8g - g|| / (||8g|| + ||g||)


def test_the_checker_reports_shapes_blanks_and_errors_without_stopping():
    answers = solutions()

    def transposed(X, W, b, dZ):
        dX, dW, db = answers.dense_backward(X, W, b, dZ)
        return dX, dW.T, db

    check = exercises.check_dense(transposed)
    assert check.wrong == ["dW"] and "WRONG shape" in str(check) and "transposed?" in str(check)

    def blank(Z, dA):
        raise NotImplementedError

    assert str(exercises.check_relu(blank)) == "relu_backward: not written yet"
    broken = exercises.check_relu(lambda Z, dA: np.dot(Z, dA))  # (4, 6) @ (4, 6)
    assert not broken.passed and "raised ValueError" in str(broken)
    identity = exercises.check_relu(lambda Z, dA: dA)  # the mask forgotten
    assert identity.wrong == ["dZ"]


@pytest.mark.mnist
def test_notebook_6_runs_with_the_solutions_in_place_of_the_blanks(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(ROOT / "notebooks" / "06-write-the-backward-pass.ipynb", 4)
    blanks = [cell for cell in notebook.cells if "raise NotImplementedError" in cell.source]
    assert len(blanks) == 4
    for cell in blanks:  # the function the student writes, replaced by the solution
        name = re.search(r"def (\w+)", cell.source).group(1)
        rest = cell.source.split("raise NotImplementedError", 1)[1]
        cell.source = f"from backward_solutions import {name}\n{rest}"
    (tmp_path / "backward_solutions.py").write_text(SOLUTIONS.read_text())
    notebook.metadata["name"] = "06 with solutions"
    run(notebook, tmp_path, monkeypatch)
    outputs = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "not written yet" not in outputs and "WRONG" in outputs  # only the broken example
    assert "network_backward: 6 of 6 gradients right" in outputs
    assert "trained with your gradients" in outputs


# -- notebook 7: more layers -------------------------------------------------------------------


def solution_bodies(path):
    """``{name: body}`` of the functions of the solutions file at ``path``: each body's lines
    (docstring and code), dedented."""
    source = path.read_text()
    lines = source.split("\n")
    functions = [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    return {
        f.name: textwrap.dedent("\n".join(lines[f.body[0].lineno - 1 : f.body[-1].end_lineno]))
        for f in functions
    }


def exercise_cells(notebook):
    """``[(index, function name, cell)]`` of the nbgrader solution cells of ``notebook``."""
    return [
        (index, re.search(r"def (\w+)\(", cell.source).group(1), cell)
        for index, cell in enumerate(notebook.cells)
        if cell.metadata.get("nbgrader", {}).get("solution")
    ]


def test_notebook_07_has_an_nbgrader_exercise_and_a_checker_for_each_solution():
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(ROOT / "notebooks" / "07-write-more-layers.ipynb", 4)
    found = exercise_cells(notebook)
    assert [name for _, name, _ in found] == list(solution_bodies(MORE_SOLUTIONS))
    for index, name, cell in found:
        meta = cell.metadata["nbgrader"]
        assert meta["grade_id"] == name and meta["points"] > 0 and meta["schema_version"] == 3
        assert not meta["grade"] and not meta["locked"]
        region = cell.source.split("### BEGIN SOLUTION\n", 1)[1].split("### END SOLUTION")[0]
        assert region.strip() == "raise NotImplementedError"  # a blank: the handout's form
        checker = re.fullmatch(rf"print\((check_\w+)\({name}\)\)", notebook.cells[index + 1].source)
        assert checker and callable(getattr(exercises, checker.group(1))), name
    assert sum(cell.metadata["nbgrader"]["points"] for _, _, cell in found) == 24


@pytest.mark.mnist
def test_notebook_07_runs_with_the_solutions_in_place_of_the_blanks(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(ROOT / "notebooks" / "07-write-more-layers.ipynb", 4)
    bodies = solution_bodies(MORE_SOLUTIONS)
    for _, name, cell in exercise_cells(notebook):  # as the teacher's edition fills them
        body = textwrap.indent(bodies[name], "    ")
        cell.source = re.sub(
            r"### BEGIN SOLUTION\n.*?### END SOLUTION",
            lambda match, body=body: f"### BEGIN SOLUTION\n{body}\n    ### END SOLUTION",
            cell.source,
            flags=re.S,
        )
    notebook.metadata["name"] = "07 with solutions"
    run(notebook, tmp_path, monkeypatch)
    outputs = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "not written yet" not in outputs and "raised" not in outputs
    right = re.findall(r"^(\w+): (\d+) of (\d+) (?:gradients|arrays) right$", outputs, re.M)
    passed = {name for name, got, of in right if got == of}
    assert passed >= set(bodies), sorted(set(bodies) - passed)
    assert outputs.count("likely:") == 1  # the broken example's only
    assert "with your optimizers, f after 25 steps:" in outputs
    assert (tmp_path / "figures" / "optimizer_paths.png").stat().st_size > 1000
