"""The training loop: epochs of shuffled mini-batches, a history, and a divergence check.

One step on a batch ``(X_b, y_b)``: forward pass to the logits, fused softmax-cross-entropy gives
``dL/dZ = (P - Y) / B``, backward pass fills the flat gradient buffer, regularisation and clipping
adjust it, and the optimizer updates the flat parameter buffer. The loop reports to callbacks
before each epoch, after each batch (the running loss, for a progress bar) and after each epoch;
it never prints. Everything random (shuffling, dropout, augmentation) comes
from one generator, so a seed fixes the whole run.
"""

import math
import os
import time

import numpy as np

from barenet.errors import DivergenceError
from barenet.train.checkpoint import Checkpoint, restore


class Trainer:
    """Trains ``network`` with its optimizer; see :meth:`barenet.NeuralNetwork.train`.

    ``schedule`` (a started :class:`~barenet.optim.schedules.Schedule`) maps the epoch position (a
    float: 2.5 is half-way through the third epoch) to a learning rate; ``augment(X_batch, rng)``
    returns a new batch; ``callbacks`` receive
    ``on_train_begin(trainer)``, ``on_epoch_begin(trainer, epoch)``,
    ``on_batch_end(trainer, batch, logs)`` (``logs``: ``batch`` and ``batches`` counted from 1,
    ``loss``, the mean loss of the epoch's batches so far), ``on_epoch_end(trainer, epoch,
    logs)`` and ``on_train_end(trainer)``, and may set ``trainer.stop_training``.

    While it runs, ``epochs`` is the length of the run, ``batches_per_epoch`` the batches of one
    epoch; ``resumed`` is None, or ``{"path", "epochs_done", "epochs"}`` when a checkpoint was
    continued (``epochs``: the length its run was set for); ``checkpoint_epochs`` counts the
    epochs the checkpoint file holds (None: none written or restored).
    """

    def __init__(
        self,
        network,
        *,
        batch_size=64,
        schedule=None,
        augment=None,
        clip_norm=None,
        callbacks=(),
        checkpoint=None,
        resume=False,
    ):
        self.network = network
        self.batch_size = batch_size
        self.schedule = schedule
        self.augment = augment
        self.clip_norm = clip_norm
        self.callbacks = list(callbacks)
        if hasattr(schedule, "on_epoch_end"):  # reduce-on-plateau watches the epoch's figures
            self.callbacks.insert(0, schedule)
        self.rng = network.rng  # one generator for shuffling, dropout and augmentation
        self.stop_training = False
        self.epoch = 0  # epochs completed in this call
        self.first_epoch = len(network.history.get("train_loss", ()))  # earlier calls' epochs
        self.checkpoint, self.resume = checkpoint, resume
        self.resumed = self.checkpoint_epochs = None
        self.epochs = self.batches_per_epoch = None
        self._batch_callbacks = []  # those with on_batch_end, found when fit starts
        if checkpoint is not None:  # last, so that it saves what the other callbacks updated
            self.callbacks.append(Checkpoint(checkpoint))

    def fit(self, X, y, X_val=None, y_val=None, epochs=10):
        """Run epochs ``self.epoch .. epochs - 1``; returns the network's history dict.

        With ``resume`` and an existing checkpoint file, the run first continues from it.
        Ctrl-C stops after the last complete epoch's checkpoint, raising
        :class:`TrainingInterrupted`.
        """
        self.epochs, self.batches_per_epoch = epochs, math.ceil(len(X) / self.batch_size)
        if self.resume and self.checkpoint is not None and os.path.exists(self.checkpoint):
            restore(self.checkpoint, self)
        self._batch_callbacks = [cb for cb in self.callbacks if hasattr(cb, "on_batch_end")]
        self._call("on_train_begin")
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, once
                self._run(X, y, X_val, y_val, epochs)
        except KeyboardInterrupt:
            raise TrainingInterrupted(self._interrupted()) from None
        finally:
            self._call("on_train_end")
        return self.network.history

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

    def _run(self, X, y, X_val, y_val, epochs):
        while self.epoch < epochs and not self.stop_training:
            self._call("on_epoch_begin", self.epoch)
            logs = self.train_epoch(X, y)
            if X_val is not None:
                logs.update(self.network.validation_logs(X_val, y_val))
            for key, value in logs.items():
                self.network.history.setdefault(key, []).append(value)
            self.epoch += 1
            self._call("on_epoch_end", self.epoch - 1, logs)

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
            if self.schedule is not None:
                net.optimizer.learning_rate = self.schedule.rate(self.epoch + i / n_batches)
            loss, hits = self.train_batch(xb, y[idx])
            if not math.isfinite(loss):
                net.params[...] = snapshot
                raise DivergenceError(
                    f"training diverged in epoch {self.epoch + 1}, batch {i + 1}: the loss became "
                    f"{loss}; try a lower learning rate (now {net.optimizer.learning_rate:g}). "
                    "The weights from the start of this epoch were kept."
                )
            total_loss += loss * len(idx)
            if hits is not None:
                correct += hits
            if self._batch_callbacks:
                seen = min((i + 1) * B, n)
                batch_logs = {"batch": i + 1, "batches": n_batches, "loss": total_loss / seen}
                for cb in self._batch_callbacks:
                    cb.on_batch_end(self, i, batch_logs)
        logs = {"epoch": self.first_epoch + self.epoch + 1, "train_loss": total_loss / n}
        if correct is not None:
            logs["train_accuracy"] = correct / n
        logs["learning_rate"] = net.optimizer.learning_rate
        logs["epoch_time"] = time.perf_counter() - start_time
        return logs

    def train_batch(self, xb, yb):
        """One step: forward, backward and the optimizer's update on the batch ``(xb, yb)``.

        Returns ``(mean loss of the batch, number of correct predictions)`` (None for
        regression); the loss is the one before the update.
        """
        net = self.network
        loss, hits = net.backprop(xb, yb, count_correct=True)
        if self.clip_norm is not None:
            clip_by_global_norm(net.grads, self.clip_norm)
        net.optimizer.step(net.params, net.grads)
        return loss, hits

    def _call(self, event, *args):
        for cb in self.callbacks:
            method = getattr(cb, event, None)
            if method is not None:
                method(self, *args)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; the message says how many epochs completed and were saved."""


def clip_by_global_norm(grads, max_norm):
    """Scale ``grads`` in place so that its Euclidean norm is at most ``max_norm``.

    Clipping the norm of the whole gradient, rather than each component, keeps its direction.
    Returns the norm before clipping.
    """
    norm = math.sqrt(float(np.dot(grads, grads)))
    if norm > max_norm:
        grads *= max_norm / norm
    return norm
