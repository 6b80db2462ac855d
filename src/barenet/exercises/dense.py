"""The four checkers of ``notebooks/06-write-the-backward-pass.ipynb``: a dense layer, ReLU,
softmax with cross-entropy, and a whole network, against centred finite differences or
barenet's own backward pass.
"""

import numpy as np

from barenet.exercises.checking import (
    GradientCheck,
    Verdict,
    check_answer,
    compare,
    describe,
    numeric_gradient,
    run_answer,
)
from barenet.network import NeuralNetwork
from barenet.nn.losses import cross_entropy


def check_dense(dense_backward, seed=0):
    """Check ``dense_backward(X, W, b, dZ) -> (dX, dW, db)`` for ``Z = X @ W + b`` against
    finite differences of ``sum(Z * dZ)``, whose gradient is exactly what the layer receives."""
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    dZ = rng.normal(size=(4, 3))

    def loss():
        return np.sum((X @ W + b) * dZ)

    references = {name: numeric_gradient(loss, a) for name, a in (("dX", X), ("dW", W), ("db", b))}
    return check_answer("dense_backward", dense_backward, (X, W, b, dZ), references)


def check_relu(relu_backward, seed=0):
    """Check ``relu_backward(Z, dA) -> dZ`` for ``A = max(Z, 0)`` against finite differences
    (no input within ``0.01`` of the kink, where the two sides would disagree)."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(4, 6))
    Z[np.abs(Z) < 0.01] = 0.5
    dA = rng.normal(size=Z.shape)
    reference = numeric_gradient(lambda: np.sum(np.maximum(Z, 0) * dA), Z)
    return check_answer("relu_backward", relu_backward, (Z, dA), {"dZ": reference})


def check_softmax_cross_entropy(softmax_cross_entropy_backward, seed=0):
    """Check ``softmax_cross_entropy_backward(Z, y) -> dZ``, the gradient of the mean
    cross-entropy of ``softmax(Z)`` over the batch, against finite differences of barenet's
    ``cross_entropy``."""
    rng = np.random.default_rng(seed)
    Z, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    reference = numeric_gradient(lambda: cross_entropy(Z, y), Z)
    return check_answer(
        "softmax_cross_entropy_backward", softmax_cross_entropy_backward, (Z, y), {"dZ": reference}
    )


def check_network(network_backward, hidden_sizes=(16, 12), seed=0):
    """Check ``network_backward(weights, X, y) -> grads`` on a small float64 ReLU network
    (20 inputs, ``hidden_sizes``, 5 classes, 8 images) against barenet's own backward pass.

    ``weights`` is ``net.named_arrays()`` (``"layers.0.W"``, ``"layers.0.b"``, ``"layers.2.W"``...:
    the dense layers sit at the even places of ``net.layers``, the ReLUs between them) and
    ``grads`` must hold the gradient of the mean loss for each of those names.
    """
    net = NeuralNetwork(20, list(hidden_sizes), 5, dtype="float64", seed=seed)
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(8, 20)), rng.integers(0, 5, size=8)
    _, flat = net.loss_and_gradient(X, y)
    slices, weights = net.parameter_slices(), net.named_arrays()
    references = {name: flat[slices[name]].reshape(weights[name].shape) for name in slices}
    student_weights = {name: array.copy() for name, array in weights.items()}
    names = list(references)
    result, failed = run_answer("network_backward", network_backward, names, student_weights, X, y)
    if failed:
        return failed
    if not isinstance(result, dict):
        problem = f"should return a dict of gradients keyed like weights, got {describe(result)}"
        return GradientCheck("network_backward", problem=problem, gradients=names)
    verdicts = [
        compare(name, result[name], ref)
        if name in result
        else Verdict(name, None, "missing (no such key in the dict returned)")
        for name, ref in references.items()
    ]
    return GradientCheck("network_backward", verdicts, gradients=names)
