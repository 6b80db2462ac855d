"""The figures: PNG files of the documented size, red marks on wrong predictions only."""

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

from barenet import NeuralNetwork
from barenet.data.datasets import FASHION_MNIST
from barenet.errors import BarenetError, DataError
from barenet.viz import plots, weights
from barenet.viz.plots import plot_history, plot_predictions

RNG = np.random.default_rng(0)
FASHION = FASHION_MNIST.class_names
HISTORY = {
    "epoch": [1, 2, 3],
    "train_loss": [0.9, 0.5, 0.3],
    "train_accuracy": [0.7, 0.85, 0.9],
    "val_loss": [0.6, 0.45, 0.4],
    "val_accuracy": [0.8, 0.86, 0.88],
}


def read_png(path):
    """(height, width, 4) floats in [0, 1]."""
    assert path.stat().st_size > 0
    return matplotlib.image.imread(path)


def size(path):
    """(width, height) in pixels of a non-empty PNG."""
    height, width = read_png(path).shape[:2]
    return width, height


def tick_names(axis):
    return [label.get_text() for label in axis.get_ticklabels()]


def red_pixels(pixels):
    """Pixels close to the red of misclassified digits (#d62728)."""
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return int(np.count_nonzero((r > 0.7) & (g < 0.3) & (b < 0.3)))


def digits(n):
    """``n`` blocky 28x28 "digits" in [0, 1]: a bright square at a varying place."""
    images = np.zeros((n, 28, 28), np.float32)
    for i in range(n):
        images[i, 4 + i % 10 : 14 + i % 10, 8:20] = 1.0
    return images


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


@pytest.fixture
def drawn(monkeypatch):
    """The figures the functions draw, kept as they are saved, to read their Axes back."""
    kept, save = [], plots._save

    def keep(fig, path):
        kept.append(fig)
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    monkeypatch.setattr(weights, "_save", keep)  # the weight figures save through the same
    return kept


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


def test_first_layer_weights_from_a_network_or_a_matrix(tmp_path):
    net = NeuralNetwork(784, [64, 10], 10, seed=0)
    assert size(weights.plot_first_layer_weights(net, tmp_path / "w.png")) == (1056, 1032)
    path = weights.plot_first_layer_weights(RNG.random((784, 9)), tmp_path / "w9.png")
    assert size(path) == (456, 432)
    with pytest.raises(BarenetError, match="90 first-layer inputs are not a square image"):
        weights.plot_first_layer_weights(RNG.random((90, 9)), tmp_path / "bad.png")
    with pytest.raises(BarenetError, match=r"= 90 first-layer inputs, got \(9, 9\)"):
        weights.plot_first_layer_weights(RNG.random((90, 9)), tmp_path / "bad.png", 9, (9, 9))


def test_first_layer_weights_of_an_8x8_network_are_8x8_images(tmp_path, drawn):
    net = NeuralNetwork(64, [16], 10, seed=0)
    assert size(weights.plot_first_layer_weights(net, tmp_path / "w.png")) == (576, 552)
    tiles = drawn[0].axes[:-1]  # the last axes is the colour bar
    images = [ax.get_images()[0].get_array() for ax in tiles]
    assert len(images) == 16 and all(image.shape == (8, 8) for image in images)
    np.testing.assert_allclose(images[3], net.named_arrays()["layers.0.W"][:, 3].reshape(8, 8))


def test_first_layer_weights_follow_the_networks_oblong_image_shape(tmp_path, drawn):
    net = NeuralNetwork(60, [4], 10, image_shape=(6, 10), seed=0)
    weights.plot_first_layer_weights(net, tmp_path / "w.png")
    assert drawn[0].axes[0].get_images()[0].get_array().shape == (6, 10)
    W = RNG.random((60, 4))
    weights.plot_first_layer_weights(W, tmp_path / "m.png", image_shape=(10, 6))
    assert drawn[1].axes[0].get_images()[0].get_array().shape == (10, 6)


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


# -- inside a convolutional network -----------------------------------------------------------


def small_cnn(line="conv6x3 relu pool2 flatten dense8 relu", input_shape=(28, 28, 1)):
    from barenet.nn import Dense, parse_layers

    return NeuralNetwork.from_layers(
        [*parse_layers(line), Dense(10)], input_shape=input_shape, seed=0
    )


def test_conv_filters_are_one_grey_panel_per_filter_on_one_symmetric_scale(tmp_path, drawn):
    net = small_cnn()
    path = weights.plot_conv_filters(net, tmp_path / "f.png")
    assert size(path) == (288, 360)  # 3 x 3 cells of 0.8 inch plus a 0.6-inch headline
    axes = drawn[0].axes
    images = [image for ax in axes for image in ax.get_images()]
    assert len(axes) == 9 and len(images) == 6  # one image per filter, the rest blank
    W = net.layers[0].W  # (3, 3, 1, 6)
    np.testing.assert_allclose(images[4].get_array(), W[:, :, 0, 4])
    limit = np.abs(W).max()
    for image in images:
        assert image.get_cmap().name == "gray"
        assert image.get_clim() == pytest.approx((-limit, limit))
    assert "conv2d_0: the 6 3 x 3 filters" in drawn[0].get_suptitle()


