"""The training loop: epochs of shuffled mini-batches, a history, and a divergence check.

Written out by hand, training is four lines of your own code::

    for epoch in range(epochs):
        for batch in np.array_split(rng.permutation(len(X)), len(X) // batch_size):
            loss = net.backprop(X[batch], y[batch])    # forward, loss, backward: fills net.grads
            net.optimizer.step(net.params, net.grads)  # e.g. SGD: params -= rate * grads

:class:`Trainer` runs exactly that loop (:meth:`Trainer.train_batch` is its two inner lines),
and adds what a real run needs: the options of :meth:`barenet.NeuralNetwork.train`, checked
here once, a learning-rate schedule, augmentation, gradient clipping, validation figures after
each epoch, early stopping, checkpoints, and a report to callbacks before each epoch, after
each batch and after each epoch; it never prints. Everything random (shuffling, dropout,
augmentation) comes from the network's one generator, so a seed fixes the whole run.
"""

import math
import os
import time

import numpy as np

from barenet import validation as check
from barenet.errors import BarenetError, DivergenceError
from barenet.optim.schedules import get_schedule
from barenet.train.augment import get_augmentation
from barenet.train.callbacks import as_callback, get_early_stopping
from barenet.train.checkpoint import Checkpoint, restore
from barenet.train.parallel import ParallelStep, resolve_workers
from barenet.train.record import TrainingRecord

# The options of NeuralNetwork.train that Trainer takes as they are.
TRAINING_OPTIONS = (
    "schedule",
    "augment",
    "early_stopping",
    "clip_norm",
    "callbacks",
    "checkpoint",
    "resume",
    "workers",
)


