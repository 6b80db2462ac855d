"""Solutions to notebook 6, "Write the backward pass": kept apart from the notebook so that
students start from blank functions. ``tests/test_notebooks.py`` runs each through barenet's
checker (:mod:`barenet.exercises`), so these stay right as the code changes.

A teacher can load them into the notebook with ``%run solutions/backward.py`` from
``notebooks/``.
"""

import numpy as np


def dense_backward(X, W, b, dZ):
    """``Z = X @ W + b``: ``dX = dZ W^T`` (B, n_in), ``dW = X^T dZ`` (n_in, n_out), ``db`` the
    column sums of ``dZ`` (n_out,)."""
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def relu_backward(Z, dA):
    """``A = max(Z, 0)``: the gradient passes where ``Z > 0`` and stops elsewhere."""
    return dA * (Z > 0)


def softmax_cross_entropy_backward(Z, y):
    """Mean cross-entropy of ``softmax(Z)``: ``dZ = (P - T) / B``, T the one-hot labels."""
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    T = np.eye(Z.shape[1])[y]
    return (P - T) / len(Z)


def network_backward(weights, X, y):
    """Dense, ReLU, ..., Dense, softmax cross-entropy: the forward pass keeps each layer's input
    and pre-activation, then the backward pass walks the layers in reverse."""
    names = sorted({name.rsplit(".", 1)[0] for name in weights}, key=lambda n: int(n.split(".")[1]))
    inputs, outputs, A = [], [], X
    for k, layer in enumerate(names):
        Z = A @ weights[f"{layer}.W"] + weights[f"{layer}.b"]
        inputs.append(A)
        outputs.append(Z)
        A = np.maximum(Z, 0) if k < len(names) - 1 else Z
    dZ = softmax_cross_entropy_backward(outputs[-1], y)
    grads = {}
    for k in reversed(range(len(names))):
        layer = names[k]
        dA, grads[f"{layer}.W"], grads[f"{layer}.b"] = dense_backward(
            inputs[k], weights[f"{layer}.W"], weights[f"{layer}.b"], dZ
        )
        if k:
            dZ = relu_backward(outputs[k - 1], dA)
    return grads
