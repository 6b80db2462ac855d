"""What a callback is: code that runs as training goes, without touching the training loop.

The loop (:class:`barenet.train.Trainer`) calls every hook below on every callback it holds, in
order; the hooks here do nothing, so a callback overrides only those it needs. A callback that
carries state across epochs (early stopping's best weights) also defines ``state()`` and
``set_state(state)``, and a checkpoint saves and restores it.
"""


class Callback:
    """Base class of callbacks; every hook is a no-op here.

    ``trainer`` is the running :class:`barenet.train.Trainer`: ``trainer.network`` the network,
    ``trainer.epoch`` the epochs done, and setting ``trainer.stop_training = True`` ends
    training after the current epoch. Epochs and batches are counted from 0.
    """

    def on_train_begin(self, trainer):
        """Before the first epoch (after a checkpoint, if resumed, has been restored)."""

    def on_epoch_begin(self, trainer, epoch):
        """Before epoch ``epoch``."""

    def on_batch_end(self, trainer, batch, logs):
        """After each optimizer step; ``logs``: ``batch`` and ``batches`` counted from 1, and
        ``loss``, the mean loss of the epoch's batches so far."""

    def on_epoch_end(self, trainer, epoch, logs):
        """After epoch ``epoch``; ``logs`` holds its figures (``train_loss``, ``val_accuracy``,
        ``learning_rate``, ``epoch_time``...), also appended to ``network.history``."""

    def on_train_end(self, trainer):
        """When training ends, however it ends (an exception included)."""


HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end")