class Trainer:
    """Trains ``network`` with its optimizer: the loop behind :meth:`barenet.NeuralNetwork.train`,
    whose options it takes and checks.

    Parameters
    ----------
    network : barenet.NeuralNetwork
        The network to train; its optimizer takes the steps and its ``rng`` draws everything.
    epochs : int
        Passes over the training data (a resumed run counts the checkpoint's epochs in).
    batch_size : int
        Samples per optimizer step.
    schedule : str, dict, Schedule or None
        Learning rate by epoch: ``constant`` (None), ``step``, ``exponential``, ``cosine``,
        ``warmup``, ``plateau``, a config dict such as ``{"name": "step", "every": 5}``, or an
        object; it starts from the optimizer's base rate.
    augment : str, dict, callable or None
        ``shift``, ``affine``, ``elastic``, a dict such as ``{"name": "shift", "max_shift": 2}``,
        or a function ``f(X_batch, rng)`` returning a new batch.
    early_stopping : int, EarlyStopping or None
        A patience (epochs without improvement of the validation figure) or an
        :class:`~barenet.train.callbacks.EarlyStopping`; the best epoch's weights are restored.
        Needs validation data.
    clip_norm : float or None
        Scale each step's gradient down to this global norm when it is longer.
    callbacks : list
        :class:`~barenet.callback.Callback` objects, or functions ``f(epoch, logs)`` called
        after each epoch (returning True stops training).
    checkpoint : path or None
        Where the whole training state is saved after every epoch.
    resume : bool
        Continue from an existing ``checkpoint``, ending with exactly the weights an
        uninterrupted run would have.
    workers : int or "auto"
        Threads that share each step, each on its part of the batch
        (:mod:`barenet.train.parallel`); ``"auto"``: two on a machine of two cores or more when
        the network is large enough to gain (a CNN), else one. The same seed and workers give
        the same weights bit for bit; another number of workers changes them in the last bits.
    progress : Callback or None
        What shows the run to a person (a :class:`~barenet.progress.ProgressBar`); it runs after
        the other callbacks, so that it can tell an early stop.

    Notes
    -----
    While it runs, ``batches_per_epoch`` is the batches of one epoch; ``resumed`` is None, or
    ``{"path", "epochs_done", "epochs"}`` when a checkpoint was continued (``epochs``: the
    length its run was set for); ``checkpoint_epochs`` counts the epochs the checkpoint file
    holds (None: none written or restored).
    """

    def __init__(
        self,
        network,
        *,
        epochs=10,
        batch_size=64,
        schedule=None,
        augment=None,
        early_stopping=None,
        clip_norm=None,
        callbacks=(),
        checkpoint=None,
        resume=False,
        workers="auto",
        progress=None,
    ):
        self.network = network
        self.epochs = check.positive_int("epochs", epochs)
        self.batch_size = check.positive_int("batch_size", batch_size)
        if resume and checkpoint is None:
            raise BarenetError(
                "resume=True continues from a checkpoint: give checkpoint=PATH as well"
            )
        self.clip_norm = None if clip_norm is None else check.positive_float("clip_norm", clip_norm)
        self.schedule = get_schedule(schedule).start(network.base_learning_rate, self.epochs)
        self.augment = get_augmentation(augment)
        self.given_callbacks = [as_callback(cb) for cb in callbacks]
        self.callbacks = list(self.given_callbacks)  # fit adds early stopping, display, checkpoint
        self.early_stopping_spec, self.progress = early_stopping, progress
        self.rng = network.rng  # one generator for shuffling, dropout and augmentation
        self.stop_training = False
        self.epoch = 0  # epochs completed in this call
        self.first_epoch = len(network.history.get("train_loss", ()))  # earlier calls' epochs
        self.checkpoint, self.resume = checkpoint, resume
        self.resumed = self.checkpoint_epochs = None
        self.batches_per_epoch = None
        if workers != "auto":
            workers = check.positive_int("workers", workers)
        self.workers = resolve_workers(workers, network)
        self.parallel_step = None  # made when the first step needs it

    def fit(self, X, y, X_val=None, y_val=None):
        """Train on checked arrays ``(X, y)``, watching ``(X_val, y_val)`` when given; returns
        the network's history dict.

        With ``resume`` and an existing checkpoint file, the run first continues from it.
        Ctrl-C stops after the last complete epoch's checkpoint, raising
        :class:`TrainingInterrupted`.
        """
        net = self.network
        check.warn_if_unscaled(X, "X_train")
        early_stopping = get_early_stopping(
            self.early_stopping_spec,
            has_validation=X_val is not None,
            monitor="val_loss" if net.is_regression else "val_accuracy",
        )
        # Early stopping after the user's callbacks, the display after it (to tell an early
        # stop), the checkpoint last (it saves what the others updated).
        extra = [early_stopping, self.progress]
        extra.append(None if self.checkpoint is None else Checkpoint(self.checkpoint))
        self.callbacks = self.given_callbacks + [cb for cb in extra if cb is not None]
        net.training_info = TrainingRecord(
            epochs=self.epochs,
            batch_size=self.batch_size,
            schedule=self.schedule.config(),
            augment=getattr(self.augment, "config", lambda: None)(),
            clip_norm=self.clip_norm,
            early_stopping=early_stopping.patience if early_stopping else None,
            n_train=len(X),
            n_val=0 if X_val is None else len(X_val),
            workers=self.workers,
        )
        self.batches_per_epoch = math.ceil(len(X) / self.batch_size)
        if self.resume and os.path.exists(self.checkpoint):
            restore(self.checkpoint, self)
        for cb in self.callbacks:
            cb.on_train_begin(self)
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, once
                self._run(X, y, X_val, y_val)
        except KeyboardInterrupt:
            raise TrainingInterrupted(
                self._interrupted(), self.epoch, self.checkpoint, self.checkpoint_epochs
            ) from None
        finally:
            if self.parallel_step is not None:
                self.parallel_step.close()
                self.parallel_step = None
            for cb in self.callbacks:
                cb.on_train_end(self)
        return net.history

    def _interrupted(self):
        """What Ctrl-C stopped and, truthfully, what is saved."""
        done = f"training interrupted after {self.epoch} complete epoch(s)"
        if self.checkpoint is None:
            return f"{done}; nothing was saved (no checkpoint was asked for)"
        if self.checkpoint_epochs is None:
            return (
                f"{done}; nothing was saved: {self.checkpoint} is written at the end of each "
                "epoch and none had ended"
            )
        return f"{done}; {self.checkpoint} holds {self.checkpoint_epochs} epoch(s): resume from it"

    def _run(self, X, y, X_val, y_val):
        while self.epoch < self.epochs and not self.stop_training:
            for cb in self.callbacks:
                cb.on_epoch_begin(self, self.epoch)
            logs = self.train_epoch(X, y)
            if X_val is not None:
                logs.update(self.network.validation_logs(X_val, y_val))
            for key, value in logs.items():
                self.network.history.setdefault(key, []).append(value)
            self.epoch += 1
            self.schedule.on_epoch_end(self, self.epoch - 1, logs)  # reduce-on-plateau watches
            for cb in self.callbacks:
                cb.on_epoch_end(self, self.epoch - 1, logs)

    def train_epoch(self, X, y):
        """One pass over ``(X, y)`` in a fresh random order; returns the epoch's figures."""
        net, n, B = self.network, len(X), self.batch_size
        start_time = time.perf_counter()
        order = self.rng.permutation(n)
        n_batches = math.ceil(n / B)
        snapshot = net.params.copy()  # last finite weights, restored if the loss diverges
        Xb = np.empty((min(B, n), X.shape[1]), X.dtype)
        total_loss = 0.0
        correct = None if net.is_regression else 0
        for i in range(n_batches):
            idx = order[i * B : (i + 1) * B]
            xb = np.take(X, idx, axis=0, out=Xb if len(idx) == len(Xb) else None)
            if self.augment is not None:
                xb = self.augment(xb, self.rng)
            net.optimizer.learning_rate = self.schedule.rate(self.epoch + i / n_batches)
            loss, hits = self.train_batch(xb, y[idx])
            if not math.isfinite(loss):
                net.params[...] = snapshot
                rate = net.optimizer.learning_rate
                raise DivergenceError(
                    f"training diverged in epoch {self.epoch + 1}, batch {i + 1}: the loss became "
                    f"{loss}; try a lower learning rate (now {rate:g}). The network's weights "
                    "are back where this epoch started (in memory; no file was written)",
                    epoch=self.epoch + 1,
                    batch=i + 1,
                    loss=loss,
                    learning_rate=rate,
                )
            total_loss += loss * len(idx)
            if hits is not None:
                correct += hits
            seen = min((i + 1) * B, n)
            batch_logs = {"batch": i + 1, "batches": n_batches, "loss": total_loss / seen}
            for cb in self.callbacks:
                cb.on_batch_end(self, i, batch_logs)
        logs = {"epoch": self.first_epoch + self.epoch + 1, "train_loss": total_loss / n}
        if correct is not None:
            logs["train_accuracy"] = correct / n
        logs["learning_rate"] = net.optimizer.learning_rate
        logs["epoch_time"] = time.perf_counter() - start_time
        return logs

    def train_batch(self, xb, yb):
        """One step on the batch ``(xb, yb)``: the two lines of the loop by hand (``backprop``,
        then the optimizer's ``step``), with gradient clipping between them when asked for.

        Returns ``(mean loss of the batch, number of correct predictions)`` (None for
        regression); the loss is the one before the update.
        """
        net = self.network
        if self.workers > 1:  # the same two lines, the batch split across threads
            if self.parallel_step is None:
                self.parallel_step = ParallelStep(net, self.workers)
            loss, hits = self.parallel_step(xb, yb)
        else:
            loss, hits = net.backprop(xb, yb, count_correct=True)
        if self.clip_norm is not None:
            clip_by_global_norm(net.grads, self.clip_norm)
        net.optimizer.step(net.params, net.grads)
        return loss, hits


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; the message says how many epochs completed and were saved.

    ``epochs_done`` counts the complete epochs of this run; ``checkpoint`` is its path (None:
    none asked for) and ``checkpoint_epochs`` the epochs that file holds (None: none written)."""

    def __init__(self, message, epochs_done=None, checkpoint=None, checkpoint_epochs=None):
        super().__init__(message)
        self.epochs_done, self.checkpoint = epochs_done, checkpoint
        self.checkpoint_epochs = checkpoint_epochs


def clip_by_global_norm(grads, max_norm):
    """Scale ``grads`` in place so that its Euclidean norm is at most ``max_norm``.

    Clipping the norm of the whole gradient, rather than each component, keeps its direction.
    Returns the norm before clipping.
    """
    norm = math.sqrt(float(np.dot(grads, grads)))
    if norm > max_norm:
        grads *= max_norm / norm
    return norm
