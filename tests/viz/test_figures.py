"""barenet.viz.figures: every study figure writes a PNG of its documented size, from rows shaped
like a study's, and plots what the rows hold: the figures are read back (their lines, error bars,
titles, labels and legends) and compared with means and spreads computed here from the rows."""

import numpy as np
import pytest

from barenet.errors import BarenetError
from barenet.experiments.learning_rates import centred_average
from barenet.experiments.perturbations import PERTURBATIONS
from barenet.viz import figures
from tests.viz.helpers import size, tick_names


def history(epochs=3, start=0.8):
    val = list(np.linspace(start, start + 0.1, epochs))
    return {"val_accuracy": val, "train_loss": list(np.linspace(1, 0.3, epochs))}


def architecture_rows():
    return [
        {
            "architecture": name,
            "hidden_sizes": hidden,
            "seed": seed,
            "n_parameters": params,
            "test_accuracy": acc + 0.01 * seed,
            "train_time": 2.0 * params / 1e5 + seed,
            "history": history(start=acc - 0.1),
        }
        for name, hidden, params, acc in (
            ("784-64-10", [64], 50890, 0.95),
            ("784-256-10", [256], 203530, 0.97),
        )
        for seed in (0, 1)
    ] + [{"architecture": "784-8-10", "seed": 0, "error": "boom"}]


def learning_rate_rows():
    return [
        {
            "optimizer": optimizer,
            "learning_rate": rate,
            "seed": 0,
            "best_val_accuracy": 0.9 - abs(np.log10(rate) - best) / 10,
            "diverged": rate > 0.5,
            "history": history(start=0.8 - abs(np.log10(rate) - best) / 10),
        }
        for optimizer, best in (("sgd", -1), ("adam", -3))
        for rate in (10.0**best / 10, 10.0**best, 10.0**best * 10)
    ]


def range_test(optimizer):
    rates = list(np.logspace(-5, 1, 50))
    losses = [2.3 - 1.5 * np.exp(-((np.log10(r) + 1) ** 2)) for r in rates]
    return {
        "optimizer": optimizer,
        "learning_rates": rates,
        "losses": losses,
        "smoothed_losses": losses,
        "min_loss_learning_rate": 0.1,
        "suggested_learning_rate": 0.01,
    }


def robustness_rows():
    rows = []
    for training in ("plain", "noise σ=0.3"):
        for perturbation in ("gaussian", "shift", "random_sign", "fgsm"):
            for strength in (0, 0.1, 0.2):
                for seed in (0, 1):
                    drop = strength * (4 if perturbation == "fgsm" else 1)
                    drop /= 2 if training != "plain" else 1  # noise in training: half the loss
                    acc = 0.95 - drop + 0.01 * seed
                    rows.append(
                        {
                            "training": training,
                            "seed": seed,
                            "perturbation": perturbation,
                            "strength": strength,
                            "accuracy": acc,
                        }
                    )
    return rows


def dynamics_rows():
    rows = []
    for network, layers in (("ReLU 784-32-10", 2), ("sigmoid 784-3x32-10", 4)):
        for epoch in range(3):
            for layer in range(1, layers + 1):
                hidden = layer < layers
                rows.append(
                    {
                        "network": network,
                        "seed": 0,
                        "epoch": epoch,
                        "layer": layer,
                        "grad_norm": 10.0 ** (layer - layers),
                        "weight_norm": 10.0 - layer,
                        "update_ratio": None if epoch == 0 else 0.1 / epoch,
                        "dead_fraction": 0.02 * epoch if hidden else None,
                        "activation_mean": 0.5 if hidden else None,
                        "activation_std": 0.2 if hidden else None,
                    }
                )
    return rows


def mean_std(values):
    """Mean and sample standard deviation: what a point and its error bar stand for."""
    return np.mean(values), np.std(values, ddof=1)


def by_label(ax):
    """The lines of ``ax`` by their legend label."""
    return {line.get_label(): line for line in ax.lines}


def points(bars):
    """The (x, y) markers of one ``errorbar`` call, as an (n, 2) array."""
    return bars.lines[0].get_xydata()


