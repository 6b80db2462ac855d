"""Weight initialisations: draw ``W (n_in, n_out)`` so that signals keep their scale.

Xavier/Glorot (2010) keeps the variance of activations and of gradients roughly equal across
layers for symmetric activations (tanh, sigmoid): ``Var(W) = 2 / (n_in + n_out)``. He (2015)
accounts for ReLU zeroing half of its inputs: ``Var(W) = 2 / n_in``. A uniform draw on
``[-r, r]`` has variance ``r^2 / 3``, which fixes ``r``. Biases start at zero.
"""

import math

from barenet.errors import BarenetError


def xavier_uniform(rng, n_in, n_out, dtype):
    """Uniform on ``[-r, r]`` with ``r = sqrt(6 / (n_in + n_out))``.

    The default of the classic ``NeuralNetwork(784, [128, 64], 10)``.
    """
    # --8<-- [start:xavier_uniform]
    r = math.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-r, r, size=(n_in, n_out)).astype(dtype)
    # --8<-- [end:xavier_uniform]


def xavier_normal(rng, n_in, n_out, dtype):
    """Normal with standard deviation ``sqrt(2 / (n_in + n_out))``."""
    return rng.normal(0.0, math.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out)).astype(dtype)


def he_normal(rng, n_in, n_out, dtype):
    """Normal with standard deviation ``sqrt(2 / n_in)``, for ReLU networks."""
    # --8<-- [start:he_normal]
    return rng.normal(0.0, math.sqrt(2.0 / n_in), size=(n_in, n_out)).astype(dtype)
    # --8<-- [end:he_normal]


def he_uniform(rng, n_in, n_out, dtype):
    """Uniform on ``[-r, r]`` with ``r = sqrt(6 / n_in)``."""
    r = math.sqrt(6.0 / n_in)
    return rng.uniform(-r, r, size=(n_in, n_out)).astype(dtype)


INITIALIZERS = {
    "xavier": xavier_uniform,
    "xavier_uniform": xavier_uniform,
    "glorot": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he": he_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
}


def get_initializer(name):
    """Return the initialisation function called ``name``."""
    if name not in INITIALIZERS:
        raise BarenetError(f"unknown init {name!r}; choose one of {sorted(INITIALIZERS)}")
    return INITIALIZERS[name]
