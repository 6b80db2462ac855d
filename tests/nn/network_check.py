"""Check a whole network's backward pass against finite differences: the helpers the gradient
tests share (``tests/nn/layer_check.py`` does the same for one layer on its own)."""

import numpy as np

from barenet.nn.layers import Dropout


def numerical_gradient(net, X, y, eps=1e-6):
    """Centred differences (L(p + eps) - L(p - eps)) / 2 eps for every parameter."""
    grad = np.empty_like(net.params)
    for i in range(net.params.size):
        old = net.params[i]
        net.params[i] = old + eps
        plus = loss_and_gradient(net, X, y)[0]
        net.params[i] = old - eps
        minus = loss_and_gradient(net, X, y)[0]
        net.params[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def loss_and_gradient(net, X, y):
    """The network's loss and gradient with the same dropout mask at every evaluation."""
    for layer in net.layers:
        if isinstance(layer, Dropout):
            layer.rng = np.random.default_rng(1234)
    return net.loss_and_gradient(X, y)


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-30)
