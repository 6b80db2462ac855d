"""The tutorial notebooks: each runs from top to bottom and saves its figures.

Every notebook in ``notebooks/`` is executed with nbclient in a fresh kernel, in a temporary
folder, with ``BARENET_NOTEBOOK_SUBSET`` set so that it trains on a small part of MNIST in
seconds (a teacher running it by hand gets the full data). The committed files must carry no
outputs: they are handed out clean.

Notebook 6 leaves the backward pass to the student; its solutions (``notebooks/solutions/``)
run here through barenet's checker, which must pass them and name the gradient a wrong answer
gets wrong; and the notebook runs once more with the solutions in place of the blanks.
"""

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

from barenet import exercises

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
}
SOLUTIONS = ROOT / "notebooks" / "solutions" / "backward.py"


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


def run(notebook, folder, monkeypatch):
    """Execute ``notebook`` (an nbformat object) in ``folder`` as a student would, quickly."""
    nbclient = pytest.importorskip("nbclient")
    # The kernel is a child process: it inherits this environment.
    monkeypatch.setenv("BARENET_NOTEBOOK_SUBSET", SUBSET)
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


@pytest.mark.mnist
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_saves_its_figures(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["name"] = path.name
    run(notebook, tmp_path, monkeypatch)
    for name in FIGURES[path.name]:
        figure = tmp_path / "figures" / name
        assert figure.is_file() and figure.stat().st_size > 1000, f"{path.name}: no {name}"


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
