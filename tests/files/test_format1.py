"""Files written by barenet before networks were lists of layers (model format version 1) keep
loading, predicting the same and resuming exactly.

``format1/`` holds a model file and a checkpoint written by that version (commit 9446ee6) with
``format1/make_format1_files.py``, and what that version computed from them: the predictions of
the model and the weights of the uninterrupted run that the checkpoint is the middle of.
"""

from pathlib import Path

import numpy as np

from barenet import NeuralNetwork, load_model
from barenet.files.archive import load_arrays

FILES = Path(__file__).parent / "format1"
EXPECTED = np.load(FILES / "expected.npz")


def data():
    """The training data and query of make_format1_files.py, drawn the same way."""
    rng = np.random.default_rng(0)
    X = rng.random((300, 64), dtype=np.float32)
    y = (X[:, :8].sum(axis=1) * 2.5).astype(int) % 4
    return X, y, rng.random((20, 64), dtype=np.float32)


def make():
    return NeuralNetwork(
        64,
        [16],
        4,
        0.05,
        optimizer="nesterov",
        batch_norm=True,
        dropout=0.1,
        l2=1e-4,
        seed=7,
        class_names=["a", "b", "c", "d"],
    )


def test_the_files_are_format_1():
    header, _ = load_arrays(FILES / "model.npz")
    assert header["format_version"] == 1 and "hidden_sizes" in header["architecture"]


def test_a_format_1_model_loads_and_predicts_the_same():
    net = load_model(FILES / "model.npz")
    X, y, Xq = data()
    assert net.describe() == "dense16 batchnorm relu dropout0.1 dense4"
    assert net.class_names == ["a", "b", "c", "d"] and net.optimizer.nesterov
    assert net.training_info.best_epoch == 4 and net.training_info.monitor == "val_accuracy"
    np.testing.assert_array_equal(net.predict_proba(Xq), EXPECTED["proba"])
    np.testing.assert_array_equal(net.params, EXPECTED["params"])


def test_a_format_1_checkpoint_resumes_to_the_uninterrupted_runs_weights(tmp_path):
    X, y, _ = data()
    checkpoint = tmp_path / "checkpoint.npz"
    checkpoint.write_bytes((FILES / "checkpoint.npz").read_bytes())
    net = make()
    net.train(
        X,
        y,
        X[:50],
        y[:50],
        epochs=4,
        batch_size=32,
        verbose=False,
        schedule="cosine",
        early_stopping=3,
        checkpoint=checkpoint,
        resume=True,
    )
    assert net.params.tobytes() == EXPECTED["params"].tobytes()


def test_a_format_1_model_saved_again_is_format_2_and_the_same(tmp_path):
    net = load_model(FILES / "model.npz")
    net.save_model(tmp_path / "again.npz")
    header, _ = load_arrays(tmp_path / "again.npz")
    assert header["format_version"] == 2 and header["architecture"]["layers"][0] == {
        "kind": "dense",
        "units": 16,
        "init": "xavier",
    }
    again = load_model(tmp_path / "again.npz")
    np.testing.assert_array_equal(again.predict_proba(data()[2]), EXPECTED["proba"])
