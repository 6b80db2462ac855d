"""What happens inside the network for one input: the answer of ``POST /explain``.

For one input ``x`` (the network's flat input row) it gathers, through the network's public
methods and its layers' ``forward`` and ``backward``:

- every layer's output in order, flat, with its per-sample shape (``[H, W, C]`` for the feature
  maps of a convolution) and its name in words (``"Convolution 1: 32 filters 3×3"``);
- the probabilities, the softmax of the last layer's output (the logits), and the verdict on
  them: sure, unsure, or not a digit at all (:mod:`.digits`);
- the saliency: ``d logit_k / d x`` for the most probable class ``k``, the gradient of its score
  with respect to every input pixel.

The layers' outputs and the saliency come from one forward and one backward pass
(:func:`look_inside`), not three passes: with the CNN of ``--model cnn`` that halves the time of
an answer.

Two forms of the same answer: numbers (values rounded to 4 decimals, for people and scripts),
or ``compact`` (what the page asks for): every picture and layer output as bytes, base64, each
on its own scale (:func:`packed`). The MLP of ``barenet train`` answers in 53 kB of numbers,
16 kB compact; the CNN of ``--model cnn`` (288 feature maps) in 450 kB, 106 kB compact.
"""

import base64

import numpy as np
from PIL import Image

from barenet.nn.losses import softmax
from barenet.serve.digits import DigitCheck

# An answer is "unsure" when its probability is under UNSURE_BELOW or the runner-up is within
# UNSURE_MARGIN of it: the page then says so instead of announcing a digit.
UNSURE_BELOW = 0.6
UNSURE_MARGIN = 0.2
# Stages larger than this (the 280x280 drawing) are shrunk for the page: it shows them small.
STEP_SIDE = 56
DECIMALS = 4

# How the page names each kind of layer; numbered by kind ("Convolution 2") where it has weights
# or a size of its own.
KIND_WORDS = {
    "dense": "Dense",
    "conv2d": "Convolution",
    "max_pool2d": "Max pooling",
    "avg_pool2d": "Average pooling",
    "global_avg_pool2d": "Global average pooling",
    "flatten": "Flatten",
    "dropout": "Dropout",
    "batch_norm": "Batch normalisation",
    "layer_norm": "Layer normalisation",
    "relu": "ReLU",
    "leaky_relu": "Leaky ReLU",
    "sigmoid": "Sigmoid",
    "tanh": "tanh",
    "gelu": "GELU",
    "identity": "Identity",
    "self_attention": "Self-attention",
    "residual": "Residual block",
}


class Explainer:
    """Explains the inputs of one network: what :func:`explain` computes, with what depends only
    on the network (the layers' names in words, the digit check) worked out once."""

    def __init__(self, net):
        self.net = net
        self.titles = layer_titles(net)
        self.digit_check = DigitCheck(net)

    def verdict(self, logits, x, prepared=None):
        """The answer's fields for one row of ``logits`` and the input ``x`` it came from
        (``prepared`` from a picture): the class, the probabilities, ``unsure``, and
        ``not_a_digit`` with its reasons."""
        net = self.net
        # As predict_proba computes them: in the network's dtype.
        probabilities = softmax(np.asarray(logits, dtype=net.dtype)[np.newaxis])[0]
        probabilities = probabilities.astype(np.float64)
        logits = np.asarray(logits, dtype=np.float64)
        best = int(np.argmax(probabilities))
        top = float(probabilities[best])
        second = float(np.sort(probabilities)[-2]) if len(probabilities) > 1 else 0.0
        reasons = self.digit_check.reasons(x, logits, prepared)
        return {
            "class_index": best,
            "class_name": net.class_names[best],
            "probability": top,
            "probabilities": probabilities.tolist(),
            "class_names": list(net.class_names),
            "unsure": top < UNSURE_BELOW or top - second < UNSURE_MARGIN,
            "not_a_digit": None if reasons is None else bool(reasons),
            "not_a_digit_reasons": reasons or [],
        }

    def explain(self, x, prepared=None, compact=False):
        """The fields of :class:`~.schemas.Explanation` (of :class:`~.schemas.CompactExplanation`
        when ``compact``) for one flat input ``x``; ``prepared`` (a
        :class:`~barenet.data.framing.Prepared`) adds the stages of a picture."""
        net = self.net
        X = x[np.newaxis].astype(net.dtype, copy=False)
        outputs, gradient = look_inside(net, X)
        logits = next(reversed(outputs.values()))[0]
        answer = self.verdict(logits, x, prepared)
        shape = tuple(net.image_shape) if net.image_shape else (1, net.input_size)
        image = x.reshape(shape)
        picture = _packed_image if compact else _rows
        answer.update(
            input=picture(image),
            steps=_steps(prepared, image, picture),
            layers=[
                {
                    "name": name,
                    "title": title,
                    "kind": layer.kind,
                    "shape": list(layer.output_shape),
                    **({"packed": packed_layer(output[0])} if compact else _values(output[0])),
                }
                for (name, output), layer, title in zip(
                    outputs.items(), net.layers, self.titles, strict=True
                )
            ],
            logits=_flat(logits),
            saliency=packed(gradient.reshape(shape)) if compact else _rows(gradient.reshape(shape)),
            notes=_notes(prepared),
        )
        return answer


