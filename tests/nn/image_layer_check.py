"""Conv2D and the pooling layers on their own, as the convolution and pooling tests run them.

:func:`standalone` binds a layer to flat parameter and gradient buffers of its own, as a network
does; :func:`check_gradients` compares its ``backward`` with centred differences of the scalar
``L = sum(Y * R)`` for a fixed random ``R``; :func:`assert_config_round_trip` rebuilds it from its
config.
"""

import json

import numpy as np


def standalone(layer, input_shape, dtype=np.float64, seed=0):
    """A layer outside a network: built, bound to flat buffers of its own, initialised."""
    layer.build(input_shape)
    shapes = layer.param_shapes()
    size = sum(int(np.prod(shape)) for shape, _ in shapes.values())
    params, grads = np.zeros(size, dtype), np.zeros(size, dtype)
    views, grad_views, offset = {}, {}, 0
    for name, (shape, _) in shapes.items():
        n = int(np.prod(shape))
        views[name] = params[offset : offset + n].reshape(shape)
        grad_views[name] = grads[offset : offset + n].reshape(shape)
        offset += n
    layer.bind(views, grad_views)
    layer.initialize(np.random.default_rng(seed))
    return layer


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-30)


def numeric_gradient(f, x, eps=1e-6):
    """Centred differences of the scalar f() with respect to every entry of x (changed in place)."""
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        plus = f()
        x[idx] = old - eps
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def check_gradients(layer, X, params=()):
    """L = sum(Y * R) for a fixed random R, so that dL/dY = R: compare dX and the parameter
    gradients the layer computes with centred differences of L."""
    R = np.random.default_rng(5).normal(size=(len(X), *layer.output_shape))

    def loss():
        return float(np.sum(layer.forward(X, training=True) * R))

    loss()
    dX = layer.backward(R.copy()).copy()
    grads = {name: layer.grads[name].copy() for name in params}
    assert relative_error(dX, numeric_gradient(loss, X)) < 1e-6
    for name in params:
        assert relative_error(grads[name], numeric_gradient(loss, layer.params[name])) < 1e-6


def assert_config_round_trip(layer):
    """``layer``'s config survives JSON and rebuilds an equal layer, setting for setting."""
    config = layer.config()
    assert json.loads(json.dumps(config)) == config
    settings = {k: v for k, v in config.items() if k != "kind"}
    rebuilt = type(layer)(**settings)
    assert rebuilt.config() == config
    for name in ("filters", "kernel_size", "stride", "padding", "pool_size", "init"):
        assert getattr(rebuilt, name, None) == getattr(layer, name, None)
