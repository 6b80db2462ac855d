"""Activation layers: an elementwise function ``a = f(z)`` and its derivative, side by side.

Each activation is a layer (``ReLU()``, ``Sigmoid()``...) with two small methods: ``f(Z, out)``
writes ``a = f(z)`` into ``out`` (which may be ``Z`` itself), and ``df(dA, Z, A)`` turns the
gradient with respect to the output, ``dL/dA``, into the gradient with respect to the input,
``dL/dZ = dL/dA * f'(z)``, overwriting ``dA``. ``Z`` is the input and ``A`` the output of the
forward pass; an activation whose derivative needs the input itself says so (``needs_input``),
so that the others can run fully in place on the previous layer's output buffer, which nobody
needs again. Activations are found by name in :data:`ACTIVATIONS` (``activation="relu"``).
"""

import math

import numpy as np

from barenet.errors import BarenetError
from barenet.nn.layers import Layer
from barenet.specs import from_spec


class Activation(Layer):
    """Base class of the activation layers: applies ``f`` elementwise, any input shape."""

    needs_input = False  # True when f'(z) cannot be computed from a = f(z) alone

    def forward(self, X, training=False):
        if self.needs_input:
            self.Z = X
            self.A = self.f(X, self._buffer("_A", X.shape, X.dtype))
        else:
            self.Z, self.A = None, self.f(X, X)
        return self.A

    def backward(self, dY):
        return self.df(dY, self.Z, self.A)

    def f(self, Z, out):
        raise NotImplementedError

    def df(self, dA, Z, A):
        raise NotImplementedError


class Identity(Activation):
    """``f(z) = z``; ``f'(z) = 1``."""

    kind = "identity"

    def f(self, Z, out):
        if out is not Z:
            np.copyto(out, Z)
        return out

    def df(self, dA, Z, A):
        return dA


class ReLU(Activation):
    """``f(z) = max(z, 0)``; ``f'(z) = 1`` where ``z > 0``, else 0 (read off the output: a > 0)."""

    kind = "relu"

    # --8<-- [start:relu]
    def f(self, Z, out):
        return np.maximum(Z, 0, out=out)

    def df(self, dA, Z, A):
        # Multiplying by the boolean mask is one pass and keeps dA's buffer.
        return np.multiply(dA, A > 0, out=dA)
        # --8<-- [end:relu]


class LeakyReLU(Activation):
    """``f(z) = z`` for ``z > 0``, ``alpha * z`` otherwise; ``f'`` is 1 or ``alpha``.

    The slope is positive, so the sign of the output tells the sign of the input.
    """

    kind = "leaky_relu"

    def __init__(self, alpha=0.01):
        if not 0 < alpha < 1:
            raise BarenetError(f"leaky_relu alpha must be in (0, 1), got {alpha}")
        self.alpha = float(alpha)

    def f(self, Z, out):
        # max(z, alpha * z) is z for z > 0 and alpha * z below, because 0 < alpha < 1.
        return np.maximum(Z, Z * self.alpha, out=out)

    def df(self, dA, Z, A):
        return np.multiply(dA, np.where(A > 0, 1.0, self.alpha).astype(dA.dtype), out=dA)

    def config(self):
        return {"kind": self.kind, "alpha": self.alpha}


class Sigmoid(Activation):
    """``f(z) = 1 / (1 + exp(-z))``; ``f'(z) = a (1 - a)``.

    Computed as ``(1 + tanh(z / 2)) / 2``, which equals the sigmoid and never overflows.
    """

    kind = "sigmoid"

    def f(self, Z, out):
        np.multiply(Z, 0.5, out=out)
        np.tanh(out, out=out)
        out += 1
        out *= 0.5
        return out

    def df(self, dA, Z, A):
        return np.multiply(dA, A * (1 - A), out=dA)


class Tanh(Activation):
    """``f(z) = tanh(z)``; ``f'(z) = 1 - a^2``."""

    kind = "tanh"

    def f(self, Z, out):
        return np.tanh(Z, out=out)

    def df(self, dA, Z, A):
        return np.multiply(dA, 1 - A * A, out=dA)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class GELU(Activation):
    """Gaussian error linear unit, tanh approximation (Hendrycks & Gimpel 2016):

    ``f(z) = z/2 (1 + tanh(u))`` with ``u = sqrt(2/pi) (z + 0.044715 z^3)``, so
    ``f'(z) = (1 + tanh(u))/2 + z/2 (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 z^2)``.
    Its derivative needs the input ``z``, not just the output.
    """

    kind = "gelu"
    needs_input = True

    def f(self, Z, out):
        t = np.tanh(_SQRT_2_OVER_PI * (Z + 0.044715 * Z**3))
        return np.multiply(0.5 * Z, 1 + t, out=out)

    def df(self, dA, Z, A):
        t = np.tanh(_SQRT_2_OVER_PI * (Z + 0.044715 * Z**3))
        du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * Z * Z)
        return np.multiply(dA, 0.5 * (1 + t) + 0.5 * Z * (1 - t * t) * du, out=dA)


ACTIVATIONS = {cls.kind: cls for cls in (Identity, ReLU, LeakyReLU, Sigmoid, Tanh, GELU)}


def get_activation(spec):
    """An activation layer from a name (``"relu"``), a config dict or an instance."""
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, dict) and "kind" in spec:  # a layer config, as model files hold
        spec = {"name": spec["kind"], **{k: v for k, v in spec.items() if k != "kind"}}
    return from_spec(spec, ACTIVATIONS, "activation")
