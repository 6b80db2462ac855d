"""barenet.viz.plots: PNG files of the documented size, red marks on wrong predictions only
(the weight figures are in test_weights.py)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from barenet import NeuralNetwork
from barenet.data.datasets import FASHION_MNIST
from barenet.errors import BarenetError, DataError
from barenet.viz import plots
from barenet.viz.plots import plot_history, plot_predictions
from tests.viz.helpers import digits, read_png, size, tick_names

RNG = np.random.default_rng(0)
FASHION = FASHION_MNIST.class_names
HISTORY = {
    "epoch": [1, 2, 3],
    "train_loss": [0.9, 0.5, 0.3],
    "train_accuracy": [0.7, 0.85, 0.9],
    "val_loss": [0.6, 0.45, 0.4],
    "val_accuracy": [0.8, 0.86, 0.88],
}


def red_pixels(pixels):
    """Pixels close to the red of misclassified digits (#d62728)."""
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return int(np.count_nonzero((r > 0.7) & (g < 0.3) & (b < 0.3)))


def test_history_figure_is_a_1320x540_png(tmp_path):
    path = plot_history(HISTORY, tmp_path / "history.png")
    assert path == tmp_path / "history.png"
    assert read_png(path).shape == (540, 1320, 4)


def test_history_without_validation_and_with_one_epoch(tmp_path):
    history = {"train_loss": [0.5], "train_accuracy": [0.9]}
    path = plot_history(history, tmp_path / "sub" / "one.png")  # the folder is created
    assert read_png(path).shape == (540, 1320, 4)


def test_empty_history_is_refused(tmp_path):
    with pytest.raises(BarenetError, match="no epochs"):
        plot_history({}, tmp_path / "h.png")
    assert not (tmp_path / "h.png").exists()


def test_prediction_grid_size_follows_the_number_of_digits(tmp_path):
    images, labels = digits(30), np.arange(30) % 10
    # 25 digits: 5x5 cells of 1.6 x 1.75 inches plus a 0.5-inch title, at 120 dpi.
    path = plot_predictions(images, labels, labels, tmp_path / "grid.png")
    assert read_png(path).shape == (1110, 960, 4)
    # 6 digits: 3 columns, 2 rows.
    path = plot_predictions(images, labels, labels, tmp_path / "six.png", n=6)
    assert read_png(path).shape == (480, 576, 4)


def test_only_misclassified_digits_are_marked_red(tmp_path):
    images, labels = digits(9), np.arange(9)
    right = read_png(plot_predictions(images, labels, labels, tmp_path / "right.png"))
    wrong_pred = labels.copy()
    wrong_pred[4] = 7
    wrong = read_png(plot_predictions(images, labels, wrong_pred, tmp_path / "wrong.png"))
    assert red_pixels(right) == 0
    # A frame of 3 points around a 1.6-inch cell is hundreds of red pixels.
    assert red_pixels(wrong) > 300


def test_flat_and_square_images_draw_the_same_figure(tmp_path):
    images, labels = digits(4), np.arange(4)
    probabilities = np.full((4, 10), 0.05)
    probabilities[np.arange(4), labels] = 0.55
    square = plot_predictions(
        images, labels, labels, tmp_path / "a.png", probabilities=probabilities
    )
    flat = plot_predictions(
        images.reshape(4, 784), labels, labels, tmp_path / "b.png", probabilities=[0.55] * 4
    )
    np.testing.assert_array_equal(read_png(square), read_png(flat))


def test_8x8_images_are_drawn_as_8x8_from_flat_rows(tmp_path, drawn):
    images, labels = np.random.default_rng(0).random((4, 8, 8)), np.arange(4)
    flat = read_png(plot_predictions(images.reshape(4, 64), labels, labels, tmp_path / "f.png"))
    square = read_png(plot_predictions(images, labels, labels, tmp_path / "s.png"))
    np.testing.assert_array_equal(flat, square)
    assert flat.shape == (480, 384, 4)  # 2 x 2 cells, as for 28 x 28 images
    np.testing.assert_array_equal(drawn[0].axes[3].get_images()[0].get_array(), images[3])


def test_oblong_images_follow_image_shape(tmp_path, drawn):
    images, labels = np.random.default_rng(0).random((3, 6, 10)), np.arange(3)
    plot_predictions(images.reshape(3, 60), labels, labels, tmp_path / "o.png", image_shape=(6, 10))
    np.testing.assert_array_equal(drawn[0].axes[2].get_images()[0].get_array(), images[2])


def test_titles_name_the_classes_of_a_network(tmp_path, drawn):
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"]
    names += ["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    net = NeuralNetwork(64, [4], 10, class_names=names, seed=0)
    images = np.zeros((2, 64))
    plot_predictions(images, [7, 1], [7, 8], tmp_path / "n.png", class_names=net)
    right, wrong = drawn[0].axes[:2]
    assert right.get_title() == "pred Sneaker\ntrue Sneaker"
    assert wrong.get_title() == "pred Bag\ntrue Trouser"
    plot_predictions(images, [7, 1], [7, 8], tmp_path / "d.png")  # no names: the numbers
    assert drawn[1].axes[1].get_title() == "pred 8 (true 1)"
    with pytest.raises(DataError, match="label 7 has no name among the 3 class names"):
        plot_predictions(images, [7, 1], [7, 1], tmp_path / "x.png", class_names=["a", "b", "c"])


def test_figures_do_not_stay_open_in_pyplot(tmp_path):
    before = plt.get_fignums()
    plot_history(HISTORY, tmp_path / "h.png")
    plot_predictions(digits(2), [0, 1], [0, 1], tmp_path / "p.png")
    assert plt.get_fignums() == before


@pytest.mark.parametrize(
    "images, y_pred, probabilities, message",
    [
        (
            np.zeros((3, 10)),
            [0, 1, 2],
            None,
            "10 pixels per row are not a square image: pass image_shape",
        ),
        (
            np.zeros((3, 10, 10, 1)),
            [0, 1, 2],
            None,
            r"must be \(n, height, width\) or \(n, pixels\), got \(3, 10, 10, 1\)",
        ),
        (np.zeros((3, 784)), [0, 1], None, "3 images but 3 true labels and 2 predictions"),
        (np.zeros((3, 784)), [0, 1, 2], np.ones(2), "probabilities must have shape"),
    ],
)
def test_bad_prediction_inputs_are_refused(tmp_path, images, y_pred, probabilities, message):
    with pytest.raises(DataError, match=message):
        plot_predictions(images, [0, 1, 2], y_pred, tmp_path / "p.png", probabilities=probabilities)


def test_an_image_shape_that_does_not_fit_is_refused(tmp_path):
    images, labels = np.zeros((3, 64)), [0, 1, 2]
    with pytest.raises(
        DataError, match=r"\(3, 64\) are neither \(n, 6, 10\) images nor \(n, 60\) rows"
    ):
        plot_predictions(images, labels, labels, tmp_path / "p.png", image_shape=(6, 10))


# -- what a trained network gets right and wrong ---------------------------------------------------


def test_confusion_matrix_and_per_class_figures(tmp_path):
    y_true = RNG.integers(0, 10, 500)
    y_pred = np.where(RNG.random(500) < 0.9, y_true, RNG.integers(0, 10, 500))
    assert size(plots.plot_confusion_matrix(y_true, y_pred, tmp_path / "c.png")) == (840, 720)
    assert size(plots.plot_per_class_metrics(y_true, y_pred, tmp_path / "p.png")) == (1080, 540)


def test_confident_mistakes_grid_and_the_no_mistake_case(tmp_path):
    images = RNG.random((40, 784))
    y_true = np.arange(40) % 10
    probabilities = RNG.dirichlet(np.ones(10), 40)
    path = plots.plot_confident_mistakes(images, y_true, probabilities, tmp_path / "m.png")
    assert size(path) == (768, 900)  # 16 mistakes: 4 x 4 cells of 1.6 x 1.75 in + 0.5 in
    right = np.eye(10)[y_true]
    path = plots.plot_confident_mistakes(images, y_true, right, tmp_path / "none.png")
    assert size(path) == (480, 240)


def test_confusion_matrix_names_the_classes_on_its_ticks(tmp_path, drawn):
    y_true = RNG.integers(0, 10, 300)
    y_pred = np.where(RNG.random(300) < 0.8, y_true, RNG.integers(0, 10, 300))
    path = plots.plot_confusion_matrix(y_true, y_pred, tmp_path / "c.png", class_names=FASHION)
    assert size(path) == (840, 720)
    ax = drawn[0].axes[0]
    assert tick_names(ax.xaxis) == tick_names(ax.yaxis) == list(FASHION)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert ax.get_xticklabels()[7].get_rotation() == 45  # long names are slanted


def test_class_names_come_from_a_network_and_default_to_numbers(tmp_path, drawn):
    net = NeuralNetwork(64, [8], 10, class_names=FASHION, seed=0)
    y = np.arange(10).repeat(3)
    plots.plot_per_class_metrics(y, y, tmp_path / "p.png", class_names=net)
    assert tick_names(drawn[0].axes[0].xaxis) == list(FASHION)
    plots.plot_confusion_matrix(y[:12], y[:12], tmp_path / "c.png")  # labels 0-3 only
    assert tick_names(drawn[1].axes[0].xaxis) == ["0", "1", "2", "3"]
    with pytest.raises(DataError, match="label 12 out of range for 10 classes"):
        plots.plot_confusion_matrix([12], [0], tmp_path / "x.png", class_names=FASHION)


def test_many_classes_get_a_larger_confusion_matrix(tmp_path, drawn):
    names = [f"c{k}" for k in range(30)]
    y = np.arange(30).repeat(2)
    path = plots.plot_confusion_matrix(y, y, tmp_path / "c.png", class_names=names)
    assert size(path) == (1680, 1440)  # twice 7 x 6 inches for twice 15 classes
    assert tick_names(drawn[0].axes[0].yaxis) == names


def test_confident_mistakes_of_8x8_images_are_titled_with_class_names(tmp_path, drawn):
    images, y_true = RNG.random((12, 64)), np.zeros(12, int)
    probabilities = np.full((12, 10), 0.05)
    probabilities[:, 7] = 0.55  # every image: "Sneaker", truly a "T-shirt/top"
    plots.plot_confident_mistakes(
        images, y_true, probabilities, tmp_path / "m.png", class_names=FASHION
    )
    ax = drawn[0].axes[0]
    assert ax.get_images()[0].get_array().shape == (8, 8)
    assert ax.get_title().splitlines()[:2] == ["pred Sneaker", "true T-shirt/top"]


# -- honest scales: what a reader compares by eye -------------------------------------------------


def test_per_class_bars_start_at_zero_and_say_their_values(tmp_path, drawn):
    y_true = np.repeat(np.arange(10), 20)
    y_pred = y_true.copy()
    y_pred[:2] = 1  # class 0's recall is 90%, the others 100%
    plots.plot_per_class_metrics(y_true, y_pred, tmp_path / "p.png")
    (ax,) = drawn[-1].axes
    assert ax.get_ylim()[0] == 0  # a bar's length is its value: 90% is 90% of 100%
    labels = [text.get_text() for text in ax.texts]
    assert "90" in labels and labels.count("100") >= 18


def test_confusion_matrix_has_a_labelled_colour_bar_with_its_power_scale(tmp_path, drawn):
    y = np.arange(50) % 5
    plots.plot_confusion_matrix(y, y, tmp_path / "c.png")
    matrix, bar = drawn[-1].axes
    assert "power scale" in bar.get_ylabel()
    assert tick_names(bar.yaxis) == ["0%", "1%", "5%", "20%", "50%", "100%"]
