"""Callbacks: code that runs as training goes (each epoch, each batch), without touching the
training loop.

A callback is a :class:`~barenet.callback.Callback` (its hooks ``on_train_begin``,
``on_epoch_begin``, ``on_batch_end``, ``on_epoch_end``, ``on_train_end`` say what a callback
can do), or simply a function ``f(epoch, logs)``, called after each epoch, which stops training
by returning ``True``. An epoch's ``logs`` hold its figures (``train_loss``, ``val_accuracy``,
...). Setting ``trainer.stop_training = True`` ends training after this epoch. Here:
:class:`EarlyStopping`, and :class:`HistoryFile`, which keeps the per-epoch figures in a file
as they come (``barenet train --history``).
"""

import csv
import io
import json
import math
from pathlib import Path

from barenet.callback import HOOKS, Callback
from barenet.errors import BarenetError
from barenet.files.archive import atomic_write_bytes
from barenet.validation import positive_float, positive_int


class FunctionCallback(Callback):
    """Wraps ``f(epoch, logs)``: called after every epoch; returning ``True`` stops training."""

    def __init__(self, fn):
        self.fn = fn

    def on_epoch_end(self, trainer, epoch, logs):
        if self.fn(epoch, logs) is True:
            trainer.stop_training = True


class HookObject(Callback):
    """An object that defines some of the hooks without being a :class:`Callback` (as callbacks
    were written before the base class): its hooks are called, the others do nothing. Its
    other attributes (``state``, ``set_state``...) read through."""

    def __init__(self, obj):
        self.wrapped = obj
        for hook in HOOKS:
            if hasattr(obj, hook):
                setattr(self, hook, getattr(obj, hook))

    def __getattr__(self, name):  # only for names not found on this object
        if name == "wrapped":
            raise AttributeError(name)
        return getattr(self.wrapped, name)


def as_callback(cb):
    """A :class:`Callback` from a callback object or a function ``f(epoch, logs)``."""
    if isinstance(cb, Callback):
        return cb
    if any(hasattr(cb, hook) for hook in HOOKS):
        return HookObject(cb)
    if callable(cb):
        return FunctionCallback(cb)
    raise BarenetError(
        "a callback must be a function f(epoch, logs), a barenet.callback.Callback, or define "
        f"one of {HOOKS}, got {cb!r}"
    )


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; restore the best weights.

    ``monitor`` is a key of the epoch logs: ``val_accuracy`` (higher is better) or ``val_loss``
    (lower is better); any name containing "accuracy" is maximised, others minimised. An epoch
    counts as an improvement when it beats the best by more than ``min_delta``. With
    ``restore_best`` the parameters (and batch-norm statistics) of the best epoch are put back at
    the end, and ``best_epoch`` / ``best_value`` say which one that was (epochs counted from 1).
    """

    def __init__(self, monitor="val_accuracy", patience=5, min_delta=0.0, restore_best=True):
        self.monitor, self.patience = monitor, positive_int("patience", patience)
        self.min_delta = positive_float("min_delta", min_delta, allow_zero=True)
        self.restore_best = bool(restore_best)
        self.sign = 1.0 if "accuracy" in monitor else -1.0  # internally: higher is better

    def on_train_begin(self, trainer):
        if trainer.epoch == 0:  # a resumed run keeps the state its checkpoint restored
            self.best_value, self.best_epoch, self.wait = -math.inf, None, 0
            self.best_arrays = None

    def state(self):
        return {
            "best_value": self.best_value,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "best_arrays": self.best_arrays,
        }

    def set_state(self, state):
        self.best_value, self.best_epoch = state["best_value"], state["best_epoch"]
        self.wait, self.best_arrays = state["wait"], state.get("best_arrays")

    def on_epoch_end(self, trainer, epoch, logs):
        if self.monitor not in logs:
            raise BarenetError(
                f"early stopping monitors {self.monitor!r}, which this training "
                f"does not report (it reports {sorted(logs)}); give validation data"
            )
        value = self.sign * logs[self.monitor]
        if value > self.best_value + self.min_delta or self.best_epoch is None:
            self.best_value, self.best_epoch, self.wait = value, epoch + 1, 0
            if self.restore_best:
                arrays = trainer.network.named_arrays()
                self.best_arrays = {k: v.copy() for k, v in arrays.items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True

    def on_train_end(self, trainer):
        if self.restore_best and self.best_arrays is not None:
            for name, array in trainer.network.named_arrays().items():
                array[...] = self.best_arrays[name]
        record = trainer.network.training_info
        record.monitor, record.best_epoch = self.monitor, self.best_epoch
        record.best_value = self.sign * self.best_value


def get_early_stopping(spec, has_validation, monitor="val_accuracy"):
    """An :class:`EarlyStopping` from a patience (epochs), watching ``monitor``, or one as it
    is; None for None/False.

    Early stopping watches validation figures, so it needs validation data.
    """
    if spec is None or spec is False:
        return None
    if not has_validation:
        raise BarenetError("early_stopping needs validation data (X_val, y_val)")
    if isinstance(spec, EarlyStopping):
        return spec
    return EarlyStopping(monitor, patience=positive_int("early_stopping", spec))


class HistoryFile(Callback):
    """Callback: rewrite the per-epoch figures to a .csv or .json file after every epoch, so
    that an interrupted run keeps them. JSON: a list of one object per epoch."""

    def __init__(self, path):
        self.path = path

    def on_epoch_end(self, trainer, epoch, logs):
        history = trainer.network.history
        keys = list(history)
        rows = [{k: history[k][i] for k in keys} for i in range(len(history["epoch"]))]
        if Path(self.path).suffix.lower() == ".json":
            text = json.dumps(rows, indent=1)
        else:
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=keys, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            text = out.getvalue()
        atomic_write_bytes(self.path, text.encode("utf-8"))
