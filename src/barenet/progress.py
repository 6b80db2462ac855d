"""A tqdm progress bar for training (and the ``tqdm`` the studies' runner uses): display, kept
out of the numerical core.

The training loop only calls callbacks; :class:`ProgressBar` draws a bar over the run's batches,
which moves from the first batch with the running loss and an estimate of the time left, and
writes one line per epoch with its figures, so the log stays readable after the bar is gone.
"""

import importlib.util
import sys

# In a notebook, tqdm.auto draws a widget, which needs ipywidgets; without it, it only prints a
# warning before falling back to text. So the widget bar is used only where it can be drawn.
if importlib.util.find_spec("ipywidgets") is not None:
    from tqdm.auto import tqdm
else:
    from tqdm import tqdm


def format_logs(logs):
    """``"loss 0.1234  acc 96.50%  val_loss ..."`` from an epoch's figures."""
    parts = [f"loss {logs['train_loss']:.4f}", f"acc {logs['train_accuracy']:.2%}"]
    if "val_loss" in logs:
        parts += [f"val_loss {logs['val_loss']:.4f}", f"val_acc {logs['val_accuracy']:.2%}"]
    parts.append(f"{logs['epoch_time']:.2f}s")
    return "  ".join(parts)


def resume_message(trainer):
    """``"resuming at epoch 4 of 16 from run.ckpt"``, naming a change of the run's length."""
    resumed, epochs = trainer.resumed, trainer.epochs
    text = f"resuming at epoch {resumed['epochs_done'] + 1} of {epochs} from {resumed['path']}"
    if resumed["epochs_done"] >= epochs:
        text = (
            f"{resumed['path']} already holds {resumed['epochs_done']} epochs of the "
            f"{epochs} asked for: nothing left to train"
        )
    if resumed["epochs"] not in (None, epochs):
        text += (
            f" (its run was set for {resumed['epochs']} epochs: the schedule now spans {epochs})"
        )
    return text


class ProgressBar:
    """Callback: a bar over the batches of ``epochs`` epochs, showing the running loss, plus one
    line of figures per epoch (and a line when a checkpoint is resumed).

    ``bar=False`` keeps the lines and draws no bar. The bar goes to ``file`` (stderr), the lines
    to stdout, where the results of a command go.
    """

    def __init__(self, epochs, bar=True, file=None, **tqdm_kwargs):
        self.epochs = epochs
        self.show_bar, self.file = bar, file
        self.tqdm_kwargs = tqdm_kwargs
        self.bar = None

    def write(self, line):
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)  # above the bar, which stays at the bottom
        else:
            print(line, flush=True)

    def on_train_begin(self, trainer):
        if trainer.resumed is not None:
            self.write(resume_message(trainer))
        if self.show_bar and trainer.batches_per_epoch:
            left = max(trainer.epochs - trainer.epoch, 0)
            self.bar = tqdm(
                total=left * trainer.batches_per_epoch,
                unit="batch",
                desc="training",
                file=self.file if self.file is not None else sys.stderr,
                **self.tqdm_kwargs,
            )

    def on_epoch_begin(self, trainer, epoch):
        if self.bar is not None:
            self.bar.set_description(f"epoch {epoch + 1}/{self.epochs}", refresh=False)

    def on_batch_end(self, trainer, batch, logs):
        if self.bar is not None:
            self.bar.set_postfix_str(f"loss {logs['loss']:.4f}", refresh=False)
            self.bar.update(1)

    def on_epoch_end(self, trainer, epoch, logs):
        stopped = "  (stopped early)" if trainer.stop_training else ""
        self.write(f"epoch {epoch + 1:>3}/{self.epochs}  {format_logs(logs)}{stopped}")

    def on_train_end(self, trainer):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