def explain(net, x, prepared=None, compact=False):
    """The fields of :class:`~.schemas.Explanation` for one flat input ``x`` of ``net``;
    ``prepared`` (a :class:`~barenet.data.framing.Prepared`) adds the stages of a picture."""
    return Explainer(net).explain(x, prepared, compact)


def look_inside(net, X):
    """``(outputs, saliency)`` for a batch ``X`` of one flat row: every layer's output
    ``{layer name: array (1, *output_shape)}`` in layer order (copies), as
    :meth:`~barenet.NeuralNetwork.activations` gives them, and ``d logit_k / dX`` (shaped as
    ``X``) for the most probable class ``k``, as
    :meth:`~barenet.NeuralNetwork.score_gradient` gives it: one forward pass in prediction mode,
    then one backward pass from a one-hot gradient on the top score."""
    X = net.check_features(X)
    flags = [layer.input_grad for layer in net.layers]
    for layer in net.layers:  # the first layers skip dL/dX in training; here it is the point
        layer.input_grad = True
    try:
        outputs = {}
        Z = X.reshape(len(X), *net.input_shape)
        for name, layer in zip(net.layer_names(), net.layers):
            Z = layer.forward(Z, training=False)
            outputs[name] = Z.copy()  # the layers reuse their buffers
        one_hot = np.zeros_like(Z)
        one_hot[:, int(np.argmax(Z[0]))] = 1
        gradient = net.backward(one_hot).reshape(X.shape).copy()
    finally:
        for layer, flag in zip(net.layers, flags):
            layer.input_grad = flag
    return outputs, gradient


def saliency(net, X, k):
    """``d logit_k / d X`` for a batch ``X`` (flat rows), shaped as ``X``: how much each input
    value raises the score of class ``k`` (:meth:`~barenet.NeuralNetwork.score_gradient`)."""
    return net.score_gradient(X, k)


def layer_titles(net):
    """Each layer of ``net`` in words, as the page heads it: ``"Convolution 1: 32 filters 3×3"``,
    ``"ReLU"``, ``"Max pooling 1: 2×2"``, ``"Dense 2: 10 units, one score per class"``."""
    counts, titles = {}, []
    last = len(net.layers) - 1
    for i, layer in enumerate(net.layers):
        config = layer.config()
        kind = config["kind"]
        words = KIND_WORDS.get(kind, kind.replace("_", " ").capitalize())
        counts[kind] = counts.get(kind, 0) + 1
        detail = _detail(config, layer)
        if detail is None:
            titles.append(words)
            continue
        title = f"{words} {counts[kind]}: {detail}" if detail else f"{words} {counts[kind]}"
        if i == last and kind == "dense":
            title += ", one score per class"
        titles.append(title)
    return titles


