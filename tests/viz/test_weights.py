"""barenet.viz.weights: what a network has learned, drawn (first-layer weights as images, the
convolution filters, the feature maps of one image)."""

import numpy as np
import pytest

from barenet import NeuralNetwork
from barenet.errors import BarenetError, DataError
from barenet.viz import weights
from tests.viz.helpers import digits, read_png, size

RNG = np.random.default_rng(0)


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


# -- honest scales: what a reader compares by eye ------------------------------------------------


def test_first_layer_weight_tiles_share_one_symmetric_scale_and_a_colour_bar(tmp_path, drawn):
    W = RNG.normal(size=(784, 4))
    W[:, 0] *= 10  # one unit with large weights: the others must look fainter, not the same
    weights.plot_first_layer_weights(W, tmp_path / "w.png", n=4)
    fig = drawn[-1]
    limits = {image.get_clim() for ax in fig.axes for image in ax.get_images()}
    assert limits == {(-np.abs(W).max(), np.abs(W).max())}
    assert fig.axes[-1].get_ylabel() == "weight"  # the colour bar
