"""Figures of the results of :mod:`barenet.experiments` (those of one network are in
:mod:`barenet.viz.plots`).

Like :mod:`barenet.viz.plots`, each function draws a standalone matplotlib ``Figure`` on the Agg
canvas (no window, no pyplot state), saves it as a PNG at ``path`` (creating the folder) and
returns ``path`` as a Path. Sizes are stated in inches at 120 dpi: 4.8 inches is 576 pixels.
Each takes the rows a study returned and averages over seeds, drawing the spread as error bars
or bands; rows of failed runs are skipped.
"""

import math

import numpy as np
from matplotlib import colormaps
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from barenet.errors import BarenetError
from barenet.experiments.learning_rates import centred_average
from barenet.experiments.perturbations import PERTURBATIONS
from barenet.experiments.summary import summarize
from barenet.viz.plots import new_figure, save_png


def _ok(rows):
    rows = [row for row in rows if "error" not in row]
    if not rows:
        raise BarenetError("no successful runs to plot")
    return rows


# -- studies ------------------------------------------------------------------------------------


def plot_architectures(rows, path):
    """Architecture comparison, 16 x 4.8 inches: test accuracy against parameter count and
    against training time, and validation accuracy per epoch, one colour per architecture."""
    rows = _ok(rows)
    metrics = ["n_parameters", "test_accuracy", "train_time"]
    summary = summarize(rows, ["architecture"], metrics)
    fig = new_figure(16, 4.8)
    size_ax, time_ax, curve_ax = fig.subplots(1, 3)
    for color, s in zip(_colors(len(summary)), summary):
        acc, err = s["test_accuracy_mean"] * 100, s["test_accuracy_std"] * 100
        for ax, x, xerr in (
            (size_ax, s["n_parameters_mean"], None),
            (time_ax, s["train_time_mean"], s["train_time_std"]),
        ):
            ax.errorbar(x, acc, yerr=err, xerr=xerr, fmt="o", ms=7, color=color, capsize=3)
        mine = [row for row in rows if row["architecture"] == s["architecture"]]
        _mean_curve(curve_ax, [r["history"]["val_accuracy"] for r in mine], color, s["runs"])
        curve_ax.lines[-1].set_label(s["architecture"])
    size_ax.set(xscale="log", xlabel="trainable parameters (log scale)", ylabel="test accuracy (%)")
    size_ax.set_title("Accuracy against size")
    time_ax.set(xscale="log", xlabel="training time (s, log scale)", ylabel="test accuracy (%)")
    time_ax.set_title("Accuracy against training time")
    curve_ax.set(xlabel="epoch", ylabel="validation accuracy (%)")
    curve_ax.set_title("Learning curves")
    for ax in (size_ax, time_ax, curve_ax):
        ax.grid(alpha=0.3)
    for ax, form in ((size_ax, _compact), (time_ax, "{:g}".format)):
        ax.margins(x=0.15, y=0.1)
        _plain_log_ticks(ax.xaxis, form)
    fig.legend(title="architecture", loc="outside right upper", fontsize=9)
    fig.suptitle(f"Architecture comparison ({_seeds(summary)})")
    return save_png(fig, path)


def _compact(count):
    """``20000`` -> ``"20k"``, ``1500000`` -> ``"1.5M"``: short labels for parameter counts."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if count >= size:
            return f"{count / size:g}{suffix}"
    return f"{count:g}"


def _plain_log_ticks(axis, form):
    """Ticks at 1, 2 and 5 times powers of ten, written as plain numbers by ``form``, on a log
    axis: spans of less than a decade get readable labels instead of crowded 3x10^-1 ones."""
    axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: form(value)))
    axis.set_minor_formatter(NullFormatter())


def _seeds(summary, spread=True):
    """How the points and curves were averaged, for a figure's headline."""
    runs = max(s["runs"] for s in summary)
    if runs == 1:
        return "one run each"
    return f"mean ± std over {runs} seeds" if spread else f"mean over {runs} seeds"


def _colors(n, cmap="viridis"):
    return colormaps[cmap](np.linspace(0.05, 0.85, max(n, 1)))


# Okabe and Ito's palette: eight colours told apart with every common colour-vision deficiency
# (and in greyscale, with the markers); beyond eight, a colour map takes over.
SAFE_COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
SAFE_COLORS += ("#F0E442",)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _distinct(n):
    """``n`` colours that stay distinct for colour-blind readers (Okabe-Ito up to eight)."""
    return list(SAFE_COLORS[:n]) if n <= len(SAFE_COLORS) else list(_colors(n))


