"""Figures of one trained network's behaviour: learning curves, predicted images, the
confusion matrix, per-class precision and recall, the most confident mistakes. What it learned
(weights, filters, feature maps) is drawn by :mod:`barenet.viz.weights`.

Each function draws on a standalone matplotlib ``Figure`` rendered by the Agg (PNG) canvas,
never through ``pyplot``: no window opens, no backend is switched for the caller, and no
figure stays registered in pyplot's global list to leak memory. Each saves a PNG and returns
its path. Images are those of any data set: rows of ``height * width`` pixels, reshaped by an
``image_shape`` or, by default, as squares (28 x 28 for MNIST's 784 pixels, 8 x 8 for 64); classes
are shown by name when ``class_names`` are given (Fashion-MNIST's "Sneaker" rather than 7).
"""

import math
from pathlib import Path

import numpy as np
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure

from barenet import validation as check
from barenet.errors import BarenetError, DataError
from barenet.metrics import confusion_matrix, per_class_metrics

DPI = 120
MAX_MARKED_EPOCHS = 30
WRONG = "#d62728"  # the red of misclassified images
SHORT_TITLE = 8  # predicted and true names up to this many characters share one title line
FEW_CLASSES = 15  # up to this many classes fit the standard size of the per-class figures
# The confusion matrix's colour bar: a power scale (exponent 0.3) spreads the small fractions,
# so its ticks are labelled where a reader needs them, not evenly.
CONFUSION_TICKS = (0.0, 0.01, 0.05, 0.2, 0.5, 1.0)


def plot_history(history, path):
    """Save the loss and accuracy per epoch, training and validation, as a PNG at ``path``.

    ``history`` is the dict returned by :meth:`barenet.NeuralNetwork.train` (lists per epoch:
    ``train_loss``, ``train_accuracy`` and, when validation data was given, ``val_loss`` and
    ``val_accuracy``). The image is 1320x540 pixels. Returns ``path`` as a Path.
    """
    if not history or not history.get("train_loss"):
        raise BarenetError("the history holds no epochs to plot (train the network first)")
    epochs = history.get("epoch") or list(range(1, len(history["train_loss"]) + 1))
    fig = new_figure(11, 4.5)
    loss_ax, acc_ax = fig.subplots(1, 2)
    _curves(loss_ax, epochs, history, "loss", scale=1)
    loss_ax.set(title="Loss per epoch", ylabel="cross-entropy loss")
    _curves(acc_ax, epochs, history, "accuracy", scale=100)
    acc_ax.set(title=_accuracy_title(epochs, history), ylabel="accuracy (%)")
    return save_png(fig, path)


def _accuracy_title(epochs, history):
    """The accuracy panel's title, naming the best validation epoch when there is one."""
    val = history.get("val_accuracy")
    if not val:
        return "Accuracy per epoch"
    best = int(np.argmax(val))
    return f"Accuracy per epoch (best validation: {val[best]:.2%} at epoch {epochs[best]})"


def _curves(ax, epochs, history, metric, scale):
    """Draw ``train_<metric>`` and, if recorded, ``val_<metric>`` against the epoch number."""
    for prefix, label, style in (("train", "training", "o-"), ("val", "validation", "s--")):
        values = history.get(f"{prefix}_{metric}")
        if values:
            # Markers show each epoch of a short run (a single one is a lone point); over many
            # epochs they would hide the curve.
            marker_size = 4 if len(values) <= MAX_MARKED_EPOCHS else 0
            ax.plot(epochs, np.asarray(values) * scale, style, label=label, markersize=marker_size)
    ax.set_xlabel("epoch")
    # Epochs are whole numbers: no tick at 2.5.
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend()


def plot_predictions(
    images, y_true, y_pred, path, n=25, probabilities=None, class_names=None, image_shape=None
):
    """Save a grid of the first ``n`` images titled "pred P (true T)" as a PNG at ``path``.

    ``images`` is ``(m, height * width)`` or ``(m, height, width)``; flat rows are reshaped by
    ``image_shape`` ``(height, width)``, square by default (``(m, 784)`` -> 28 x 28; pass a
    network's ``image_shape``). ``y_true`` and ``y_pred`` are ``(m,)`` labels, shown as their
    ``class_names`` (a list, or a network whose names are used) when given. Misclassified
    images get a red title and a red frame. ``probabilities``, either ``(m,)`` confidences of
    the predictions or ``(m, n_classes)`` as from ``predict_proba``, adds the confidence to
    each title. The grid is square-ish, 1.6 x 1.75 inches per image plus a 0.5-inch headline
    at 120 dpi (960x1110 pixels for 25 images). Returns ``path`` as a Path.
    """
    images, y_true, y_pred = _check_samples(images, y_true, y_pred, image_shape)
    names = None if class_names is None else _class_names(class_names)
    n = min(int(n), len(images))
    if n < 1:
        raise DataError(f"nothing to plot: n must be >= 1, got {n}")
    confidence = _confidence(probabilities, y_pred, len(images))
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig = new_figure(1.6 * cols, 1.75 * rows + 0.5)
    wrong = int(np.count_nonzero(y_true[:n] != y_pred[:n]))
    fig.suptitle(f"{n - wrong} of {n} images predicted correctly (wrong ones in red)", fontsize=12)
    for i, ax in enumerate(fig.subplots(rows, cols, squeeze=False).ravel()):
        if i < n:
            _digit(ax, images[i], y_true[i], y_pred[i], confidence[i], names)
        else:
            ax.axis("off")
    return save_png(fig, path)