def test_conv_filters_over_several_channels_show_their_mean_and_n_limits_them(tmp_path, drawn):
    net = small_cnn("conv4x3 relu conv5x2 relu flatten", (10, 10, 3))
    weights.plot_conv_filters(net, tmp_path / "f.png", n=3)
    images = [image for ax in drawn[0].axes for image in ax.get_images()]
    assert len(images) == 3 and len(drawn[0].axes) == 4
    np.testing.assert_allclose(images[2].get_array(), net.layers[0].W[:, :, :, 2].mean(axis=2))
    assert "3 of the 4 3 x 3 filters, mean of 3 input channels" in drawn[0].get_suptitle()


def test_conv_filters_of_a_fully_connected_network_are_refused(tmp_path):
    with pytest.raises(BarenetError, match="needs a network with a Conv2D layer.*dense16"):
        weights.plot_conv_filters(NeuralNetwork(784, [16], 10, seed=0), tmp_path / "f.png")
    with pytest.raises(BarenetError, match="needs a network with a Conv2D layer"):
        weights.plot_conv_filters(RNG.random((3, 3, 1, 4)), tmp_path / "f.png")
    assert not (tmp_path / "f.png").exists()


def test_feature_maps_show_the_image_then_each_conv_and_pool_layers_channels(tmp_path, drawn):
    net = small_cnn("conv10x3 relu pool2 conv3x3 relu avgpool2 flatten dense8 relu")
    image = digits(1)[0]
    path = weights.plot_feature_maps(net, image.ravel(), tmp_path / "m.png", title="one digit")
    assert read_png(path).shape[:2] == size(path)[::-1]
    fig = drawn[0]
    blocks = fig.subfigs
    titles = [sub.get_suptitle() for sub in blocks]
    assert titles == [
        "input: 28 x 28 x 1",
        "conv2d_0 (conv10x3): 26 x 26 x 10",
        "max_pool2d_2 (pool2): 13 x 13 x 10",
        "conv2d_3 (conv3x3): 11 x 11 x 3",
        "avg_pool2d_5 (avgpool2): 5 x 5 x 3",
    ]
    assert fig.get_suptitle() == "one digit"
    panels = [[im for ax in sub.axes for im in ax.get_images()] for sub in blocks]
    assert [len(images) for images in panels] == [1, 10, 10, 3, 3]
    assert [len(sub.axes) for sub in blocks] == [8, 16, 16, 8, 8]  # 8 to a row
    outputs = net.activations(image.reshape(1, 784))
    np.testing.assert_allclose(panels[0][0].get_array(), image)
    np.testing.assert_allclose(panels[1][9].get_array(), outputs["conv2d_0"][0, :, :, 9])
    np.testing.assert_allclose(panels[4][2].get_array(), outputs["avg_pool2d_5"][0, :, :, 2])
    maps = outputs["conv2d_0"][0]  # one colour scale per layer
    assert panels[1][0].get_clim() == pytest.approx((maps.min(), maps.max()))


def test_feature_maps_show_at_most_channels_per_layer_and_check_the_image(tmp_path, drawn):
    net = small_cnn("conv20x5s2 relu flatten")
    weights.plot_feature_maps(net, digits(1), tmp_path / "m.png", channels=12)
    conv = drawn[0].subfigs[1]
    assert conv.get_suptitle() == "conv2d_0 (conv20x5s2): 12 x 12 x 20, first 12 of 20 channels"
    assert len([im for ax in conv.axes for im in ax.get_images()]) == 12
    with pytest.raises(DataError, match=r"one image of 784 values \(28, 28, 1\)"):
        weights.plot_feature_maps(net, digits(2), tmp_path / "two.png")
    with pytest.raises(BarenetError, match="needs a network with convolution or pooling"):
        weights.plot_feature_maps(NeuralNetwork(784, [8], 10, seed=0), digits(1), tmp_path / "x")


def test_first_layer_weights_need_a_first_dense_layer_on_the_pixels(tmp_path, drawn):
    with pytest.raises(BarenetError, match="starts with 'conv6x3'.*use plot_conv_filters"):
        weights.plot_first_layer_weights(small_cnn(), tmp_path / "w.png")
    assert weights.first_layer_weights(small_cnn()) is None
    flat_first = small_cnn("flatten dense9 relu")  # Flatten then Dense: weights per pixel
    weights.plot_first_layer_weights(flat_first, tmp_path / "w.png")
    assert len(drawn[0].axes) == 9 + 1  # nine tiles and the colour bar
    np.testing.assert_allclose(
        drawn[0].axes[2].get_images()[0].get_array(), flat_first.layers[1].W[:, 2].reshape(28, 28)
    )


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


def test_first_layer_weight_tiles_share_one_symmetric_scale_and_a_colour_bar(tmp_path, drawn):
    W = RNG.normal(size=(784, 4))
    W[:, 0] *= 10  # one unit with large weights: the others must look fainter, not the same
    weights.plot_first_layer_weights(W, tmp_path / "w.png", n=4)
    fig = drawn[-1]
    limits = {image.get_clim() for ax in fig.axes for image in ax.get_images()}
    assert limits == {(-np.abs(W).max(), np.abs(W).max())}
    assert fig.axes[-1].get_ylabel() == "weight"  # the colour bar