def error_bars(bars):
    """The ends of one ``errorbar`` call's bars: {"x": (n, 2) lows and highs, "y": ...}."""
    ends = {}
    for collection in bars.lines[2]:
        segments = np.array(collection.get_segments())  # (n, 2 ends, (x, y))
        horizontal = np.allclose(segments[:, 0, 1], segments[:, 1, 1])
        ends["x" if horizontal else "y"] = segments[:, :, 0 if horizontal else 1]
    return ends


def test_architecture_figure(tmp_path, drawn):
    rows = architecture_rows()
    path = figures.plot_architectures(rows, tmp_path / "a.png")
    assert size(path) == (1920, 576)
    fig = drawn[-1]
    size_ax, time_ax, curve_ax = fig.axes
    ran = ["784-64-10", "784-256-10"]  # 784-8-10 failed: no point, no curve, no legend entry
    assert [text.get_text() for text in fig.legends[0].get_texts()] == ran
    assert fig.get_suptitle() == "Architecture comparison (mean ± std over 2 seeds)"
    for name, on_size, on_time in zip(ran, size_ax.containers, time_ax.containers, strict=True):
        mine = [row for row in rows if row["architecture"] == name]
        acc, acc_std = mean_std([100 * row["test_accuracy"] for row in mine])
        seconds, seconds_std = mean_std([row["train_time"] for row in mine])
        np.testing.assert_allclose(points(on_size), [[mine[0]["n_parameters"], acc]])
        np.testing.assert_allclose(error_bars(on_size)["y"], [[acc - acc_std, acc + acc_std]])
        np.testing.assert_allclose(points(on_time), [[seconds, acc]])
        np.testing.assert_allclose(
            error_bars(on_time)["x"], [[seconds - seconds_std, seconds + seconds_std]]
        )
        curve = by_label(curve_ax)[name]
        np.testing.assert_array_equal(curve.get_xdata(), [1, 2, 3])
        curves = [row["history"]["val_accuracy"] for row in mine]
        np.testing.assert_allclose(curve.get_ydata(), 100 * np.mean(curves, axis=0))
    assert size_ax.get_xlabel() == "trainable parameters (log scale)"
    assert size_ax.get_ylabel() == time_ax.get_ylabel() == "test accuracy (%)"
    assert time_ax.get_xlabel() == "training time (s, log scale)"
    assert curve_ax.get_ylabel() == "validation accuracy (%)"
    assert {"50k", "200k"} <= set(tick_names(size_ax.xaxis))  # counts as a reader says them


def test_learning_rate_and_range_test_figures(tmp_path, drawn):
    rows = learning_rate_rows()
    path = figures.plot_learning_rates(rows, tmp_path / "lr.png")
    assert size(path) == (1800, 576)  # two optimizers and the summary panel
    fig = drawn[-1]
    *panels, final = fig.axes
    for ax, optimizer in zip(panels, ("sgd", "adam"), strict=True):
        assert ax.get_title() == f"{optimizer}: validation accuracy per rate"
        mine = [row for row in rows if row["optimizer"] == optimizer]
        lines = by_label(ax)
        assert list(lines) == [f"lr {row['learning_rate']:g}" for row in mine]  # rising rates
        for row in mine:
            line = lines[f"lr {row['learning_rate']:g}"]
            expected = 100 * np.array(row["history"]["val_accuracy"])
            np.testing.assert_allclose(line.get_ydata(), expected)
            assert line.get_linestyle() == ("--" if row["diverged"] else "-")
        # The last panel: the final epoch's accuracy against the rate, a line per optimizer.
        (bars,) = [bars for bars in final.containers if bars.get_label() == optimizer]
        expected = [[r["learning_rate"], 100 * r["history"]["val_accuracy"][-1]] for r in mine]
        np.testing.assert_allclose(points(bars), expected)
    (cross,) = [line for line in final.lines if line.get_marker() == "x"]
    assert cross.get_label() == "sgd: diverged" and list(cross.get_xdata()) == [1.0]
    assert (final.get_xscale(), final.get_xlabel()) == ("log", "learning rate (log scale)")
    assert fig.get_suptitle() == "Learning rates (one run each; dashed: the loss diverged)"

    result = range_test("sgd")
    one = figures.plot_range_test(result, tmp_path / "r1.png")
    assert size(one) == (840, 576)
    (ax,) = drawn[-1].axes
    lines = by_label(ax)
    np.testing.assert_allclose(lines["loss per batch"].get_xdata(), result["learning_rates"])
    np.testing.assert_allclose(lines["loss per batch"].get_ydata(), result["losses"])
    smooth = centred_average(result["losses"])
    np.testing.assert_allclose(lines["centred average"].get_ydata(), smooth)
    lowest = result["learning_rates"][int(np.argmin(smooth))]
    np.testing.assert_allclose(lines[f"lowest average at {lowest:.2g}"].get_xdata(), [lowest] * 2)
    np.testing.assert_allclose(lines["suggested rate 0.01"].get_xdata(), [0.01, 0.01])
    assert ax.get_title() == "Learning-rate range test: sgd"
    assert (ax.get_xscale(), ax.get_ylabel()) == ("log", "training loss")
    two = figures.plot_range_test([range_test("sgd"), range_test("adam")], tmp_path / "r2.png")
    assert size(two) == (1680, 576)
    titles = [ax.get_title() for ax in drawn[-1].axes]
    assert titles == ["Learning-rate range test: sgd", "Learning-rate range test: adam"]