def _check_samples(images, y_true, y_pred, image_shape=None):
    """Images as ``(m, height, width)`` and labels as ``(m,)`` arrays, all of length ``m``.

    Flat ``(m, pixels)`` images are reshaped by ``image_shape``, else as squares.
    """
    images = _as_images(np.asarray(images), image_shape)
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if not len(images) == len(y_true) == len(y_pred):
        raise DataError(
            f"{len(images)} images but {len(y_true)} true labels and {len(y_pred)} predictions"
        )
    return images, y_true, y_pred


def _as_images(images, image_shape):
    """``(m, height, width)`` images, from ``(m, height * width)`` rows or as they are.

    Rows are reshaped by ``image_shape``, or as squares when it is None.
    """
    if image_shape is None and images.ndim == 3:
        return images
    if image_shape is None and images.ndim == 2:
        image_shape = check.image_shape(None, images.shape[1], True, "pixels per row")
    if image_shape is None:
        raise DataError(f"images must be (n, height, width) or (n, pixels), got {images.shape}")
    height, width = (int(side) for side in image_shape)
    if images.ndim == 2 and images.shape[1] == height * width:
        return images.reshape(-1, height, width)
    if images.ndim == 3 and images.shape[1:] == (height, width):
        return images
    raise DataError(
        f"images of shape {images.shape} are neither (n, {height}, {width}) images "
        f"nor (n, {height * width}) rows"
    )


def _class_names(class_names, n_classes=None):
    """``class_names`` (a list, or a network whose ``class_names`` are used) as a list of str;
    ``"0"``, ``"1"``... for ``n_classes`` when None. DataError if they are not ``n_classes``."""
    if class_names is None:
        return [str(k) for k in range(n_classes)]
    names = [str(name) for name in getattr(class_names, "class_names", class_names)]
    if n_classes is not None and len(names) != n_classes:
        raise DataError(f"{len(names)} class names for {n_classes} classes")
    return names


def _confidence(probabilities, y_pred, m):
    """The probability of each predicted class, ``(m,)``; Nones when not given."""
    if probabilities is None:
        return [None] * m
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim == 2 and len(p) == m:
        return p[np.arange(m), y_pred]
    if p.shape != (m,):
        raise DataError(f"probabilities must have shape ({m},) or ({m}, n_classes), got {p.shape}")
    return p


def _digit(ax, image, true, pred, confidence, names=None):
    """One image, white on black as in MNIST, titled with the predicted and true classes (by
    their ``names`` when given); red title and frame if wrong."""
    ax.imshow(image, cmap="gray", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    color = "black" if true == pred else WRONG
    title = _prediction_title(pred, true, names)
    if confidence is not None:
        title += f"\n{confidence:.0%} sure"
    ax.set_title(title, color=color, fontsize=10)
    for spine in ax.spines.values():
        spine.set_color(color)
        spine.set_linewidth(3 if true != pred else 0.5)


def _prediction_title(pred, true, names):
    """``"pred 7 (true 2)"``; long class names get a line each to fit a 1.6-inch cell."""
    if names is None:
        return f"pred {pred} (true {true})"
    for label in (pred, true):
        if not 0 <= label < len(names):
            raise DataError(f"label {label} has no name among the {len(names)} class names")
    pred, true = names[pred], names[true]
    if len(pred) + len(true) <= SHORT_TITLE:
        return f"pred {pred} (true {true})"
    return f"pred {pred}\ntrue {true}"


# -- what a trained network gets right and wrong ---------------------------------------------------


def plot_confusion_matrix(y_true, y_pred, path, n_classes=None, class_names=None):
    """The confusion matrix, 7 x 6 inches (larger beyond 15 classes): counts in the cells,
    colour by the fraction of the true class (a power scale, so that rare confusions still
    show); rows are true classes. The ticks name the classes by ``class_names`` (a list, or a
    network whose names are used; default ``0``, ``1``...), which also set ``n_classes``."""
    if class_names is not None and n_classes is None:
        n_classes = len(_class_names(class_names))
    counts = confusion_matrix(y_true, y_pred, n_classes)
    names = _class_names(class_names, len(counts))
    fractions = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    scale = _scale(len(counts))
    fig = new_figure(7 * scale, 6 * scale)
    ax = fig.subplots()
    image = ax.imshow(fractions, cmap="Blues", norm=PowerNorm(0.3, vmin=0, vmax=1))
    for (i, j), count in np.ndenumerate(counts):
        color = "white" if fractions[i, j] > 0.4 else "black"
        ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color=color)
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    _class_ticks(ax.xaxis, names)
    _class_ticks(ax.yaxis, names)
    ax.set(xlabel="predicted class", ylabel="true class")
    ax.set_title(f"Confusion matrix: {counts.sum()} images, {accuracy:.2%} correct")
    bar = fig.colorbar(image, ax=ax, label="fraction of the true class's images (power scale)")
    bar.set_ticks(CONFUSION_TICKS, labels=[f"{tick:.0%}" for tick in CONFUSION_TICKS])
    return save_png(fig, path)


