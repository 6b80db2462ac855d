"""Every figure function writes a PNG of its documented size, from rows shaped like a study's."""

import matplotlib.image
import numpy as np
import pytest

from barenet import NeuralNetwork, figures
from barenet.data.datasets import FASHION_MNIST
from barenet.errors import BarenetError, DataError

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


@pytest.fixture
def drawn(monkeypatch):
    """The figures the functions draw, kept as they are saved, to read their Axes back."""
    kept, save = [], figures._save

    def keep(fig, path):
        kept.append(fig)
        return save(fig, path)

    monkeypatch.setattr(figures, "_save", keep)
    return kept


def tick_names(axis):
    return [label.get_text() for label in axis.get_ticklabels()]


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


def test_confusion_matrix_and_per_class_figures(tmp_path):
    y_true = RNG.integers(0, 10, 500)
    y_pred = np.where(RNG.random(500) < 0.9, y_true, RNG.integers(0, 10, 500))
    assert size(figures.plot_confusion_matrix(y_true, y_pred, tmp_path / "c.png")) == (840, 720)
    assert size(figures.plot_per_class_metrics(y_true, y_pred, tmp_path / "p.png")) == (1080, 540)


def test_confident_mistakes_grid_and_the_no_mistake_case(tmp_path):
    images = RNG.random((40, 784))
    y_true = np.arange(40) % 10
    probabilities = RNG.dirichlet(np.ones(10), 40)
    path = figures.plot_confident_mistakes(images, y_true, probabilities, tmp_path / "m.png")
    assert size(path) == (768, 900)  # 16 mistakes: 4 x 4 cells of 1.6 x 1.75 in + 0.5 in
    right = np.eye(10)[y_true]
    path = figures.plot_confident_mistakes(images, y_true, right, tmp_path / "none.png")
    assert size(path) == (480, 240)


def test_first_layer_weights_from_a_network_or_a_matrix(tmp_path):
    net = NeuralNetwork(784, [64, 10], 10, seed=0)
    assert size(figures.plot_first_layer_weights(net, tmp_path / "w.png")) == (960, 1032)
    path = figures.plot_first_layer_weights(RNG.random((784, 9)), tmp_path / "w9.png")
    assert size(path) == (360, 432)
    with pytest.raises(
        BarenetError, match="90 first-layer inputs are not a square image"
    ):
        figures.plot_first_layer_weights(RNG.random((90, 9)), tmp_path / "bad.png")
    with pytest.raises(BarenetError, match=r"= 90 first-layer inputs, got \(9, 9\)"):
        figures.plot_first_layer_weights(RNG.random((90, 9)), tmp_path / "bad.png", 9, (9, 9))


def test_first_layer_weights_of_an_8x8_network_are_8x8_images(tmp_path, drawn):
    net = NeuralNetwork(64, [16], 10, seed=0)
    assert size(figures.plot_first_layer_weights(net, tmp_path / "w.png")) == (480, 552)
    images = [ax.get_images()[0].get_array() for ax in drawn[0].axes]
    assert len(images) == 16 and all(image.shape == (8, 8) for image in images)
    np.testing.assert_allclose(images[3], net.named_arrays()["layers.0.W"][:, 3].reshape(8, 8))


def test_first_layer_weights_follow_the_networks_oblong_image_shape(tmp_path, drawn):
    net = NeuralNetwork(60, [4], 10, image_shape=(6, 10), seed=0)
    figures.plot_first_layer_weights(net, tmp_path / "w.png")
    assert drawn[0].axes[0].get_images()[0].get_array().shape == (6, 10)
    W = RNG.random((60, 4))
    figures.plot_first_layer_weights(W, tmp_path / "m.png", image_shape=(10, 6))
    assert drawn[1].axes[0].get_images()[0].get_array().shape == (10, 6)


def test_confusion_matrix_names_the_classes_on_its_ticks(tmp_path, drawn):
    y_true = RNG.integers(0, 10, 300)
    y_pred = np.where(RNG.random(300) < 0.8, y_true, RNG.integers(0, 10, 300))
    path = figures.plot_confusion_matrix(y_true, y_pred, tmp_path / "c.png", class_names=FASHION)
    assert size(path) == (840, 720)
    ax = drawn[0].axes[0]
    assert tick_names(ax.xaxis) == tick_names(ax.yaxis) == list(FASHION)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert ax.get_xticklabels()[7].get_rotation() == 45  # long names are slanted


def test_class_names_come_from_a_network_and_default_to_numbers(tmp_path, drawn):
    net = NeuralNetwork(64, [8], 10, class_names=FASHION, seed=0)
    y = np.arange(10).repeat(3)
    figures.plot_per_class_metrics(y, y, tmp_path / "p.png", class_names=net)
    assert tick_names(drawn[0].axes[0].xaxis) == list(FASHION)
    figures.plot_confusion_matrix(y[:12], y[:12], tmp_path / "c.png")  # labels 0-3 only
    assert tick_names(drawn[1].axes[0].xaxis) == ["0", "1", "2", "3"]
    with pytest.raises(DataError, match="label 12 out of range for 10 classes"):
        figures.plot_confusion_matrix([12], [0], tmp_path / "x.png", class_names=FASHION)


def test_many_classes_get_a_larger_confusion_matrix(tmp_path, drawn):
    names = [f"c{k}" for k in range(30)]
    y = np.arange(30).repeat(2)
    path = figures.plot_confusion_matrix(y, y, tmp_path / "c.png", class_names=names)
    assert size(path) == (1680, 1440)  # twice 7 x 6 inches for twice 15 classes
    assert tick_names(drawn[0].axes[0].yaxis) == names


def test_confident_mistakes_of_8x8_images_are_titled_with_class_names(tmp_path, drawn):
    images, y_true = RNG.random((12, 64)), np.zeros(12, int)
    probabilities = np.full((12, 10), 0.05)
    probabilities[:, 7] = 0.55  # every image: "Sneaker", truly a "T-shirt/top"
    figures.plot_confident_mistakes(
        images, y_true, probabilities, tmp_path / "m.png", class_names=FASHION
    )
    ax = drawn[0].axes[0]
    assert ax.get_images()[0].get_array().shape == (8, 8)
    assert ax.get_title().splitlines()[:2] == ["pred Sneaker", "true T-shirt/top"]


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
    assert size(path) == (2304, 816)


def test_study_figures_refuse_rows_without_a_successful_run(tmp_path):
    with pytest.raises(BarenetError, match="no successful runs"):
        figures.plot_architectures([{"architecture": "x", "error": "boom"}], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