def _detail(config, layer):
    """What sets one layer apart from others of its kind, in a few words; None for a layer that
    has nothing of its own (an activation, flatten), which is then not numbered."""
    kind = config["kind"]
    if kind == "dense":
        return f"{config['units']} units"
    if kind == "conv2d":
        words = f"{config['filters']} filters {_size(config['kernel_size'])}"
        if config.get("stride") not in (None, 1, [1, 1], (1, 1)):
            words += f", stride {_size(config['stride'])}"
        if config.get("padding") == "same":
            words += ", padded to keep the size"
        return words
    if kind in ("max_pool2d", "avg_pool2d"):
        return _size(config["pool_size"])
    if kind == "dropout":
        return f"{config['rate']:.0%} while training"
    return None


def _size(value):
    if isinstance(value, (list, tuple)):
        return "×".join(map(str, value))
    return f"{value}×{value}"


def _steps(prepared, image, picture):
    """The stages of a picture, each ``{"name", "image"}``; for pixel values sent as JSON,
    which are not prepared, only the input."""
    seen = {"name": "what the network sees", "image": picture(image)}
    if prepared is None:
        return [seen]
    height, width = prepared.centred.shape
    box = f"{prepared.box}×{prepared.box}"
    placed = (
        f"centred in {height}×{width}"
        if prepared.framing.fill
        else f"centred by its centre of mass in {height}×{width}"
    )
    return [
        {"name": "the picture", "image": picture(_small(prepared.picture))},
        {"name": "cropped to the digit", "image": picture(_small(prepared.cropped))},
        {"name": f"fitted into {box}", "image": picture(prepared.fitted)},
        {"name": placed, "image": picture(prepared.centred)},
        seen,
    ]


def _notes(prepared):
    """What preprocessing changed or noticed, in words, for the page to show."""
    if prepared is None:
        return []
    notes = list(prepared.notes)
    if prepared.small:
        notes.append(
            f"small drawing: the digit spans {prepared.ink_fraction:.0%} of the picture; "
            "draw it bigger to be read more reliably"
        )
    return notes


def _small(image, side=STEP_SIDE):
    """``image`` shrunk (by averaging) so its larger side is at most ``side`` pixels."""
    height, width = image.shape
    scale = side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    picture = Image.fromarray(image.astype(np.float32, copy=False))
    return np.asarray(picture.resize(size, Image.Resampling.BOX))


# -- the two forms: numbers, or bytes ------------------------------------------------------------


def packed(values, scale=None):
    """``{"shape", "scale", "signed", "data"}``: ``values`` as one byte each, base64-encoded.

    Non-negative values become unsigned bytes, ``value = byte / 255 * scale``; any negative
    value makes them all signed bytes, ``value = byte / 127 * scale``. ``scale`` is the largest
    absolute value unless given (1 for a picture in [0, 1], so that faint ink stays faint). The
    page colours each value by ``value / scale``, which bytes keep to within 1/254.
    """
    values = np.asarray(values, dtype=np.float32)
    if scale is None:
        scale = float(np.abs(values).max()) if values.size else 0.0
    signed = bool((values < 0).any())
    top = 127 if signed else 255
    if scale > 0:
        quantised = np.rint(np.clip(values / np.float32(scale), -1, 1) * top)
    else:
        quantised = np.zeros(values.shape)
    data = quantised.astype(np.int8 if signed else np.uint8).tobytes()
    return {
        "shape": list(values.shape),
        "scale": float(scale),
        "signed": signed,
        "data": base64.b64encode(data).decode("ascii"),
    }


def packed_layer(output):
    """One sample's layer output, packed; feature maps ``(H, W, C)`` map after map, as
    ``(C, H, W)``, so that each map is one run of bytes for the page."""
    if output.ndim == 3:
        output = np.moveaxis(output, -1, 0)
    return packed(output)


def _packed_image(image):
    return packed(image, scale=1.0)


def _values(output):
    return {"values": _flat(output)}


def _rows(image):
    return np.round(np.asarray(image, dtype=np.float64), DECIMALS).tolist()


def _flat(values):
    return np.round(np.asarray(values, dtype=np.float64).reshape(-1), DECIMALS).tolist()
