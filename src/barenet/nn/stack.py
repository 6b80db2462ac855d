"""A layer stack as data: rebuilt from its configs (model files) or read from a line of text.

A model file holds each layer's ``config()``, ``{"kind": "dense", "units": 128, ...}``;
:func:`layer_from_config` turns one back into a layer. The command line and the model card use
a shorter spelling, one word per layer, which :func:`parse_layers` reads and
:func:`describe_layers` writes::

    conv32x3 relu pool2 conv64x3 relu pool2 flatten dense128 relu dropout0.5 dense10

``dense<units>``, ``conv<filters>x<k>[x<k2>][s<stride>][p<padding>|same]``,
``pool<size>[s<stride>]`` (max), ``avgpool<size>[s<stride>]``, ``gap`` (global average),
``flatten``, ``dropout<rate>``, ``batchnorm``, and the activations by name (``relu``...).
"""

import re

from barenet.errors import BarenetError
from barenet.nn.activations import get_activation
from barenet.nn.layers import BatchNorm, Dense, Dropout, Layer

IMAGE_KINDS = frozenset({"conv2d", "max_pool2d", "avg_pool2d", "global_avg_pool2d", "flatten"})


def takes_images(layers):
    """True when a stack works on images ``(H, W, C)``: it holds a convolution, a pooling
    layer or a Flatten; otherwise its inputs are flat feature vectors."""
    return any(layer.kind in IMAGE_KINDS for layer in layers)


def layer_classes():
    """``{kind: class}`` of every layer class defined so far (importing :mod:`barenet.nn`
    defines them all)."""
    table, todo = {}, [Layer]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.kind:
            table[cls.kind] = cls
    return table


def layer_from_config(config):
    """Rebuild a layer from the dict its ``config()`` returned."""
    if not isinstance(config, dict):
        raise BarenetError(f"a layer config must be a dict with a 'kind', got {config!r}")
    config = dict(config)
    kind, table = config.pop("kind", None), layer_classes()
    if kind not in table:
        raise BarenetError(f"unknown layer kind {kind!r}; known kinds are {sorted(table)}")
    try:
        return table[kind](**config)
    except TypeError as exc:
        raise BarenetError(f"bad settings for layer {kind!r}: {exc}") from None


_PAIR = r"(\d+)(?:x(\d+))?"
_WORDS = {  # word pattern -> kind; the groups are read by _settings
    r"dense(\d+)": "dense",
    rf"conv(\d+)x{_PAIR}(?:s(\d+))?(?:p(\d+)|(same))?": "conv2d",
    rf"(?:max)?pool{_PAIR}(?:s(\d+))?": "max_pool2d",
    rf"avgpool{_PAIR}(?:s(\d+))?": "avg_pool2d",
    r"gap": "global_avg_pool2d",
    r"flatten": "flatten",
    r"dropout(0?\.\d+|0)": "dropout",
    r"batchnorm": "batch_norm",
}


def _pair(a, b):
    return int(a) if b is None else [int(a), int(b)]


def _settings(kind, groups):
    if kind == "dense":
        return {"units": int(groups[0])}
    if kind == "conv2d":
        filters, k1, k2, stride, pad, same = groups
        padding = "same" if same else (int(pad) if pad else "valid")
        return {
            "filters": int(filters),
            "kernel_size": _pair(k1, k2),
            "stride": int(stride or 1),
            "padding": padding,
        }
    if kind in ("max_pool2d", "avg_pool2d"):
        size, size2, stride = groups
        return {"pool_size": _pair(size, size2), "stride": int(stride) if stride else None}
    if kind == "dropout":
        return {"rate": float(groups[0])}
    return {}


def parse_layers(text):
    """Layers from a line such as ``"conv32x3 relu pool2 flatten dense10"`` (see above)."""
    words = text.replace(",", " ").lower().split()
    if not words:
        raise BarenetError("the layer list is empty; e.g. 'dense128 relu dense10'")
    table, layers = layer_classes(), []
    for word in words:
        for pattern, kind in _WORDS.items():
            match = re.fullmatch(pattern, word)
            if match:
                layers.append(layer_from_config({"kind": kind, **_settings(kind, match.groups())}))
                break
        else:
            if word.replace("-", "_") not in table or word in ("conv2d", "dense"):
                raise BarenetError(
                    f"unknown layer {word!r} in {text!r}; use dense128, conv32x3, pool2, "
                    "avgpool2, gap, flatten, dropout0.5, batchnorm or an activation "
                    "(relu, leaky_relu, sigmoid, tanh, gelu)"
                )
            layers.append(layer_from_config({"kind": word.replace("-", "_")}))
    return layers


def _size(value):
    return "x".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def describe_layer(layer):
    """One layer in the words :func:`parse_layers` reads: ``dense128``, ``conv32x3``..."""
    c = layer.config()
    kind = c["kind"]
    if kind == "dense":
        return f"dense{c['units']}"
    if kind == "conv2d":
        word = f"conv{c['filters']}x{_size(c['kernel_size'])}"
        word += "" if c["stride"] in (1, [1, 1]) else f"s{_size(c['stride'])}"
        return word + {"valid": "", "same": "same"}.get(c["padding"], f"p{_size(c['padding'])}")
    if kind in ("max_pool2d", "avg_pool2d"):
        word = ("pool" if kind == "max_pool2d" else "avgpool") + _size(c["pool_size"])
        return word + (f"s{_size(c['stride'])}" if c.get("stride") is not None else "")
    if kind == "dropout":
        return f"dropout{c['rate']:g}"
    return {"global_avg_pool2d": "gap", "batch_norm": "batchnorm"}.get(kind, kind)


def describe_layers(layers):
    """A stack in one line: ``"conv32x3 relu pool2 flatten dense10"``."""
    return " ".join(describe_layer(layer) for layer in layers)


def mlp_layers(
    hidden_sizes, output_size, activation="relu", init="xavier", dropout=0.0, batch_norm=False
):
    """The classic multi-layer perceptron that ``NeuralNetwork(784, [128, 64], 10)`` builds:
    ``Dense [BatchNorm] activation [Dropout]`` per hidden width, then ``Dense(output_size)``."""
    layers = []
    for width in hidden_sizes:
        layers.append(Dense(width, init))
        if batch_norm:
            layers.append(BatchNorm())
        layers.append(get_activation(activation))
        if dropout:
            layers.append(Dropout(dropout))
    return [*layers, Dense(output_size, init)]
