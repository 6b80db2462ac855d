"""Checkpoints: everything needed to continue a training run exactly where it stopped.

At the end of every epoch :class:`Checkpoint` writes, atomically, the model file (architecture,
weights, batch-norm statistics, history) extended with the run's moving parts: the optimizer's
state (moments, step count), the random generator's state, the schedule's memory, the early
stopping's best weights, and the number of epochs done. :func:`restore` puts all of it back, so a
run killed at any moment and resumed from its last checkpoint continues with the same random
draws and the same arithmetic: the final weights equal those of an uninterrupted run bit for bit.
"""

import os

import numpy as np

from barenet.callback import Callback
from barenet.errors import ModelFileError
from barenet.files.archive import load_arrays, save_arrays
from barenet.files.modelfile import build_from_header, file_header, fill_arrays
from barenet.specs import describe_optimizer, describe_setting


class Checkpoint(Callback):
    """Callback: save the whole training state to ``path`` after every epoch."""

    def __init__(self, path):
        self.path = os.fspath(path)

    def on_epoch_end(self, trainer, epoch, logs):
        save_checkpoint(self.path, trainer)
        trainer.checkpoint_epochs = trainer.epoch  # what the file holds now, for Ctrl-C's word


def _split(prefix, state):
    """A state dict split into JSON-able values and arrays (named ``prefix.key``)."""
    values, arrays = {}, {}
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            arrays[f"{prefix}.{key}"] = value
        elif (
            isinstance(value, dict)
            and value
            and all(isinstance(v, np.ndarray) for v in value.values())
        ):
            arrays.update({f"{prefix}.{key}.{k}": v for k, v in value.items()})
        else:
            values[key] = value
    return values, arrays


def _join(prefix, values, arrays):
    """Inverse of :func:`_split`."""
    state = dict(values)
    for name, array in arrays.items():
        if not name.startswith(prefix + "."):
            continue
        key, _, sub = name[len(prefix) + 1 :].partition(".")
        if sub:
            state.setdefault(key, {})[sub] = array
        else:
            state[key] = array
    return state


def _stateful(trainer):
    """``{name: object}`` of every part of the run that carries state across epochs."""
    parts = {"optimizer": trainer.network.optimizer, "schedule": trainer.schedule}
    for cb in trainer.callbacks:
        if hasattr(cb, "state"):
            # Named by class, not position: a resumed run may add or drop other callbacks.
            kind = type(getattr(cb, "wrapped", cb)).__name__
            name, n = kind, 1
            while name in parts:
                n += 1
                name = f"{kind}{n}"
            parts[name] = cb
    return parts


def save_checkpoint(path, trainer):
    """Write the training state of ``trainer`` (and its network) to ``path``, atomically."""
    net = trainer.network
    header = file_header(net)
    header["checkpoint"] = {
        "epochs_done": trainer.epoch,
        "batch_size": trainer.batch_size,
        "rng": net.rng.bit_generator.state,
        "parts": {},
    }
    arrays = dict(net.named_arrays())
    for name, part in _stateful(trainer).items():
        values, part_arrays = _split(name, part.state())
        header["checkpoint"]["parts"][name] = values
        arrays.update(part_arrays)
    save_arrays(path, header, arrays, kind="checkpoint")


def restore(path, trainer):
    """Load the checkpoint at ``path`` into ``trainer`` and its network (same architecture)."""
    net = trainer.network
    header, arrays = load_arrays(path, kind="checkpoint")
    saved = build_from_header(path, header, type(net))
    for what, theirs, mine in (
        ("input shape", saved.input_shape, net.input_shape),
        ("layers", saved.describe(), net.describe()),
        ("layer settings", saved.get_config()["layers"], net.get_config()["layers"]),
        ("dtype", saved.dtype.name, net.dtype.name),
    ):
        if theirs != mine:
            raise ModelFileError(
                f"{path}: checkpoint was made for a network with {what} {theirs!r}, this one "
                f"has {mine!r}"
            )
    state = header["checkpoint"]
    if state["batch_size"] != trainer.batch_size:
        raise ModelFileError(
            f"{path}: checkpoint was made with batch_size={state['batch_size']}, "
            f"resuming with {trainer.batch_size} would change the run"
        )
    recorded = header.get("training") or {}
    if "workers" not in recorded:  # written before steps could be shared: it ran on one thread
        trainer.workers = net.training_info.workers = 1
    _check_same_settings(path, header, saved, net)
    fill_arrays(path, arrays, net.named_arrays(), exact=False)  # the rest is the run's state
    for name, part in _stateful(trainer).items():
        part.set_state(_join(name, state["parts"].get(name, {}), arrays))
    net.rng.bit_generator.state = state["rng"]
    net.history = header.get("history", {})
    trainer.epoch = trainer.checkpoint_epochs = state["epochs_done"]
    trainer.first_epoch = len(net.history.get("train_loss", ())) - trainer.epoch
    # The run's length may change (train longer); the display says so when it does.
    trainer.resumed = {"path": path, "epochs_done": trainer.epoch}
    trainer.resumed["epochs"] = header.get("training", {}).get("epochs")


def _check_same_settings(path, header, saved, net):
    """Refuse to continue with an optimizer, learning rate, penalty, schedule, augmentation or
    clipping other than the checkpoint's: the model file would record them as if they had been
    used from the start. The number of epochs may change (a longer run)."""
    theirs, mine = saved.get_config(), net.get_config()
    recorded, now = header.get("training"), net.training_info.to_dict()
    differences = []
    if theirs["optimizer"] != mine["optimizer"]:
        before, after = (
            describe_optimizer(theirs["optimizer"]),
            describe_optimizer(mine["optimizer"]),
        )
        differences.append(f"optimizer {before}, not {after}")
    for key in ("l2", "l1"):
        if theirs[key] != mine[key]:
            differences.append(f"{key} {theirs[key]:g}, not {mine[key]:g}")
    if recorded is not None:  # checkpoints from before the training record say nothing
        for key in ("schedule", "augment", "clip_norm", "early_stopping", "workers"):
            if key == "workers" and key not in recorded:  # before shared steps: one thread
                continue
            if recorded.get(key) != now.get(key):
                before, after = (_in_words(key, d.get(key)) for d in (recorded, now))
                differences.append(f"{key.replace('_', ' ')} {before}, not {after}")
    if differences:
        raise ModelFileError(
            f"{path}: the checkpoint's run used {'; '.join(differences)}: resuming would change "
            "the run while the model file says otherwise; resume with the checkpoint's settings "
            "or start a new run"
        )


def _in_words(key, value):
    if value is None:
        return "none"
    return describe_setting(value) if key in ("schedule", "augment") else f"{value:g}"
