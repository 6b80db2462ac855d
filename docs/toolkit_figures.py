"""The training toolkit's figures (docs/toolkit.md): dropout, batch normalisation, schedules,
augmentation, early stopping and clipping, each from a small seeded run with barenet's API."""

import numpy as np
from figure_common import BLUE, GREEN, ORANGE, PURPLE, RED, figure, mnist, save

from barenet import NeuralNetwork
from barenet.nn.activations import Activation
from barenet.optim.schedules import get_schedule
from barenet.train.augment import get_augmentation
from barenet.train.callbacks import EarlyStopping
from barenet.train.trainer import clip_by_global_norm


def _small_run(seed=0, epochs=40, **options):
    d = mnist()
    net = NeuralNetwork(784, [256, 256], 10, 0.05, optimizer="momentum", seed=seed, **options)
    net.train(
        d["X_train"][:1000],
        d["y_train"][:1000],
        d["X_val"][:2000],
        d["y_val"][:2000],
        epochs=epochs,
        verbose=False,
    )
    return net


def dropout():
    """Training and validation curves on 1,000 images, with and without dropout."""
    plain, dropped = _small_run(), _small_run(dropout=0.5)
    fig = figure(9, 3.6)
    loss_ax, acc_ax = fig.subplots(1, 2)
    for net, color, label in ((plain, RED, "no dropout"), (dropped, BLUE, "dropout 0.5")):
        h = net.history
        epochs = np.arange(1, len(h["train_loss"]) + 1)
        loss_ax.plot(epochs, h["train_loss"], "--", color=color, label=f"{label}: training")
        loss_ax.plot(epochs, h["val_loss"], "-", color=color, label=f"{label}: validation")
        acc_ax.plot(epochs, np.array(h["train_accuracy"]) * 100, "--", color=color)
        acc_ax.plot(epochs, np.array(h["val_accuracy"]) * 100, "-", color=color)
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="Loss")
    acc_ax.set(xlabel="epoch", ylabel="percent correct", ylim=(80, 100.5), title="Accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
    loss_ax.legend(fontsize=8)
    fig.suptitle("784-256-256-10 on 1,000 training images (dashed) and 2,000 validation images")
    return save(fig, "dropout.png")


def batch_norm():
    """A deep sigmoid network with and without batch normalisation: learning, spread, gradient."""
    d = mnist()
    fig = figure(10, 3.4)
    curve_ax, spread_ax, grad_ax = fig.subplots(1, 3)
    probe_X, probe_y = d["X_val"][:1000], d["y_val"][:1000]
    layers = np.arange(1, 6)
    for bn, color, label in ((False, RED, "without batch norm"), (True, BLUE, "with batch norm")):
        net = NeuralNetwork(784, [128] * 5, 10, 0.1, activation="sigmoid", batch_norm=bn, seed=0)
        net.train(
            d["X_train"][:10000],
            d["y_train"][:10000],
            d["X_val"][:2000],
            d["y_val"][:2000],
            epochs=6,
            verbose=False,
        )
        curve_ax.plot(
            np.arange(1, 7),
            np.array(net.history["val_accuracy"]) * 100,
            "o-",
            color=color,
            label=label,
        )
        X, spreads = probe_X, []
        for layer in net.layers:  # the input of every sigmoid, in prediction mode
            if isinstance(layer, Activation):
                spreads.append(np.median(X.std(axis=0)))  # over the images, per unit
            X = layer.forward(X)
        spread_ax.plot(layers, spreads, "o-", color=color, label=label)
        _, gradient = net.loss_and_gradient(probe_X, probe_y)
        norms = [
            np.linalg.norm(gradient[part])
            for name, part in net.parameter_slices().items()
            if name.endswith(".W")
        ]
        grad_ax.plot(np.arange(1, 7), norms, "o-", color=color, label=label)
    curve_ax.set(xlabel="epoch", ylabel="validation accuracy (%)", title="Learning")
    spread_ax.set(
        xlabel="hidden layer",
        ylabel="median over the units",
        yscale="log",
        xticks=layers,
        title="How much a sigmoid's input\nvaries from image to image",
    )
    grad_ax.set(
        xlabel="dense layer",
        ylabel="||dL/dW||",
        yscale="log",
        xticks=range(1, 7),
        title="Gradient norm per layer",
    )
    for ax in (curve_ax, spread_ax, grad_ax):
        ax.grid(alpha=0.3)
    curve_ax.legend(fontsize=8)
    fig.suptitle("784-5x128-10 sigmoid network, SGD 0.1, 10,000 training images, 6 epochs")
    return save(fig, "batch-norm.png")


def schedules():
    """The learning rate over 20 epochs for each schedule, from a base rate of 0.1."""
    specs = {
        "constant": "constant",
        "step (every 6 epochs, x0.1)": {"name": "step", "every": 6, "gamma": 0.1},
        "exponential (x0.85 per epoch)": {"name": "exponential", "gamma": 0.85},
        "cosine": "cosine",
        "warmup 2 epochs, then cosine": {"name": "warmup", "warmup": 2, "then": "cosine"},
    }
    epochs = 20
    t = np.linspace(0, epochs, 801)[:-1]
    fig = figure(9, 3.4)
    ax = fig.subplots()
    for (label, spec), color in zip(specs.items(), (BLUE, ORANGE, GREEN, RED, PURPLE)):
        schedule = get_schedule(spec).start(0.1, epochs)
        ax.plot(t, [schedule.rate(p) for p in t], color=color, label=label, lw=2)
    ax.set(xlabel="epoch (position in training)", ylabel="learning rate", xlim=(0, epochs))
    ax.set_title("Schedules started at a base rate of 0.1 for 20 epochs")
    ax.grid(alpha=0.3)
    fig.legend(fontsize=8, loc="outside right upper")
    return save(fig, "schedules.png")


def augmentation():
    """Six test digits, each as it is and under three random draws of every augmentation."""
    X = mnist()["X_test"][:6]
    rows = {"original": None, "shift": "shift", "affine": "affine", "elastic": "elastic"}
    draws = 3
    fig = figure(1.0 * len(X) * draws * 0.55 + 0.8, 1.0 * len(rows) * 0.9 + 0.3)
    fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.02, hspace=0.02)
    axes = fig.subplots(len(rows), len(X) * draws)
    rng = np.random.default_rng(3)
    for r, (label, name) in enumerate(rows.items()):
        batches = (
            [X] * draws if name is None else [get_augmentation(name)(X, rng) for _ in range(draws)]
        )
        for i in range(len(X)):
            for k in range(draws):
                ax = axes[r, i * draws + k]
                ax.imshow(batches[k][i].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
        axes[r, 0].set_ylabel(label, fontsize=10)
    return save(fig, "augmentation.png")


def early_stopping():
    """Validation loss of an overfitting run, the best epoch and where patience 5 stops."""
    full = _small_run(epochs=40)
    stopper = EarlyStopping(monitor="val_loss", patience=5)
    d = mnist()
    stopped = NeuralNetwork(784, [256, 256], 10, 0.05, optimizer="momentum", seed=0)
    stopped.train(
        d["X_train"][:1000],
        d["y_train"][:1000],
        d["X_val"][:2000],
        d["y_val"][:2000],
        epochs=40,
        verbose=False,
        early_stopping=stopper,
    )
    fig = figure(7.5, 3.4)
    ax = fig.subplots()
    epochs = np.arange(1, 41)
    ax.plot(epochs, full.history["val_loss"], color="0.7", lw=2, label="without early stopping")
    ran = len(stopped.history["val_loss"])
    ax.plot(
        epochs[:ran],
        stopped.history["val_loss"],
        "o-",
        color=BLUE,
        markersize=4,
        label="with early stopping (patience 5)",
    )
    best = stopper.best_epoch
    ax.axvline(best, color=GREEN, ls="--")
    ax.axvline(ran, color=RED, ls=":")
    low = min(full.history["val_loss"])
    ax.annotate(
        f"best epoch {best}:\nits weights are restored",
        (best, low),
        xytext=(best + 3, low + 0.12),
        color=GREEN,
        fontsize=9,
        arrowprops={"arrowstyle": "->", "color": GREEN},
    )
    ax.text(
        ran + 0.5,
        ax.get_ylim()[1] * 0.9,
        f"stopped after epoch {ran}",
        color=RED,
        fontsize=9,
        va="top",
    )
    ax.set(xlabel="epoch", ylabel="validation loss")
    ax.set_title("784-256-256-10 on 1,000 training images: the validation loss turns up")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return save(fig, "early-stopping.png")


def clipping():
    """2-D gradients of several lengths before and after clipping their norm to 1."""
    fig = figure(7.5, 3.6)
    ax = fig.subplots()
    circle = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(circle), np.sin(circle), color="0.6", lw=1, label="norm 1")
    angles = np.linspace(0, 2 * np.pi, 9)[:-1] + 0.3
    lengths = (0.6, 2.8, 1.6, 0.8, 3.2, 2.2, 0.5, 2.6)
    for angle, length in zip(angles, lengths):
        g = length * np.array([np.cos(angle), np.sin(angle)])
        clipped = g.copy()
        clip_by_global_norm(clipped, 1.0)
        ax.arrow(0, 0, *g, color=RED, width=0.01, head_width=0.12, length_includes_head=True)
        ax.arrow(0, 0, *clipped, color=BLUE, width=0.04, head_width=0.16, length_includes_head=True)
    ax.plot([], [], color=RED, label="gradient g")
    ax.plot([], [], color=BLUE, lw=3, label="after clip_norm=1")
    ax.set_aspect("equal")
    ax.set(xlim=(-4.5, 4.5), ylim=(-3.3, 3.3), xticks=[], yticks=[])
    ax.set_title("Clipping shortens long gradients to the limit and keeps their direction")
    ax.legend(fontsize=8, loc="upper left")
    return save(fig, "clipping.png")
