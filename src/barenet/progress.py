"""What training shows a person, kept out of the numerical core: a summary before it starts,
a tqdm progress bar while it runs (and the ``tqdm`` the studies' runner uses), the record after.

The training loop only calls callbacks; :class:`ProgressBar` draws a bar over the run's batches,
which moves from the first batch with the running loss and an estimate of the time left, and
writes one line per epoch with its figures, so the log stays readable after the bar is gone.
The summary (:func:`network_lines`, :func:`data_line`, :func:`training_lines`, like Keras's
``model.summary()``) and the record of a saved network (:func:`record_lines`) are lines of
text, with settings in words (:mod:`barenet.specs`); they read a network through its public
attributes and import none.
"""

import importlib.util
import math
import sys

# In a notebook, tqdm.auto draws a widget, which needs ipywidgets; without it, it only prints a
# warning before falling back to text. So the widget bar is used only where it can be drawn.
if importlib.util.find_spec("ipywidgets") is not None:
    from tqdm.auto import tqdm
else:
    from tqdm import tqdm

from barenet.callback import Callback
from barenet.specs import describe_optimizer, describe_setting


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


class ProgressBar(Callback):
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


# -- the summary before training and the record after -------------------------------------


def layer_table(net):
    """One row per layer: its name, output shape and number of parameters, then the total."""
    sizes = {}
    for name, where in net.parameter_slices().items():
        index = int(name.split(".")[1])
        sizes[index] = sizes.get(index, 0) + (where.stop - where.start)
    rows = [("layer", "output shape", "parameters")]
    rows.append(("input", _shape(net.input_shape), ""))
    for i, (name, layer) in enumerate(zip(net.layer_names(), net.layers, strict=True)):
        rows.append((name, _shape(layer.output_shape), f"{sizes.get(i, 0):,}"))
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    lines = [f"  {a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}".rstrip() for a, b, c in rows]
    lines.append(f"  total: {net.n_parameters:,} parameters ({net.dtype.name})")
    return lines


def _shape(shape):
    return "x".join(str(side) for side in shape)


# What each loss of a network (``net.loss``) means, in words.
LOSS_WORDS = {
    "cross_entropy": "cross-entropy (classification)",
    "mse": "mean squared error (regression)",
}


def describe_loss(net):
    """``"cross-entropy (classification)"`` or ``"mean squared error (regression)"``."""
    return LOSS_WORDS.get(net.loss, net.loss)


def network_lines(net):
    """The network's name, inputs, classes (or outputs, for regression), loss and layer table."""
    image = f" ({_shape(net.image_shape)} pictures)" if net.image_shape else ""
    names = list(net.class_names)
    shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    what = "output" if net.is_regression else "class"
    return [
        f"network: {net.describe()}",
        f"  {net.input_size} inputs{image} -> {_count(net.output_size, what)}: {shown}",
        f"  loss: {describe_loss(net)}",
        *layer_table(net),
    ]


def data_line(name, n_train, n_val, n_test, note=""):
    """``"data: mnist, 50,000 training, 10,000 validation, 10,000 test samples"``."""
    parts = [f"{n_train:,} training", f"{n_val:,} validation", f"{n_test:,} test samples"]
    return f"data: {name}, {', '.join(parts)}{note}"


def training_lines(net, options):
    """The optimizer and the ``NeuralNetwork.train`` options of a run about to start."""
    batches = math.ceil(options["n_train"] / options["batch_size"])
    lines = [
        f"optimizer: {describe_optimizer(net.get_config()['optimizer'])}",
        f"training: {_count(options['epochs'], 'epoch')} of {_count(batches, 'batch')} of "
        f"{options['batch_size']}, schedule {describe_setting(options['schedule']) or 'constant'}"
        f", augmentation {describe_setting(options['augment']) or 'none'}",
    ]
    extras = []
    if options.get("early_stopping"):
        extras.append(f"early stopping after {options['early_stopping']} epochs without progress")
    if options.get("clip_norm"):
        extras.append(f"gradient norm clipped at {options['clip_norm']:g}")
    if options.get("checkpoint"):
        extras.append(f"checkpoint {options['checkpoint']} every epoch")
    if extras:
        lines.append("  " + "; ".join(extras))
    return lines


def record_lines(net):
    """How a saved network was trained and how well it did, from its model file alone."""
    info = net.training_info.to_dict()
    history = net.history or {}
    epochs = len(history.get("train_loss", ()))
    lines = [f"optimizer: {describe_optimizer(net.get_config()['optimizer'])}"]
    if info.get("epochs") is not None or epochs:
        trained = f"trained: {_count(epochs, 'epoch')}"
        if info.get("epochs") not in (None, epochs):
            trained += f" (of {info['epochs']} asked)"
        if info.get("batch_size"):
            trained += f", batch {info['batch_size']}"
        trained += f", schedule {describe_setting(info.get('schedule')) or 'constant'}"
        trained += f", augmentation {describe_setting(info.get('augment')) or 'none'}"
        lines.append(trained)
    if info.get("dataset") or info.get("n_train"):
        source = info.get("dataset") or "unnamed data"
        if info.get("data"):
            source += f" (your own data: {info['data']})"
        sizes = f"{info.get('n_train', 0):,} training, {info.get('n_val', 0):,} validation"
        lines.append(f"data: {source}, {sizes} samples")
    if info.get("best_epoch"):
        lines.append(
            f"best epoch: {info['best_epoch']} ({info.get('monitor')} "
            f"{info.get('best_value', float('nan')):.4f}), its weights kept"
        )
    if history.get("val_accuracy"):
        lines.append(f"last validation accuracy: {history['val_accuracy'][-1]:.2%}")
    if history.get("val_r2"):
        lines.append(f"last validation R^2: {history['val_r2'][-1]:.4f}")
    if net.is_regression and info.get("test_r2") is not None:
        lines.append(f"test R^2: {info['test_r2']:.4f}, loss {info.get('test_loss', 0):.4f}")
    elif net.is_regression:
        lines.append("test R^2 and loss: not recorded (barenet evaluate measures them)")
    elif info.get("test_accuracy") is not None:
        lines.append(f"test accuracy: {info['test_accuracy']:.2%}")
    else:
        lines.append("test accuracy: not recorded (barenet evaluate measures it)")
    return lines


def _count(n, noun):
    """``"1 epoch"``, ``"16 epochs"``, ``"391 batches"``, ``"10 classes"``."""
    plural = noun + ("es" if noun.endswith(("sh", "tch", "ss")) else "s")
    return f"{n:,} {noun if n == 1 else plural}"
