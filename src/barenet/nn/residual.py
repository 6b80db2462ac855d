"""Residual blocks: ``y = x + f(x)``, the skip connection of ResNets and transformers.

A deep plain stack is hard to train: the gradient reaching the first layers has gone through
every layer's Jacobian. A residual block adds its input back to what its layers make of it, so
the gradient also flows straight through the sum, and each block only has to learn a
correction ``f`` to the identity (He et al. 2016).

A block holds its own little list of layers, built like a network's (each learns its input
shape from the one before). Its parameters live in the network's flat buffers like every
other layer's: the block lists its layers' parameters under prefixed names (``"0.W"``,
``"1.gamma"``, ``"shortcut.W"``, ``"2.0.W"`` for a block inside a block) and hands each layer
its own views back.
"""

import numpy as np

from barenet import validation as check
from barenet.errors import BarenetError
from barenet.nn.activations import Activation
from barenet.nn.layers import Layer
from barenet.nn.stack import layer_from_config


class Residual(Layer):
    """``Y = X + f(X)``, or ``Y = shortcut(X) + f(X)``, where ``f`` is ``layers`` in order.

    ``layers`` is a list of layers (or their configs); ``shortcut`` is a layer (a 1x1
    ``Conv2D``, a ``Dense``) for when ``f`` changes the shape, such as a strided convolution
    with more filters. Without one, ``f`` must give back the shape it receives.

    Backward: the sum passes ``dY`` unchanged to both branches, so
    ``dX = dY + df(dY)``, where ``df`` is the layers' backward passes in reverse (they fill
    their parameter gradients on the way), or ``dX = dshortcut(dY) + df(dY)``.
    """

    kind = "residual"

    def __init__(self, layers, shortcut=None):
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
            raise BarenetError(
                f"a residual block's layers must be a list of layers, got {layers!r}"
            )
        layers = [layer_from_config(la) if isinstance(la, dict) else la for la in layers]
        self.layers = check.layer_list(layers, Layer)
        if isinstance(shortcut, dict):
            shortcut = layer_from_config(shortcut)
        if shortcut is not None and not isinstance(shortcut, Layer):
            raise BarenetError(
                f"a residual block's shortcut must be a layer (Conv2D(64, 1), Dense(64)) or "
                f"None, got {shortcut!r}"
            )
        if shortcut is not None and any(shortcut is la for la in self.layers):
            raise BarenetError("a residual block's shortcut cannot also be one of its layers")
        self.shortcut = shortcut
        self._rng = None
        self._input_grad = True

    def _parts(self):
        """``(prefix, layer)`` for each inner layer, the shortcut last."""
        parts = [(str(i), layer) for i, layer in enumerate(self.layers)]
        return parts + ([("shortcut", self.shortcut)] if self.shortcut is not None else [])

    def build(self, input_shape):
        super().build(input_shape)
        shape = self.input_shape
        for layer in self.layers:
            shape = layer.build(shape)
        if self.shortcut is not None:
            path = self.shortcut.build(self.input_shape)
            if path != shape:
                raise BarenetError(
                    f"a residual block's shortcut gives samples of shape {path}, its layers "
                    f"{shape}: both must match to be added"
                )
        elif shape != self.input_shape:
            raise BarenetError(
                f"a residual block's layers turn samples of shape {self.input_shape} into "
                f"{shape}, and x + f(x) needs them equal: give the block a shortcut that makes "
                "the same shape from x (a 1x1 convolution or a dense layer; in a layer string, "
                "res[... | conv64x1s2])"
            )
        self.output_shape = shape
        self.input_grad = self._input_grad  # hand the flags to the inner layers
        return shape

    @property
    def input_grad(self):
        """Whether ``backward`` returns ``dL/dX``. Setting it sets the inner layers' flags as a
        network sets its layers' (see :func:`barenet.nn.buffers.chain_shapes`): a layer needs
        ``dL/dX`` when the block does or a layer before it in the block has parameters."""
        return self._input_grad

    @input_grad.setter
    def input_grad(self, value):
        self._input_grad = needs = bool(value)
        for layer in self.layers:
            layer.input_grad = needs
            needs = needs or bool(layer.param_shapes())
        if self.shortcut is not None:
            self.shortcut.input_grad = self._input_grad

    @property
    def rng(self):
        """The network's random generator, passed on to the inner layers (dropout)."""
        return self._rng

    @rng.setter
    def rng(self, value):
        self._rng = value
        for _, layer in self._parts():
            layer.rng = value

    def param_shapes(self):
        return {
            f"{prefix}.{name}": spec
            for prefix, layer in self._parts()
            for name, spec in layer.param_shapes().items()
        }

    def bind(self, params, grads):
        super().bind(params, grads)
        for prefix, layer in self._parts():
            names = layer.param_shapes()
            layer.bind(
                {name: params[f"{prefix}.{name}"] for name in names},
                {name: grads[f"{prefix}.{name}"] for name in names},
            )

    def initialize(self, rng):
        for _, layer in self._parts():
            layer.initialize(rng)

    def state(self):
        return {
            f"{prefix}.{name}": value
            for prefix, layer in self._parts()
            for name, value in layer.state().items()
        }

    def set_state(self, arrays):
        for prefix, layer in self._parts():
            start = prefix + "."
            layer.set_state({k[len(start) :]: v for k, v in arrays.items() if k.startswith(start)})

    def forward(self, X, training=False):
        inner = X
        first = self.layers[0]
        if isinstance(first, Activation) and not first.needs_input:
            # It would run in place on X, which the sum (and the layer before) still need.
            inner = self._buffer("_X", X.shape, X.dtype)
            np.copyto(inner, X)
        # --8<-- [start:residual_forward]
        for layer in self.layers:
            inner = layer.forward(inner, training)
        path = X if self.shortcut is None else self.shortcut.forward(X, training)
        Y = self._buffer("_Y", inner.shape, inner.dtype)
        np.add(path, inner, out=Y)
        # --8<-- [end:residual_forward]
        return Y

    def backward(self, dY):
        # The layers may overwrite the dY they are given: the other branch gets a copy.
        dpath = None
        if self.input_grad or self.shortcut is not None:
            dpath = self._buffer("_dpath", dY.shape, dY.dtype)
            np.copyto(dpath, dY)
        # --8<-- [start:residual_backward]
        dinner = dY
        for layer in reversed(self.layers):
            dinner = layer.backward(dinner)
            if dinner is None:  # the layers before need no gradient (see input_grad)
                break
        if self.shortcut is not None:
            dpath = self.shortcut.backward(dpath)
        if not self.input_grad:
            return None
        dpath += dinner  # dX = dY (or dshortcut) + df(dY)
        # --8<-- [end:residual_backward]
        return dpath

    def config(self):
        return {
            "kind": self.kind,
            "layers": [layer.config() for layer in self.layers],
            "shortcut": None if self.shortcut is None else self.shortcut.config(),
        }

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        shortcut = "" if self.shortcut is None else f", shortcut={self.shortcut!r}"
        return f"Residual([{inner}]{shortcut})"
