"""Checkpoints: exact resume, in process and after kill -9 of a real training process."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from barenet import ModelFileError, NeuralNetwork
from barenet.train.callbacks import EarlyStopping

RECIPE = dict(
    input_size=64,
    hidden_sizes=[32, 16],
    output_size=4,
    learning_rate=0.01,
    optimizer="adam",
    dropout=0.2,
    batch_norm=True,
    seed=3,
)


def data(n=600):
    rng = np.random.default_rng(0)
    X = rng.random((n, 64), dtype=np.float32)
    return X, (X[:, :8].sum(axis=1) * 2).astype(int) % 4


def untimed(history):
    """The history without wall-clock times, which no two runs share."""
    return {k: v for k, v in history.items() if k != "epoch_time"}


def train(epochs, **kwargs):
    X, y = data()
    nn = NeuralNetwork(**RECIPE)
    nn.train(
        X[:500],
        y[:500],
        X[500:],
        y[500:],
        epochs=epochs,
        batch_size=32,
        verbose=False,
        schedule="cosine",
        augment={"name": "shift", "max_shift": 1},
        early_stopping=EarlyStopping(patience=50),
        **kwargs,
    )
    return nn


def test_resume_gives_the_uninterrupted_weights_bit_for_bit(tmp_path):
    path = tmp_path / "run.ckpt"
    reference = train(6)
    train(6, checkpoint=path, callbacks=[lambda epoch, logs: epoch == 2])  # stops after 3 of 6
    # A fresh process would build a fresh network: same here, then resume to the 6 epochs.
    resumed = NeuralNetwork(**RECIPE)
    X, y = data()
    resumed.train(
        X[:500],
        y[:500],
        X[500:],
        y[500:],
        epochs=6,
        batch_size=32,
        verbose=False,
        schedule="cosine",
        augment={"name": "shift", "max_shift": 1},
        early_stopping=EarlyStopping(patience=50),
        checkpoint=path,
        resume=True,
    )
    assert np.array_equal(resumed.params, reference.params)
    for name, array in reference.named_arrays().items():
        assert np.array_equal(resumed.named_arrays()[name], array), name
    assert untimed(resumed.history) == untimed(reference.history)
    assert resumed.training_info.best_epoch == reference.training_info.best_epoch


def test_resume_without_a_checkpoint_starts_fresh(tmp_path):
    a = train(2, checkpoint=tmp_path / "none.ckpt", resume=True)
    assert np.array_equal(a.params, train(2).params)


def test_checkpoint_of_another_network_is_refused(tmp_path):
    path = tmp_path / "run.ckpt"
    train(1, checkpoint=path)
    X, y = data()
    other = NeuralNetwork(64, [20], 4)
    with pytest.raises(ModelFileError, match="layers 'dense32 .*this one has 'dense20 relu dense4"):
        other.train(X, y, epochs=2, checkpoint=path, resume=True, verbose=False)
    with pytest.raises(ModelFileError, match="is a barenet 'checkpoint' file, not a 'model'"):
        NeuralNetwork().load_model(path)  # a checkpoint is not a model file


TRAINING_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from barenet import NeuralNetwork
    rng = np.random.default_rng(0)
    X = rng.random((20000, 100), dtype=np.float32)
    y = (X[:, :10].sum(axis=1) * 3).astype(int) % 5
    nn = NeuralNetwork(100, [64, 32], 5, learning_rate=0.05, optimizer="momentum", dropout=0.1,
                       seed=11)
    nn.train(X, y, epochs=12, batch_size=50, verbose=False, schedule="cosine",
             checkpoint=sys.argv[1], resume=True)
    nn.save_model(sys.argv[2])
""")


def run_training(ckpt, out, kill_after=None):
    """Run the training script; kill it with SIGKILL after ``kill_after`` s. True if it finished."""
    proc = subprocess.Popen(
        [sys.executable, "-c", TRAINING_SCRIPT, str(ckpt), str(out)],
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    try:
        proc.wait(timeout=kill_after if kill_after is not None else 300)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return False
    assert proc.returncode == 0
    return True


def test_kill_9_at_random_moments_then_resume_matches_an_uninterrupted_run(tmp_path):
    start = time.perf_counter()
    run_training(tmp_path / "ref.ckpt", tmp_path / "ref.npz")
    duration = time.perf_counter() - start
    reference = NeuralNetwork().load_model(tmp_path / "ref.npz")
    rng = np.random.default_rng()
    kills = 0
    for trial in range(4):
        ckpt, out = tmp_path / f"t{trial}.ckpt", tmp_path / f"t{trial}.npz"
        # Kill it again and again at a random moment, each time resuming from the checkpoint.
        while not run_training(ckpt, out, kill_after=rng.uniform(0.2, 0.9) * duration):
            kills += 1
        model = NeuralNetwork().load_model(out)
        assert np.array_equal(model.params, reference.params)
        assert untimed(model.history) == untimed(reference.history)
    print(f"{kills} SIGKILLs during 4 training runs, each resumed to the same final weights")
    assert kills >= 4  # the runs were really killed, and resumed
