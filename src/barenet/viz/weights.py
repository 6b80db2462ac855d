"""Figures of what one network learned: the first layer's weights as images (an MLP) and,
inside a convolutional network, the first convolution's filters and the feature maps of an
image. Drawn like :mod:`barenet.viz.plots`: standalone Agg figures, saved as PNG.
"""

import math

import numpy as np

from barenet import validation as check
from barenet.errors import BarenetError, DataError
from barenet.viz.plots import new_figure, save_png


def plot_first_layer_weights(weights, path, n=64, image_shape=None):
    """The weights into the first ``n`` hidden units, each as an image (red: the unit is
    excited by ink there, blue: inhibited), all on one symmetric colour scale, ``±`` the largest
    weight drawn, shown by a colour bar: a faint tile is a unit with small weights.

    ``weights`` is the ``(pixels, hidden)`` first weight matrix or a network whose first layer
    with parameters is a Dense layer on the pixels (an MLP, or Flatten then Dense; see
    :func:`first_layer_weights`); a convolutional network gets a BarenetError pointing to
    :func:`plot_conv_filters`. Each column is drawn as an image of ``image_shape`` ``(height,
    width)``: by default the network's, or square (28 x 28 for MNIST's 784 inputs, 8 x 8 for
    64). Square grid of 1 inch per unit plus a 0.6-inch headline and 0.8 inch for the colour bar
    (64 units: 1056 x 1032 pixels).
    """
    if image_shape is None:
        image_shape = getattr(weights, "image_shape", None)
    W = weights
    if hasattr(weights, "layers"):
        W = first_layer_weights(weights)
        if W is None:
            raise BarenetError(
                f"plot_first_layer_weights draws a first Dense layer on the pixels; this "
                f"network starts with {weights.describe().split()[0]!r} "
                f"(use plot_conv_filters and plot_feature_maps for convolutions)"
            )
    W = np.asarray(W)
    if W.ndim != 2:
        raise BarenetError(f"first-layer weights must have shape (pixels, units), got {W.shape}")
    height, width = _weight_image_shape(W.shape[0], image_shape)
    images = W.T.reshape(-1, height, width)  # each unit's column of weights is one image
    n = min(n, W.shape[1])
    side = math.ceil(math.sqrt(n))
    fig = new_figure(side + 0.8, side + 0.6)
    fig.suptitle(f"What the first {n} hidden units look for (red +, blue -)", fontsize=12)
    limit = float(np.abs(images[:n]).max()) or 1.0  # one scale for every tile
    axes = fig.subplots(side, side, squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < n:
            image = ax.imshow(images[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.colorbar(image, ax=axes, shrink=0.6, label="weight")
    return save_png(fig, path)


def first_layer_weights(net):
    """The ``(pixels, units)`` weight matrix of ``net``'s first Dense layer when it reads the
    pixels themselves (the first layer with parameters is a Dense layer with one input per
    pixel: an MLP, or Flatten then Dense), else None (a convolution comes first, or batch
    norm, or pooling changed the pixels)."""
    for layer in net.layers:
        if getattr(layer, "params", None):
            if layer.kind == "dense" and layer.W.shape[0] == net.input_size:
                return layer.W
            return None
    return None


# -- inside a convolutional network ----------------------------------------------------------------

FEATURE_KINDS = ("conv2d", "max_pool2d", "avg_pool2d")  # layers whose outputs are images
MAX_COLUMNS = 8  # feature maps per row of a layer's block


def first_conv_layer(net):
    """``(name, layer)`` of ``net``'s first Conv2D layer (``"conv2d_0"``...), or None."""
    for name, layer in zip(net.layer_names(), net.layers):
        if layer.kind == "conv2d":
            return name, layer
    return None


def plot_conv_filters(net, path, n=64):
    """The first convolution's filters, up to ``n`` of them, each as a small grey image of
    ``kh x kw`` weights: white pixels weigh the input up, black ones down, mid-grey is zero, on
    one colour scale symmetric about zero shared by all filters, so that they compare. A filter
    over several input channels (``c_in > 1``) is drawn as the mean of its channels, which the
    headline says. ``net`` is a network with a Conv2D layer (BarenetError otherwise). Square
    grid of 0.8 inch per filter plus a 0.6-inch headline (8 filters: 3 x 3 cells, 288 x 360
    pixels). Returns ``path`` as a Path.
    """
    found = first_conv_layer(net) if hasattr(net, "layers") else None
    if found is None:
        described = net.describe() if hasattr(net, "describe") else type(net).__name__
        raise BarenetError(
            f"plot_conv_filters needs a network with a Conv2D layer; this one is {described!r} "
            "(use plot_first_layer_weights for a fully connected network)"
        )
    name, layer = found
    W = np.asarray(layer.W, dtype=np.float64)  # (kh, kw, c_in, filters)
    kh, kw, c_in, filters = W.shape
    images = W.mean(axis=2).transpose(2, 0, 1)  # (filters, kh, kw): mean over input channels
    n = min(int(n), filters)
    if n < 1:
        raise DataError(f"nothing to plot: n must be >= 1, got {n}")
    limit = float(np.abs(images[:n]).max()) or 1.0
    side = math.ceil(math.sqrt(n))
    fig = new_figure(0.8 * side, 0.8 * side + 0.6)
    channels = f", mean of {c_in} input channels" if c_in > 1 else ""
    shown = f"{n} of the {filters}" if n < filters else f"the {filters}"
    fig.suptitle(
        f"{name}: {shown} {kh} x {kw} filters{channels}\n(white +, black -, grey 0)",
        fontsize=10,
    )
    for k, ax in enumerate(fig.subplots(side, side, squeeze=False).ravel()):
        ax.axis("off")
        if k < n:
            ax.imshow(images[k], cmap="gray", vmin=-limit, vmax=limit, interpolation="nearest")
    return save_png(fig, path)


def plot_feature_maps(net, image, path, channels=16, title=None):
    """What a convolutional network makes of one ``image``: the image, then the output of each
    convolution and pooling layer, one block of rows per layer titled with the layer's name,
    its word in :meth:`~barenet.NeuralNetwork.describe` and its output shape
    (``conv2d_0 (conv8x3): 26 x 26 x 8``), one grey image per channel, up to ``channels`` of
    them, 8 to a row. Convolutions are shown before their activation, as the layer gives them;
    within a layer all channels share one colour scale (black: its lowest value, white: its
    highest), so that strong and weak channels compare.

    ``image`` is one input of ``net``: a flat row of ``net.input_size`` pixels, or an array of
    ``net.input_shape`` (or ``(height, width)``). ``net`` must have a convolution or pooling
    layer (BarenetError otherwise). ``title`` replaces the headline. Each block is 1 inch per
    image across and down plus 0.35 inch for its title. Returns ``path`` as a Path.
    """
    image = np.asarray(image, dtype=net.dtype)
    if image.size != net.input_size:
        raise DataError(
            f"plot_feature_maps draws one image of {net.input_size} values "
            f"{tuple(net.input_shape)}, got an array of shape {image.shape}"
        )
    words = net.describe().split()
    outputs = net.activations(image.reshape(1, -1))
    blocks = [
        (f"{name} ({word})", outputs[name][0])
        for name, word, layer in zip(net.layer_names(), words, net.layers)
        if layer.kind in FEATURE_KINDS
    ]
    if not blocks:
        raise BarenetError(
            f"plot_feature_maps needs a network with convolution or pooling layers; this one is "
            f"{net.describe()!r}"
        )
    height, width = net.input_shape[:2] if len(net.input_shape) == 3 else net.image_shape
    picture = image.reshape(height, width, -1)
    blocks.insert(0, ("input", picture))
    shapes = [min(block.shape[2], channels) for _, block in blocks]
    rows = [math.ceil(count / MAX_COLUMNS) for count in shapes]
    cols = min(max(shapes), MAX_COLUMNS)
    fig = new_figure(cols, sum(rows) + 0.35 * len(blocks) + 0.5)
    fig.suptitle(title or "Feature maps of one image, layer by layer", fontsize=12)
    subfigures = fig.subfigures(len(blocks), 1, height_ratios=[r + 0.35 for r in rows])
    for sub, (label, maps), count, n_rows in zip(subfigures, blocks, shapes, rows):
        shape = " x ".join(map(str, maps.shape))
        total = maps.shape[2]
        more = f", first {count} of {total} channels" if count < total else ""
        sub.suptitle(f"{label}: {shape}{more}", fontsize=9)
        low, high = float(maps[..., :count].min()), float(maps[..., :count].max())
        if high <= low:
            high = low + 1.0
        for k, ax in enumerate(sub.subplots(n_rows, cols, squeeze=False).ravel()):
            ax.axis("off")
            if k < count:
                ax.imshow(maps[..., k], cmap="gray", vmin=low, vmax=high, interpolation="nearest")
    return save_png(fig, path)


def _weight_image_shape(n_inputs, image_shape):
    """``(height, width)`` of the image each unit's ``n_inputs`` weights form."""
    return tuple(check.image_shape(image_shape, n_inputs, True, "first-layer inputs"))