def _scale(n_classes):
    """How much a per-class figure grows so that ``n_classes`` classes stay readable."""
    return max(1.0, n_classes / FEW_CLASSES)


def _class_ticks(axis, names):
    """One tick per class, labelled with its name; names longer than two characters are
    slanted on the x axis so that neighbours do not overlap."""
    options = {"fontsize": 8} if len(names) > FEW_CLASSES else {}
    if axis.axis_name == "x" and max(map(len, names)) > 2:
        options.update(rotation=45, ha="right", rotation_mode="anchor")
    axis.set_ticks(range(len(names)), names, **options)


def plot_per_class_metrics(y_true, y_pred, path, n_classes=None, class_names=None):
    """Precision and recall of each class as paired bars from 0 to 100% (a bar's length is its
    value, so that 95% never looks half of 99%), each labelled with its value, 9 x 4.5 inches
    (wider beyond 15 classes), the classes named by ``class_names`` as in
    :func:`plot_confusion_matrix`."""
    if class_names is not None and n_classes is None:
        n_classes = len(_class_names(class_names))
    figures = per_class_metrics(confusion_matrix(y_true, y_pred, n_classes))
    classes = np.arange(len(figures["precision"]))
    names = _class_names(class_names, len(classes))
    fig = new_figure(9 * _scale(len(classes)), 4.5)
    ax = fig.subplots()
    for offset, name in ((-0.2, "precision"), (0.2, "recall")):
        bars = ax.bar(classes + offset, figures[name] * 100, width=0.4, label=name)
        if len(classes) <= FEW_CLASSES:  # the differences near 100% are read off the labels
            ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    ax.set_ylim(0, 108)  # room for the labels above a bar of 100%
    ax.set_yticks(range(0, 101, 20))
    _class_ticks(ax.xaxis, names)
    ax.set(xlabel="class", ylabel="percent")
    ax.set_title(
        "Per class: precision (right when it says this class) and recall (finds this class)"
    )
    ax.grid(axis="y", alpha=0.3)
    fig.legend(loc="outside lower center", ncol=2)
    return save_png(fig, path)


def plot_confident_mistakes(
    images, y_true, probabilities, path, n=16, class_names=None, image_shape=None
):
    """The ``n`` misclassified images the network was surest about, surest first.

    ``probabilities`` is ``(m, n_classes)`` as from ``predict_proba``; ``images``,
    ``class_names`` and ``image_shape`` are as in :func:`barenet.viz.plots.plot_predictions`.
    Grid of 1.6 x 1.75 inches per image plus a 0.5-inch headline (4 x 4 images: 768 x 900
    pixels). With no mistake, a 4 x 2-inch figure saying so.
    """
    probabilities = np.asarray(probabilities)
    y_pred = probabilities.argmax(axis=1)
    images, y_true, y_pred = _check_samples(images, y_true, y_pred, image_shape)
    names = None if class_names is None else _class_names(class_names)
    confidence = probabilities[np.arange(len(y_pred)), y_pred]
    wrong = np.flatnonzero(y_pred != y_true)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:n]
    if not len(wrong):
        fig = new_figure(4, 2)
        fig.text(0.5, 0.5, f"no mistakes on these {len(y_true)} images", ha="center")
        return save_png(fig, path)
    cols = math.ceil(math.sqrt(len(wrong)))
    rows = math.ceil(len(wrong) / cols)
    fig = new_figure(1.6 * cols, 1.75 * rows + 0.5)
    fig.suptitle(f"The {len(wrong)} most confident mistakes", fontsize=12, color=WRONG)
    for ax, i in zip(fig.subplots(rows, cols, squeeze=False).ravel(), [*wrong, *[None] * 99]):
        if i is None:
            ax.axis("off")
        else:
            _digit(ax, images[i], y_true[i], y_pred[i], confidence[i], names)
    return save_png(fig, path)


def new_figure(width, height):
    """A matplotlib Figure of ``width`` x ``height`` inches at the figures' DPI, laid out to
    fit (no pyplot: nothing global, safe in threads and servers)."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save_png(fig, path):
    """Write ``fig`` as a PNG to ``path`` (creating its folder) and return ``path`` as a Path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path
