"""Optimizers: each one a small class whose ``step`` applies one step to a whole buffer.

The network keeps all parameters in one flat array ``params`` and their gradients, in the same
layout, in ``grads``; so every optimizer below is a handful of whole-buffer NumPy operations,
in place, whatever the number of layers. ``setup`` allocates the optimizer's state (moments) once;
``state`` / ``set_state`` expose it as arrays, so a checkpoint can resume a run exactly.

``decay_mask`` (1 for weights, 0 for biases and normalisation parameters) is what decoupled
weight decay (AdamW) applies to.
"""

import numpy as np

from barenet import validation as check
from barenet.errors import BarenetError
from barenet.specs import build, parse_spec


class Optimizer:
    """Base class. ``learning_rate`` may be changed between steps (by a schedule)."""

    name = ""

    def __init__(self, learning_rate=0.01):
        self.learning_rate = check.positive_float("learning_rate", learning_rate)
        self.t = 0  # steps taken

    def setup(self, params, decay_mask=None):
        """Allocate state for a flat parameter buffer (called once, before the first step)."""
        self._tmp = np.empty_like(params)
        self.decay_mask = decay_mask

    def step(self, params, grads):
        """Apply one step to ``params`` in place, given ``grads`` of the same layout."""
        raise NotImplementedError

    def update(self, params, grads):
        """The former name of :meth:`step`, kept working for code written before it."""
        self.step(params, grads)

    def config(self):
        return {"name": self.name, "learning_rate": self.learning_rate}

    def state(self):
        """Arrays and counters needed to continue exactly where this optimizer stopped."""
        return {"t": np.array(self.t)}

    def set_state(self, arrays):
        self.t = int(arrays["t"])


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Plain: ``p <- p - lr g``. Momentum: ``v <- mu v - lr g``, ``p <- p + v``: the velocity
    averages recent gradients, so steps grow along consistent directions and oscillations cancel.
    Nesterov evaluates the gradient "ahead", which in this form reads ``p <- p + mu v - lr g``.
    At a learning rate of 0 (a schedule's end) every optimizer takes a zero step.
    """

    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum = check.number("momentum", momentum, 0, 1, high_inclusive=False)
        if nesterov and self.momentum == 0:
            raise BarenetError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)

    def setup(self, params, decay_mask=None):
        super().setup(params, decay_mask)
        self.velocity = np.zeros_like(params) if self.momentum else None

    def step(self, params, grads):
        self.t += 1
        if self.learning_rate == 0 and self.velocity is not None:
            return  # a zero rate is a zero step: the velocity waits rather than coasting on
        # --8<-- [start:sgd_update]
        step = np.multiply(grads, self.learning_rate, out=self._tmp)  # lr * g
        if self.velocity is None:
            params -= step
            return
        v = self.velocity
        v *= self.momentum
        v -= step
        if self.nesterov:
            params -= step
            step = np.multiply(v, self.momentum, out=self._tmp)
            params += step
        else:
            params += v
        # --8<-- [end:sgd_update]

    def config(self):
        return {**super().config(), "momentum": self.momentum, "nesterov": self.nesterov}

    def state(self):
        s = super().state()
        if self.velocity is not None:
            s["velocity"] = self.velocity
        return s

    def set_state(self, arrays):
        super().set_state(arrays)
        if self.velocity is not None:
            self.velocity[...] = arrays["velocity"]


class RMSprop(Optimizer):
    """RMSprop (Hinton 2012): divide the step by a running root mean square of the gradient.

    ``s <- rho s + (1 - rho) g^2``, ``p <- p - lr g / (sqrt(s) + eps)``.
    """

    name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, eps=1e-8):
        super().__init__(learning_rate)
        self.rho = check.number("rho", rho, 0, 1, low_inclusive=False, high_inclusive=False)
        self.eps = check.positive_float("eps", eps)

    def setup(self, params, decay_mask=None):
        super().setup(params, decay_mask)
        self.square_avg = np.zeros_like(params)

    def step(self, params, grads):
        self.t += 1
        # --8<-- [start:rmsprop_update]
        s, tmp = self.square_avg, self._tmp
        s *= self.rho
        np.square(grads, out=tmp)
        tmp *= 1 - self.rho
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(grads, tmp, out=tmp)
        tmp *= self.learning_rate
        params -= tmp
        # --8<-- [end:rmsprop_update]

    def config(self):
        return {**super().config(), "rho": self.rho, "eps": self.eps}

    def state(self):
        return {**super().state(), "square_avg": self.square_avg}

    def set_state(self, arrays):
        super().set_state(arrays)
        self.square_avg[...] = arrays["square_avg"]


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum on the gradient and RMSprop's scaling, bias-corrected.

    The paper keeps ``m <- b1 m + (1 - b1) g`` and ``v <- b2 v + (1 - b2) g^2``, corrects them
    to ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)`` and steps
    ``p <- p - lr m_hat / (sqrt(v_hat) + eps)``. We store ``M = m / (1 - b1)`` and
    ``V = v / (1 - b2)`` instead, so each moment update is two in-place passes
    (``M <- b1 M + g``, ``V <- b2 V + g^2``) and every constant folds into two scalars:
    ``m_hat = c1 M`` and ``v_hat = c2 V`` with ``c1 = (1 - b1) / (1 - b1^t)``,
    ``c2 = (1 - b2) / (1 - b2^t)``. Same step, ten passes over the buffer instead of fifteen.
    """

    name = "adam"

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(learning_rate)
        self.beta1 = check.number("beta1", beta1, 0, 1, high_inclusive=False)
        self.beta2 = check.number("beta2", beta2, 0, 1, high_inclusive=False)
        self.eps = check.positive_float("eps", eps)

    def setup(self, params, decay_mask=None):
        super().setup(params, decay_mask)
        self.M = np.zeros_like(params)
        self.V = np.zeros_like(params)

    def step(self, params, grads):
        self.t += 1
        # --8<-- [start:adam_update]
        b1, b2, M, V, tmp = self.beta1, self.beta2, self.M, self.V, self._tmp
        M *= b1
        M += grads
        np.square(grads, out=tmp)
        V *= b2
        V += tmp
        # Python floats throughout: a NumPy float64 scalar would make NumPy compute in float64.
        c1 = (1 - b1) / (1 - b1**self.t)
        c2 = (1 - b2) / (1 - b2**self.t)
        scale = self.learning_rate * c1
        if scale == 0:  # a zero rate (a schedule at its end) is a zero step, not 0 / 0
            return
        # lr c1 M / (sqrt(c2 V) + eps) = M / (sqrt(V c2 / scale^2) + eps / scale)
        np.multiply(V, c2 / scale**2, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.eps / scale
        np.divide(M, tmp, out=tmp)
        params -= tmp
        # --8<-- [end:adam_update]

    def config(self):
        return {**super().config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def state(self):
        return {**super().state(), "M": self.M, "V": self.V}

    def set_state(self, arrays):
        super().set_state(arrays)
        self.M[...] = arrays["M"]
        self.V[...] = arrays["V"]


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): before the Adam step,
    ``W <- W (1 - lr * weight_decay)`` for weights only, instead of adding ``wd W`` to the gradient
    where Adam's scaling would distort it.
    """

    name = "adamw"

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(learning_rate, beta1, beta2, eps)
        self.weight_decay = check.positive_float("weight_decay", weight_decay, allow_zero=True)

    def step(self, params, grads):
        # --8<-- [start:adamw_update]
        if self.weight_decay:
            decay = self.learning_rate * self.weight_decay
            if self.decay_mask is None:
                params *= 1 - decay
            else:
                np.multiply(params, self.decay_mask, out=self._tmp)
                self._tmp *= decay
                params -= self._tmp
        super().step(params, grads)
        # --8<-- [end:adamw_update]

    def config(self):
        return {**super().config(), "weight_decay": self.weight_decay}


OPTIMIZERS = {cls.name: cls for cls in (SGD, RMSprop, Adam, AdamW)}
OPTIMIZERS["momentum"] = SGD  # "momentum" alone means SGD with momentum 0.9
OPTIMIZERS["nesterov"] = SGD


def get_optimizer(spec, learning_rate=None):
    """Return an :class:`Optimizer` from a name, a config dict or an instance.

    ``learning_rate``, when given, applies to a name or a dict without one.
    """
    if isinstance(spec, Optimizer):
        return spec
    name, config = parse_spec(spec, OPTIMIZERS, "optimizer")
    if name in ("momentum", "nesterov"):
        config.setdefault("momentum", 0.9)
        config.setdefault("nesterov", name == "nesterov")
    if learning_rate is not None:
        config.setdefault("learning_rate", learning_rate)
    return build(OPTIMIZERS, "optimizer", name, config)