def test_robustness_figure_puts_fgsm_beside_random_signs(tmp_path, drawn):
    rows = robustness_rows()
    path = figures.plot_robustness(rows, tmp_path / "r.png")
    assert size(path) == (1800, 504)  # gaussian, shift, FGSM vs random signs: one row of three
    fig = drawn[-1]
    assert fig.get_suptitle() == "Accuracy on damaged test images (mean ± std over 2 seeds)"
    panels = {  # title: {label prefix: perturbation}
        "Gaussian noise": {"": "gaussian"},
        "shift": {"": "shift"},
        "FGSM attack vs random signs of the same size": {"random signs, ": "random_sign"},
    }
    panels["FGSM attack vs random signs of the same size"]["FGSM, "] = "fgsm"
    assert [ax.get_title() for ax in fig.axes] == list(panels)
    for ax, lines in zip(fig.axes, panels.values(), strict=True):
        assert ax.get_xlabel() == PERTURBATIONS[list(lines.values())[-1]].strength_label
        assert ax.get_ylim() == (0, 100)
        labels = []
        for prefix, perturbation in lines.items():
            for training in ("plain", "noise σ=0.3"):
                labels.append(prefix + training)
                line = by_label(ax)[prefix + training]
                mine = [
                    r
                    for r in rows
                    if (r["perturbation"], r["training"]) == (perturbation, training)
                ]
                strengths = sorted({r["strength"] for r in mine})
                accuracy = [
                    100 * np.mean([r["accuracy"] for r in mine if r["strength"] == strength])
                    for strength in strengths
                ]
                np.testing.assert_allclose(line.get_xdata(), strengths)
                np.testing.assert_allclose(line.get_ydata(), accuracy)
                assert line.get_linestyle() == ("--" if perturbation == "random_sign" else "-")
        assert [text.get_text() for text in ax.get_legend().get_texts()] == labels


