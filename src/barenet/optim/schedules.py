"""Learning-rate schedules: the rate as a function of training progress.

A schedule is started with the optimizer's base rate and the number of epochs, then asked for
``rate(position)`` before every step, where ``position`` counts epochs as a float (2.5 is half-way
through the third epoch), so that smooth schedules change within an epoch. Position alone fixes
the rate, so resuming a run at an epoch boundary gives exactly the same rates; the one schedule
with memory, reduce-on-plateau, exposes it through ``state``/``set_state``.
"""

import math

from barenet import validation as check
from barenet.specs import from_spec


class Schedule:
    """Base class: holds ``base_rate`` and ``epochs`` once started."""

    name = ""

    def start(self, base_rate, epochs):
        # Epochs stay a float: a schedule after a fractional warm-up runs over 15.5 epochs,
        # not 15, and so reaches its end exactly when training does.
        self.base_rate, self.epochs = float(base_rate), float(epochs)
        return self

    def rate(self, position):
        raise NotImplementedError

    def config(self):
        return {"name": self.name, **{k: v for k, v in vars(self).items() if k in self._params}}

    _params = ()

    def state(self):
        return {}

    def set_state(self, state):
        """Restore what :meth:`state` returned (only reduce-on-plateau has any)."""

    def on_epoch_end(self, trainer, epoch, logs):
        """Called by the trainer after each epoch with its figures; only reduce-on-plateau
        looks at them."""


class Constant(Schedule):
    """``lr(t) = lr0``."""

    name = "constant"

    def rate(self, position):
        return self.base_rate


class Step(Schedule):
    """``lr(t) = lr0 * gamma ** floor(t / every)``: divide the rate at fixed epochs."""

    name = "step"
    _params = ("every", "gamma")

    def __init__(self, every=10, gamma=0.1):
        check.positive_float("step schedule every", every)
        self.every = every  # kept as given: 10 epochs stays an int in the saved config
        self.gamma = check.number("step schedule gamma", gamma, 0, 1, low_inclusive=False)

    def rate(self, position):
        return self.base_rate * self.gamma ** math.floor(position / self.every)


class Exponential(Schedule):
    """``lr(t) = lr0 * gamma ** floor(t)``: a constant factor per epoch."""

    name = "exponential"
    _params = ("gamma",)

    def __init__(self, gamma=0.95):
        self.gamma = check.number("exponential schedule gamma", gamma, 0, 1, low_inclusive=False)

    def rate(self, position):
        return self.base_rate * self.gamma ** math.floor(position)


class Cosine(Schedule):
    """Cosine annealing (Loshchilov & Hutter 2017) from ``lr0`` down to ``min_rate``:

    ``lr(t) = min + (lr0 - min) (1 + cos(pi t / T)) / 2`` with ``T`` the number of epochs.
    """

    name = "cosine"
    _params = ("min_rate",)

    def __init__(self, min_rate=0.0):
        self.min_rate = check.positive_float("cosine schedule min_rate", min_rate, allow_zero=True)

    def rate(self, position):
        progress = min(position / self.epochs, 1.0)
        return (
            self.min_rate
            + (self.base_rate - self.min_rate) * (1 + math.cos(math.pi * progress)) / 2
        )


class Warmup(Schedule):
    """Linear warm-up over ``warmup`` epochs, from ``lr0 / 100`` up to the rate of ``then``.

    Large rates early, when the weights are random, can blow training up; a gentle start avoids it.
    ``then`` (a schedule, by default constant) runs over the remaining epochs.
    """

    name = "warmup"
    _params = ("warmup",)

    def __init__(self, warmup=1.0, then="constant"):
        check.positive_float("warmup (epochs)", warmup)
        self.warmup = warmup  # kept as given, like Step's every
        self.then = get_schedule(then)

    def start(self, base_rate, epochs):
        super().start(base_rate, epochs)
        # The rest of the run, fractions kept; a warm-up as long as the run leaves ``then`` one
        # epoch, never zero (it would divide by it).
        remaining = self.epochs - self.warmup
        self.then.start(base_rate, remaining if remaining > 0 else 1.0)
        return self

    def rate(self, position):
        if position < self.warmup:
            return self.base_rate * (0.01 + 0.99 * position / self.warmup)
        return self.then.rate(position - self.warmup)

    def config(self):
        return {**super().config(), "then": self.then.config()}

    def on_epoch_end(self, trainer, epoch, logs):
        self.then.on_epoch_end(trainer, epoch, logs)  # a plateau after the warm-up still watches

    def state(self):
        return self.then.state()

    def set_state(self, state):
        self.then.set_state(state)


class ReduceOnPlateau(Schedule):
    """Multiply the rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    It watches the epoch's figures through :meth:`on_epoch_end`, which the trainer calls after
    each epoch; falls back to the training loss when there is no validation data.
    """

    name = "plateau"
    _params = ("factor", "patience", "monitor", "min_rate")

    def __init__(self, factor=0.5, patience=3, monitor="val_loss", min_rate=1e-6):
        self.factor = check.fraction("plateau schedule factor", factor, allow_zero=False)
        self.patience = check.positive_int("plateau schedule patience", patience)
        self.monitor = monitor
        self.min_rate = check.positive_float("plateau schedule min_rate", min_rate, allow_zero=True)

    def start(self, base_rate, epochs):
        super().start(base_rate, epochs)
        self.current, self.best, self.wait = self.base_rate, math.inf, 0
        return self

    def rate(self, position):
        return self.current

    def on_epoch_end(self, trainer, epoch, logs):
        value = logs.get(self.monitor, logs["train_loss"])
        if "accuracy" in self.monitor:
            value = -value  # lower is better below
        if value < self.best - 1e-12:
            self.best, self.wait = value, 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.current, self.wait = max(self.current * self.factor, self.min_rate), 0

    def state(self):
        return {"current": self.current, "best": self.best, "wait": self.wait}

    def set_state(self, state):
        self.current, self.best, self.wait = state["current"], state["best"], state["wait"]


SCHEDULES = {
    cls.name: cls for cls in (Constant, Step, Exponential, Cosine, Warmup, ReduceOnPlateau)
}


def get_schedule(spec):
    """A :class:`Schedule` from a name, a config dict, an instance, or ``None`` (constant)."""
    if spec is None:
        return Constant()
    return spec if isinstance(spec, Schedule) else from_spec(spec, SCHEDULES, "schedule")
