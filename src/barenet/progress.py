"""A tqdm progress bar for training (and the ``tqdm`` the studies' runner uses): display, kept
out of the numerical core.

The training loop only calls callbacks; this one draws a bar over the epochs and writes one line
per epoch with its figures, so the log stays readable after the bar is gone.
"""

import importlib.util

# In a notebook, tqdm.auto draws a widget, which needs ipywidgets; without it, it only prints a
# warning before falling back to text. So the widget bar is used only where it can be drawn.
if importlib.util.find_spec("ipywidgets") is not None:
    from tqdm.auto import tqdm
else:
    from tqdm import tqdm


def format_logs(logs):
    """``"loss 0.1234  acc 96.50%  val_loss ..."`` from an epoch's figures."""
    parts = [f"loss {logs['train_loss']:.4f}"]
    if "train_accuracy" in logs:  # a regression network has no accuracy
        parts.append(f"acc {logs['train_accuracy']:.2%}")
    if "val_loss" in logs:
        parts.append(f"val_loss {logs['val_loss']:.4f}")
    if "val_accuracy" in logs:
        parts.append(f"val_acc {logs['val_accuracy']:.2%}")
    if "val_r2" in logs:
        parts.append(f"val_r2 {logs['val_r2']:.4f}")
    parts.append(f"{logs['epoch_time']:.2f}s")
    return "  ".join(parts)


class ProgressBar:
    """Callback: a bar over ``epochs`` epochs plus one line of figures per epoch."""

    def __init__(self, epochs, **tqdm_kwargs):
        self.epochs = epochs
        self.tqdm_kwargs = tqdm_kwargs

    def on_train_begin(self, trainer):
        self.bar = tqdm(
            total=self.epochs,
            initial=trainer.epoch,
            unit="epoch",
            desc="training",
            **self.tqdm_kwargs,
        )

    def on_epoch_end(self, trainer, epoch, logs):
        self.bar.write(f"epoch {epoch + 1:>3}/{self.epochs}  {format_logs(logs)}")
        self.bar.update(1)

    def on_train_end(self, trainer):
        self.bar.close()