def test_dynamics_figure_has_a_row_per_network(tmp_path, drawn):
    rows = dynamics_rows()
    path = figures.plot_dynamics(rows, tmp_path / "d.png")
    assert size(path) <= (1400, 1e9) and size(path) == (1296, 1536)  # readable in the report
    panels = {  # title: (the rows' key, scale)
        "gradient norm": ("grad_norm", 1),
        "weight norm": ("weight_norm", 1),
        "update / weight": ("update_ratio", 1),
        "dead units": ("dead_fraction", 100),
        "activations": ("activation_mean", 1),
    }
    subs = drawn[-1].subfigs
    for sub, network in zip(subs, ("ReLU 784-32-10", "sigmoid 784-3x32-10"), strict=True):
        assert sub.get_suptitle() == f"{network} (one run each)"
        mine = [row for row in rows if row["network"] == network]
        layers = sorted({row["layer"] for row in mine})
        shown = [ax for ax in sub.axes if ax.get_title() in panels]
        assert len(shown) == (5 if network.startswith("ReLU") else 4)  # sigmoids cannot die
        for ax in shown:
            key, scale = panels[ax.get_title()]
            assert ax.get_xlabel() == "epoch"
            drawn_layers = [
                k for k in layers if any(r[key] is not None for r in mine if r["layer"] == k)
            ]
            assert [bars.get_label() for bars in ax.containers] == [
                f"layer {k}" for k in drawn_layers
            ]
            for bars, layer in zip(ax.containers, drawn_layers, strict=True):
                line = [r for r in mine if r["layer"] == layer and r[key] is not None]
                xy = points(bars)
                np.testing.assert_allclose(xy[:, 0], [r["epoch"] for r in line], atol=0.1)  # dodged
                np.testing.assert_allclose(xy[:, 1], [scale * r[key] for r in line])
                if key == "activation_mean":  # bars of one standard deviation
                    ends = [
                        [r[key] - r["activation_std"], r[key] + r["activation_std"]] for r in line
                    ]
                    np.testing.assert_allclose(error_bars(bars)["y"], ends)
        legend = sub.axes[-1].get_legend()
        assert [text.get_text() for text in legend.get_texts()] == [f"layer {k}" for k in layers]


def test_study_figures_refuse_rows_without_a_successful_run(tmp_path):
    with pytest.raises(BarenetError, match="no successful runs"):
        figures.plot_architectures([{"architecture": "x", "error": "boom"}], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_learning_rate_figure_keeps_bands_in_range_and_shows_the_final_epoch(tmp_path, drawn):
    rows = learning_rate_rows()
    for row in rows:  # two seeds: bands and error bars; the largest rate learns, then collapses
        row["final_val_accuracy"] = 0.1 if row["diverged"] else row["history"]["val_accuracy"][-1]
    rows += [{**row, "seed": 1, "best_val_accuracy": 1.0} for row in rows]
    figures.plot_learning_rates(rows, tmp_path / "lr.png")
    *curves, final = drawn[-1].axes
    for ax in (*curves, final):
        assert ax.get_ylim() == (0, 100.5)
    for ax in curves:
        colors = [tuple(line.get_color()) for line in ax.lines]
        assert len(set(colors)) == len(colors)  # each rate its own colour
    # The last panel plots the final epoch's 10% for the rates that diverged, and crosses them.
    crosses = [line for line in final.lines if line.get_marker() == "x"]
    assert crosses and all(np.allclose(line.get_ydata(), 10) for line in crosses)
    assert "last epoch" in final.get_ylabel()


def test_range_test_smoothing_has_no_lag(tmp_path, drawn):
    rates = np.logspace(-5, 1, 300)
    losses = 2.3 - 1.5 * np.exp(-((np.log10(rates) + 1) ** 2))  # lowest at 0.1, no noise
    result = {**range_test("sgd"), "learning_rates": list(rates), "losses": list(losses)}
    figures.plot_range_test(result, tmp_path / "r.png")
    (ax,) = drawn[-1].axes
    smooth = next(line for line in ax.lines if line.get_label() == "centred average")
    lowest = rates[np.argmin(smooth.get_ydata())]
    assert abs(np.log10(lowest) - np.log10(0.1)) < 0.05  # an EMA at 0.98 puts it near 0.3
    np.testing.assert_allclose(figures.centred_average([1, 2, 3, 4, 5], 3), [1.5, 2, 3, 4, 4.5])


def test_dynamics_names_no_dead_units_for_a_sigmoid_network(tmp_path, drawn):
    figures.plot_dynamics(dynamics_rows(), tmp_path / "d.png")
    relu, sigmoid = drawn[-1].subfigs
    titles = {sub: [ax.get_title() for ax in sub.axes] for sub in (relu, sigmoid)}
    assert "dead units" in titles[relu]
    assert "dead units" not in titles[sigmoid] and "dead units: ReLU only" in titles[sigmoid]
    panel = sigmoid.axes[titles[sigmoid].index("dead units: ReLU only")]
    assert not panel.lines and "cannot" in panel.texts[0].get_text()
    gradients = sigmoid.axes[0]
    styles = {(tuple(line.get_color()), line.get_marker()) for line in gradients.lines}
    assert len(styles) == 4  # four layers, four colours and markers
