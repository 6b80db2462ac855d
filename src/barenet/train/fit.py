"""``NeuralNetwork.train`` in full: its options checked and turned into a :class:`Trainer`.

Named options (``schedule="cosine"``, ``augment="shift"``, ``early_stopping=5``...) become the
objects the loop calls, the run's settings go into the network's
:class:`~barenet.train.record.TrainingRecord`, and the :class:`Trainer` runs the epochs.
"""

from barenet import validation as check
from barenet.optim.schedules import get_schedule
from barenet.train.augment import get_augmentation
from barenet.train.callbacks import as_callback, get_early_stopping
from barenet.train.record import TrainingRecord
from barenet.train.trainer import Trainer


def fit(
    net,
    X,
    y,
    X_val=None,
    y_val=None,
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
    progress=None,
):
    """Train ``net`` on checked arrays; returns its history. See ``NeuralNetwork.train``.

    ``callbacks`` may hold objects with the hooks of :class:`Trainer` or functions
    ``f(epoch, logs)``; the early stopping, when asked for, runs after them, and ``progress``
    (a callback that shows the run) after that, so that it can tell an early stop.
    """
    epochs = check.positive_int("epochs", epochs)
    batch_size = check.positive_int("batch_size", batch_size)
    if resume and checkpoint is None:
        raise check.BarenetError(
            "resume=True continues from a checkpoint: give checkpoint=PATH as well"
        )
    check.warn_if_unscaled(X, "X_train")
    if clip_norm is not None:
        clip_norm = check.positive_float("clip_norm", clip_norm)
    schedule = get_schedule(schedule).start(net.base_learning_rate, epochs)
    augment = get_augmentation(augment)
    callbacks = [as_callback(cb) for cb in callbacks]
    early_stopping = get_early_stopping(
        early_stopping,
        has_validation=X_val is not None,
        monitor="val_loss" if net.is_regression else "val_accuracy",
    )
    if early_stopping is not None:
        callbacks.append(early_stopping)
    if progress is not None:
        callbacks.append(progress)
    trainer = Trainer(
        net,
        batch_size=batch_size,
        schedule=schedule,
        augment=augment,
        clip_norm=clip_norm,
        callbacks=callbacks,
        checkpoint=checkpoint,
        resume=resume,
    )
    net.training_info = TrainingRecord(
        epochs=epochs,
        batch_size=batch_size,
        schedule=schedule.config(),
        augment=getattr(augment, "config", lambda: None)(),
        clip_norm=clip_norm,
        early_stopping=early_stopping.patience if early_stopping else None,
        n_train=len(X),
        n_val=0 if X_val is None else len(X_val),
    )
    return trainer.fit(X, y, X_val, y_val, epochs=epochs)
