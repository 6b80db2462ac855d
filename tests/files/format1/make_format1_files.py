# ruff: noqa: E402  (the source tree to import is chosen at run time)
"""Run with the format-1 barenet (commit 9446ee6): files that the tests keep loading forever."""

import sys

sys.path.insert(0, sys.argv[1] + "/src")
out = sys.argv[2]
import numpy as np

from barenet import NeuralNetwork

rng = np.random.default_rng(0)
X = rng.random((300, 64), dtype=np.float32)
y = (X[:, :8].sum(axis=1) * 2.5).astype(int) % 4
Xq = rng.random((20, 64), dtype=np.float32)


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


def stop(epoch, logs):
    if epoch == 2:
        raise KeyboardInterrupt


net = make()
try:
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
        checkpoint=f"{out}/checkpoint.npz",
        callbacks=[stop],
    )
except KeyboardInterrupt:
    pass
full = make()
full.train(
    X,
    y,
    X[:50],
    y[:50],
    epochs=4,
    batch_size=32,
    verbose=False,
    schedule="cosine",
    early_stopping=3,
)
full.save_model(f"{out}/model.npz")
np.savez(f"{out}/expected.npz", proba=full.predict_proba(Xq), params=full.params)
print(full, full.training_info)
