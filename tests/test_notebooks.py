"""The tutorial notebooks: each runs from top to bottom and saves its figures.

Every notebook in ``notebooks/`` is executed with nbclient in a fresh kernel, in a temporary
folder, with ``BARENET_NOTEBOOK_SUBSET`` set so that it trains on a small part of MNIST in
seconds (a teacher running it by hand gets the full data). The committed files must carry no
outputs: they are handed out clean.
"""

import json
from pathlib import Path

import pytest

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
}


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


@pytest.mark.mnist
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_saves_its_figures(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    # The kernel is a child process: it inherits this environment.
    monkeypatch.setenv("BARENET_NOTEBOOK_SUBSET", SUBSET)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{error}", pytrace=False)
    for name in FIGURES[path.name]:
        figure = tmp_path / "figures" / name
        assert figure.is_file() and figure.stat().st_size > 1000, f"{path.name}: no {name}"
