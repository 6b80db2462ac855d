"""The repository's root scripts, run as a user would: the original
project's snippet and the two examples."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.mnist


def python(*args, cwd):
    """Run ``python args`` in ``cwd`` (BARENET_DATA is inherited); returns its stdout."""
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_the_seed_snippet_runs_from_the_repository_root(tmp_path):
    snippet = f"""
        import numpy as np
        from mnist_neural_network import NeuralNetwork, load_and_preprocess_mnist

        X_train, X_val, X_test, y_train, y_val, y_test = load_and_preprocess_mnist()
        nn = NeuralNetwork(input_size=784, hidden_sizes=[128, 64], output_size=10,
                           learning_rate=0.01)
        nn.train(X_train, y_train, X_val, y_val, epochs=2, batch_size=64)
        print("accuracy", nn.calculate_accuracy(X_test, y_test))
        nn.save_model({str(tmp_path / "my_model.pkl")!r})
        nn_loaded = NeuralNetwork()
        nn_loaded.load_model({str(tmp_path / "my_model.pkl")!r})
        print("same", np.array_equal(nn_loaded.predict(X_test), nn.predict(X_test)))
    """
    out = python("-c", textwrap.dedent(snippet), cwd=ROOT)
    assert 0.85 < float(re.search(r"accuracy ([\d.]+)", out).group(1)) <= 1
    assert "same True" in out
    assert (tmp_path / "my_model.pkl").stat().st_size > 0


def test_simple_example_saves_its_picture_and_model(tmp_path):
    out = python(ROOT / "simple_example.py", cwd=tmp_path)
    accuracy = float(re.search(r"test accuracy after 3 epochs: ([\d.]+)%", out).group(1))
    assert accuracy > 90
    assert "predicts the same labels: True" in out
    for name in ("simple_predictions.png", "simple_model.npz"):
        assert (tmp_path / "outputs" / name).stat().st_size > 0


def test_full_training_script_with_one_epoch(tmp_path):
    out_dir = tmp_path / "run"
    out = python(
        ROOT / "mnist_neural_network.py", "--epochs", "1", "--output-dir", out_dir, cwd=tmp_path
    )
    assert re.search(r"test accuracy: [\d.]+%", out)
    for name in ("mnist_model.npz", "training_history.png", "prediction_samples.png"):
        assert (out_dir / name).stat().st_size > 0
        assert str(out_dir / name) in out
