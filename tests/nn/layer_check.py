"""Run one layer on its own, and check its backward pass against finite differences.

A learner adding a layer or an activation copies a test that calls :func:`check_layer`: it
builds the layer for an input shape, gives it float64 parameters, and compares every gradient
``backward`` produces (inputs and parameters) with centred differences of the scalar
``L = sum(forward(X) * G)`` for a fixed random ``G``, whose gradient with respect to the output is
exactly ``G``.
"""

import numpy as np


def standalone(layer, input_shape, seed=0, dtype=np.float64):
    """``layer`` built for ``input_shape`` with its own parameter and gradient buffers."""
    layer.build(tuple(input_shape))
    params, grads = {}, {}
    for name, (shape, _) in layer.param_shapes().items():
        params[name], grads[name] = np.zeros(shape, dtype), np.zeros(shape, dtype)
    layer.bind(params, grads)
    layer.initialize(np.random.default_rng(seed))
    layer.rng = np.random.default_rng(seed)
    for value in params.values():  # break symmetries (zero biases, unit gammas)
        value += np.random.default_rng(seed + 1).normal(0, 0.1, value.shape)
    return layer


def _loss(layer, X, G, training):
    if hasattr(layer, "rng"):
        layer.rng = np.random.default_rng(7)  # the same dropout mask at every evaluation
    return float(np.sum(layer.forward(X.copy(), training) * G))


def check_layer(layer, input_shape, batch=3, training=True, eps=1e-6, seed=0):
    """Largest relative error between ``backward``'s gradients and finite differences."""
    rng = np.random.default_rng(seed)
    standalone(layer, input_shape, seed)
    layer.input_grad = True
    X = rng.normal(size=(batch, *input_shape))
    G = rng.normal(size=(batch, *layer.output_shape))
    _loss(layer, X, G, training)
    dX = np.array(layer.backward(G.copy()))
    analytic = {"X": dX, **{k: v.copy() for k, v in layer.grads.items()}}
    targets = {"X": X, **layer.params}
    errors = {}
    for name, array in targets.items():
        numeric = np.empty_like(array)
        for i in np.ndindex(array.shape):
            old = array[i]
            array[i] = old + eps
            plus = _loss(layer, X, G, training)
            array[i] = old - eps
            minus = _loss(layer, X, G, training)
            array[i] = old
            numeric[i] = (plus - minus) / (2 * eps)
        a, n = analytic[name], numeric
        errors[name] = np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-30)
    return errors


def numeric_input_gradient(net, X, y, eps=1e-6):
    """``dL/dX`` of a network's mean loss in prediction mode, by centred differences."""
    numeric = np.zeros_like(X)
    for i in np.ndindex(X.shape):
        up, down = X.copy(), X.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = (net.evaluate(up, y)["loss"] - net.evaluate(down, y)["loss"]) / (2 * eps)
    return numeric