def _mean_curve(ax, curves, color, runs, scale=100):
    """Mean of equal-length per-epoch ``curves`` (shortest length), with a band of one std."""
    length = min(len(c) for c in curves)
    values = np.array([c[:length] for c in curves], dtype=float) * scale
    epochs = np.arange(1, length + 1)
    mean = values.mean(axis=0)
    ax.plot(epochs, mean, "o-", color=color, markersize=3)
    if runs > 1:
        std = values.std(axis=0, ddof=1)
        low, high = np.clip(mean - std, 0, scale), np.clip(mean + std, 0, scale)
        ax.fill_between(epochs, low, high, color=color, alpha=0.2)
    ax.xaxis.get_major_locator().set_params(integer=True)


def plot_learning_rates(rows, path):
    """The learning-rate grid: per optimizer, validation accuracy per epoch for each rate
    (dashed: diverged), one colour-blind-safe colour per rate and bands kept within 0-100%;
    and a last panel of the *final* epoch's validation accuracy against the rate, where a rate
    that diverged in any run is marked with a cross (the best epoch would hide a rate that
    learned, then blew up). 5 x 4.8 inches per panel."""
    rows = _ok(rows)
    optimizers = list(dict.fromkeys(row["optimizer"] for row in rows))
    fig = new_figure(5 * (len(optimizers) + 1), 4.8)
    axes = fig.subplots(1, len(optimizers) + 1, squeeze=False)[0]
    for ax, optimizer in zip(axes, optimizers):
        mine = [row for row in rows if row["optimizer"] == optimizer]
        rates = sorted({row["learning_rate"] for row in mine})
        for color, rate in zip(_distinct(len(rates)), rates):
            runs = [
                r for r in mine if r["learning_rate"] == rate and r["history"].get("val_accuracy")
            ]
            if runs:
                _mean_curve(ax, [r["history"]["val_accuracy"] for r in runs], color, len(runs))
                ax.lines[-1].set_label(f"lr {rate:g}")
                if any(r["diverged"] for r in runs):
                    ax.lines[-1].set_linestyle("--")
        ax.set(
            xlabel="epoch",
            ylabel="validation accuracy (%)",
            title=f"{optimizer}: validation accuracy per rate",
            ylim=(0, 100.5),
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    rows = [{**row, "final_val_accuracy": _final_accuracy(row)} for row in rows]
    summary = summarize(rows, ["optimizer", "learning_rate"], ["final_val_accuracy", "diverged"])
    for color, optimizer in zip(_distinct(len(optimizers)), optimizers):
        _final_accuracy_line(axes[-1], summary, optimizer, color)
    axes[-1].set(xscale="log", xlabel="learning rate (log scale)", ylim=(0, 100.5))
    axes[-1].set(
        ylabel="validation accuracy, last epoch (%)", title="Accuracy at the end of training"
    )
    axes[-1].grid(alpha=0.3)
    axes[-1].legend(fontsize=8)
    diverged = "; dashed: the loss diverged" if any(r.get("diverged") for r in rows) else ""
    fig.suptitle(f"Learning rates ({_seeds(summary)}{diverged})")
    return save_png(fig, path)


def _final_accuracy(row):
    """The validation accuracy of a run's last epoch (from its history when not recorded)."""
    if row.get("final_val_accuracy") is not None:
        return row["final_val_accuracy"]
    val = row.get("history", {}).get("val_accuracy")
    return val[-1] if val else None


def _final_accuracy_line(ax, summary, optimizer, color):
    """One optimizer's last-epoch accuracy against the rate, mean ± std kept within 0-100%;
    rates that diverged in any run get a cross."""
    mine = [s for s in summary if s["optimizer"] == optimizer]
    mine = sorted(
        (s for s in mine if s["final_val_accuracy_mean"] is not None),
        key=lambda s: s["learning_rate"],
    )
    if not mine:
        return
    x = np.array([s["learning_rate"] for s in mine])
    y = np.array([s["final_val_accuracy_mean"] for s in mine]) * 100
    std = np.array([s["final_val_accuracy_std"] or 0.0 for s in mine]) * 100
    errors = [np.minimum(std, y), np.minimum(std, 100 - y)]  # the bars stop at 0% and 100%
    ax.errorbar(x, y, yerr=errors, fmt="o-", color=color, capsize=3, label=optimizer)
    bad = np.array([bool(s["diverged_mean"]) for s in mine])
    if bad.any():
        ax.plot(x[bad], y[bad], "x", color="black", ms=10, mew=2, label=f"{optimizer}: diverged")


def plot_range_test(results, path):
    """Learning-rate range tests: loss against rate (log scale), per batch and smoothed by a
    centred moving average (:func:`centred_average`, no lag), with the rate of the lowest
    centred loss and the test's suggested rate marked. ``results``: one result of
    :func:`~barenet.experiments.learning_rate_range_test` or a list; 7 x 4.8 inches each."""
    results = [results] if isinstance(results, dict) else list(results)
    fig = new_figure(7 * len(results), 4.8)
    for ax, r in zip(fig.subplots(1, len(results), squeeze=False)[0], results):
        ax.plot(r["learning_rates"], r["losses"], color="0.7", lw=0.8, label="loss per batch")
        smooth = centred_average(r["losses"])
        ax.plot(r["learning_rates"], smooth, color=SAFE_COLORS[0], label="centred average")
        lowest = r["learning_rates"][int(np.nanargmin(smooth))]
        ax.axvline(lowest, color=SAFE_COLORS[3], ls=":", label=f"lowest average at {lowest:.2g}")
        suggested = r["suggested_learning_rate"]
        ax.axvline(
            suggested, color=SAFE_COLORS[2], ls="--", label=f"suggested rate {suggested:.2g}"
        )
        top = 2.5 * max(smooth[0], np.nanmin(smooth))
        ax.set_ylim(0, top)
        ax.set(xscale="log", xlabel="learning rate (log scale)", ylabel="training loss")
        ax.set_title(f"Learning-rate range test: {r['optimizer']}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_png(fig, path)


def plot_robustness(rows, path):
    """Accuracy against the strength of each perturbation, one line per kind of training, mean
    ± spread over seeds; FGSM shares a panel with random signs of the same size.
    5 x 4.2 inches per panel, 3 panels per row."""
    rows = _ok(rows)
    summary = summarize(rows, ["perturbation", "training", "strength"], ["accuracy"])
    names = list(dict.fromkeys(row["perturbation"] for row in summary))
    panels = [n for n in names if n != "random_sign" or "fgsm" not in names]
    cols = min(3, len(panels))
    grid_rows = math.ceil(len(panels) / cols)
    fig = new_figure(5 * cols, 4.2 * grid_rows)
    axes = fig.subplots(grid_rows, cols, squeeze=False).ravel()
    trainings = list(dict.fromkeys(row["training"] for row in summary))
    for ax, name in zip(axes, panels):
        if name == "fgsm" and "random_sign" in names:
            _robustness_lines(ax, summary, "random_sign", trainings, "--", "random signs, ")
            _robustness_lines(ax, summary, "fgsm", trainings, "-", "FGSM, ")
            title, legend_place = "FGSM attack vs random signs of the same size", "center right"
        else:
            _robustness_lines(ax, summary, name, trainings, "-", "")
            title, legend_place = _title(name), "best"
        ax.set(title=title, xlabel=PERTURBATIONS[name].strength_label, ylabel="test accuracy (%)")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc=legend_place)
    for ax in axes[len(panels) :]:
        ax.axis("off")
    fig.suptitle(f"Accuracy on damaged test images ({_seeds(summary)})")
    return save_png(fig, path)


def _robustness_lines(ax, summary, name, trainings, style, prefix):
    """Accuracy against strength under perturbation ``name``, a line and band per training."""
    for i, training in enumerate(trainings):
        line = [s for s in summary if (s["perturbation"], s["training"]) == (name, training)]
        x = [s["strength"] for s in line]
        y = np.array([s["accuracy_mean"] for s in line]) * 100
        e = np.array([s["accuracy_std"] for s in line]) * 100
        ax.plot(x, y, style, marker="o", color=f"C{i}", label=prefix + training)
        ax.fill_between(
            x, np.clip(y - e, 0, 100), np.clip(y + e, 0, 100), color=f"C{i}", alpha=0.15
        )


TITLES = {
    "gaussian": "Gaussian noise",
    "salt_and_pepper": "salt-and-pepper noise",
    "occlusion": "occlusion by a black square",
    "shift": "shift",
    "rotation": "rotation",
    "fgsm": "FGSM",
    "random_sign": "random signs",
}


def _title(name):
    return TITLES.get(name, name.replace("_", " "))


DYNAMICS_PANELS = (
    ("grad_norm", "gradient norm", "||dL/dW|| (log scale)", True),
    ("weight_norm", "weight norm", "||W||", False),
    ("update_ratio", "update / weight", "||ΔW|| / ||W|| in the epoch (log scale)", True),
    ("dead_fraction", "dead units", "units never active on the probe (%)", False),
    ("activation_mean", "activations", "mean (bars: std)", False),
)
DYNAMICS_COLUMNS = 3  # panels per row: two rows of three keep the figure 1,296 pixels wide
# A unit can only die (output exactly 0 for every input, so no gradient ever again) in the ReLU
# family; a sigmoid or tanh unit saturates instead, which the activations panel shows.
CANNOT_DIE = ("sigmoid", "tanh", "softplus")


def plot_dynamics(rows, path):
    """Training dynamics: a block of panels per network, one line per layer (a colour-blind-safe
    colour and a marker each), against the epoch (0 = before training): the five figures of
    :class:`~barenet.experiments.DynamicsRecorder`, in two rows of three panels, the sixth
    place holding the legend. Dead units are counted for the ReLU family only: for a network
    whose name or ``activation`` says sigmoid or tanh, that panel says why it is empty.
    3.6 x 3.0 inches per panel: 10.8 inches (1,296 pixels) wide, 6.4 inches per network."""
    rows = _ok(rows)
    networks = list(dict.fromkeys(row["network"] for row in rows))
    grid_rows = math.ceil((len(DYNAMICS_PANELS) + 1) / DYNAMICS_COLUMNS)
    fig = new_figure(3.6 * DYNAMICS_COLUMNS, (3.0 * grid_rows + 0.4) * len(networks))
    for sub, network in zip(fig.subfigures(len(networks), 1, squeeze=False).ravel(), networks):
        mine = [row for row in rows if row["network"] == network]
        metrics = [key for key, *_ in DYNAMICS_PANELS] + ["activation_std"]
        summary = summarize(mine, ["layer", "epoch"], metrics)
        sub.suptitle(f"{network} ({_seeds(summary, spread=False)})", fontweight="bold")
        axes = sub.subplots(grid_rows, DYNAMICS_COLUMNS, squeeze=False).ravel()
        can_die = not _saturating(network, mine)
        for panel, ax in zip(DYNAMICS_PANELS, axes):
            if panel[0] == "dead_fraction" and not can_die:
                _no_dead_units(ax, network)
            else:
                _dynamics_panel(ax, summary, *panel)
        legend = axes[len(DYNAMICS_PANELS)]
        legend.axis("off")
        legend.legend(*axes[0].get_legend_handles_labels(), loc="center", title="layer")
    return save_png(fig, path)


def _saturating(network, rows):
    """Whether the network's activation saturates rather than dies (sigmoid, tanh)."""
    words = " ".join([str(network), *(str(row.get("activation", "")) for row in rows)]).lower()
    return any(name in words for name in CANNOT_DIE)


def _no_dead_units(ax, network):
    ax.set(title="dead units: ReLU only", xticks=[], yticks=[])
    ax.text(
        0.5,
        0.5,
        "A sigmoid or tanh unit never\noutputs exactly 0, so it cannot\ndie; it saturates "
        "instead\n(see the activations panel).",
        ha="center",
        va="center",
        fontsize=8,
        transform=ax.transAxes,
    )


def _dynamics_panel(ax, summary, key, title, ylabel, log):
    """One figure of the dynamics against the epoch, a line per layer (dodged sideways a
    little, so that error bars of different layers do not hide each other)."""
    layers = sorted({s["layer"] for s in summary})
    scale = 100 if key == "dead_fraction" else 1
    styles = zip(_distinct(len(layers)), MARKERS * len(layers))
    for k, ((color, marker), layer) in enumerate(zip(styles, layers)):
        line = [s for s in summary if s["layer"] == layer and s[f"{key}_mean"] is not None]
        if not line:
            continue
        x = np.array([s["epoch"] for s in line]) + 0.05 * (k - (len(layers) - 1) / 2)
        y = np.array([s[f"{key}_mean"] for s in line]) * scale
        err = [s["activation_std_mean"] for s in line] if key == "activation_mean" else None
        ax.errorbar(
            x, y, yerr=err, fmt=f"{marker}-", ms=4, color=color, capsize=2, label=f"layer {layer}"
        )
    ax.set(title=title, xlabel="epoch", ylabel=ylabel, yscale="log" if log else "linear")
    if key == "dead_fraction":
        ax.set_ylim(0, max(5, ax.get_ylim()[1]))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
