"""Every figure function writes a PNG of its documented size, from rows shaped like a study's."""

import matplotlib.image
import numpy as np
import pytest

from barenet.data.datasets import FASHION_MNIST
from barenet.errors import BarenetError
from barenet.viz import figures

RNG = np.random.default_rng(0)
FASHION = FASHION_MNIST.class_names


def size(path):
    """(width, height) in pixels of a non-empty PNG."""
    assert path.stat().st_size > 0
    height, width = matplotlib.image.imread(path).shape[:2]
    return width, height


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
                    acc = 0.95 - strength * (4 if perturbation == "fgsm" else 1) + 0.01 * seed
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


def test_architecture_figure(tmp_path):
    path = figures.plot_architectures(architecture_rows(), tmp_path / "a.png")
    assert size(path) == (1920, 576)


def test_learning_rate_and_range_test_figures(tmp_path):
    path = figures.plot_learning_rates(learning_rate_rows(), tmp_path / "lr.png")
    assert size(path) == (1800, 576)  # two optimizers and the summary panel
    one = figures.plot_range_test(range_test("sgd"), tmp_path / "r1.png")
    assert size(one) == (840, 576)
    two = figures.plot_range_test([range_test("sgd"), range_test("adam")], tmp_path / "r2.png")
    assert size(two) == (1680, 576)


def test_robustness_figure_puts_fgsm_beside_random_signs(tmp_path):
    path = figures.plot_robustness(robustness_rows(), tmp_path / "r.png")
    assert size(path) == (1800, 504)  # gaussian, shift, FGSM vs random signs: one row of three


def test_dynamics_figure_has_a_row_per_network(tmp_path):
    path = figures.plot_dynamics(dynamics_rows(), tmp_path / "d.png")
    assert size(path) <= (1400, 1e9) and size(path) == (1296, 1536)  # readable in the report


def test_study_figures_refuse_rows_without_a_successful_run(tmp_path):
    with pytest.raises(BarenetError, match="no successful runs"):
        figures.plot_architectures([{"architecture": "x", "error": "boom"}], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


@pytest.fixture
def drawn(monkeypatch):
    """The figures the study functions draw, kept as they are saved, to read their Axes back."""
    kept, save = [], figures._save

    def keep(fig, path):
        kept.append(fig)
        return save(fig, path)

    monkeypatch.setattr(figures, "_save", keep)
    return kept


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
