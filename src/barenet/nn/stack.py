"""A layer stack as data: rebuilt from its configs (model files) or read from a line of text.

A model file holds each layer's ``config()``, ``{"kind": "dense", "units": 128, ...}``;
:func:`layer_from_config` turns one back into a layer. The command line and the model card use
a shorter spelling, one word per layer, which :func:`parse_layers` reads and
:func:`describe_layers` writes::

    conv32x3 relu pool2 conv64x3 relu pool2 flatten dense128 relu dropout0.5 dense10

``dense<units>``, ``conv<filters>x<k>[x<k2>][s<stride>][p<padding>|same]``,
``pool<size>[s<stride>]`` (max), ``avgpool<size>[s<stride>]``, ``gap`` (global average),
``flatten``, ``dropout<rate>``, ``batchnorm``, and the activations by name (``relu``...).
Recurrent layers, on sequences ``(steps, features)``: ``rnn<units>``, ``lstm<units>``,
``gru<units>``, giving the last step's state, or with ``seq`` every step's (``lstm128seq``).

For transformers: ``layernorm``, ``patch<p>x<dim>`` (image patches to tokens), ``cls`` (a class
token), ``pos`` (position embeddings), ``attention<heads>``, ``token<i>`` (take token ``i``)
and ``tokenmean``. A residual block ``y = x + f(x)`` is ``res[...]`` around the layers of
``f``, with ``| <layer>`` for a shortcut; blocks nest. A ResNet block and a transformer's two
blocks (pre-norm)::

    res[conv32x3same batchnorm relu conv32x3same batchnorm] relu
    res[conv64x3s2p1 batchnorm relu conv64x3same batchnorm | conv64x1s2] relu
    res[layernorm attention4] res[layernorm dense128 gelu dense64]
"""

import re

from barenet.errors import BarenetError
from barenet.nn.activations import get_activation
from barenet.nn.layers import BatchNorm, Dense, Dropout, Layer

IMAGE_KINDS = frozenset(
    {"conv2d", "max_pool2d", "avg_pool2d", "global_avg_pool2d", "flatten", "patch_embed"}
)


def takes_images(layers):
    """True when a stack works on images ``(H, W, C)``: it holds a convolution, a pooling
    layer, a Flatten or a PatchEmbed (in a residual block too); otherwise its inputs are flat
    feature vectors."""
    return any(
        layer.kind in IMAGE_KINDS or takes_images(getattr(layer, "layers", ()))  # res[...]
        for layer in layers
    )


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
    r"dropout(\d*\.?\d+)": "dropout",
    r"batchnorm": "batch_norm",
    r"rnn(\d+)(seq)?": "rnn",
    r"lstm(\d+)(seq)?": "lstm",
    r"gru(\d+)(seq)?": "gru",
    r"layernorm": "layer_norm",
    r"patch(\d+)x(\d+)": "patch_embed",
    r"pos": "position_embedding",
    r"cls": "class_token",
    r"attention(\d+)": "self_attention",
    r"token(\d+)": "take_token",
    r"tokenmean": "token_mean",
}
# Kinds whose settings have no default: their bare names are not words (dense128, not dense).
_NEEDS_SETTINGS = ("conv2d", "dense", "patch_embed", "self_attention", "residual")
RECURRENT_KINDS = ("rnn", "lstm", "gru")


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
    if kind in RECURRENT_KINDS:  # lstm128, or lstm128seq for every step's state
        return {"units": int(groups[0]), "return_sequences": groups[1] is not None}
    if kind == "patch_embed":
        return {"patch_size": int(groups[0]), "dim": int(groups[1])}
    if kind == "self_attention":
        return {"heads": int(groups[0])}
    if kind == "take_token":
        return {"index": int(groups[0])}
    return {}


def parse_layers(text):
    """Layers from a line such as ``"conv32x3 relu pool2 flatten dense10"`` (see above)."""
    tokens = re.findall(r"[\[\]|]|[^\s,\[\]|]+", text.lower())  # words, brackets and bars
    if not tokens:
        raise BarenetError("the layer list is empty; e.g. 'dense128 relu dense10'")
    layers, end = _parse_sequence(tokens, 0, text)
    if end < len(tokens):
        raise BarenetError(
            f"{tokens[end]!r} outside a residual block in {text!r}; write a block as "
            "res[dense64 relu dense64], with a shortcut as res[dense64 relu dense32 | dense32]"
        )
    return layers


def _parse_sequence(tokens, i, text):
    """The layers of ``tokens[i:]`` up to a ``]`` or a ``|`` (or the end); returns them and the
    index where it stopped."""
    layers = []
    while i < len(tokens) and tokens[i] not in ("]", "|"):
        if tokens[i] == "[":
            raise BarenetError(f"'[' must follow res in {text!r}, as in res[dense64 relu dense64]")
        if tokens[i] == "res":
            block, i = _parse_block(tokens, i + 1, text)
            layers.append(block)
        else:
            layers.append(_parse_word(tokens[i], text))
            i += 1
    return layers, i


def _parse_block(tokens, i, text):
    """``[layers]`` or ``[layers | shortcut]`` at ``tokens[i]``, after ``res``: the residual
    block, and the index after its ``]``."""
    if i >= len(tokens) or tokens[i] != "[":
        raise BarenetError(
            f"res needs its layers in brackets in {text!r}, as in res[dense64 relu dense64]"
        )
    layers, i = _parse_sequence(tokens, i + 1, text)
    if not layers:
        raise BarenetError(f"a residual block holds no layers in {text!r}: res[dense64 relu]")
    shortcut = None
    if i < len(tokens) and tokens[i] == "|":
        after, i = _parse_sequence(tokens, i + 1, text)
        if len(after) != 1:
            raise BarenetError(
                f"a residual block takes one shortcut layer after '|' in {text!r}, as in "
                "res[conv64x3s2p1 batchnorm relu conv64x3same | conv64x1s2]"
            )
        shortcut = after[0]
    if i >= len(tokens) or tokens[i] != "]":
        raise BarenetError(f"a residual block's res[ is not closed with ']' in {text!r}")
    return layer_classes()["residual"](layers, shortcut=shortcut), i + 1


def _parse_word(word, text):
    """The layer one word names (``dense128``, ``relu``...)."""
    table = layer_classes()
    if word == "softmax":
        raise BarenetError(
            f"leave 'softmax' out of {text!r}: the loss applies it to the last layer's scores "
            "(softmax cross-entropy), and predictions give its probabilities"
        )
    for pattern, kind in _WORDS.items():
        match = re.fullmatch(pattern, word)
        if match:
            try:
                return layer_from_config({"kind": kind, **_settings(kind, match.groups())})
            except BarenetError as exc:  # a setting out of range: say which word
                raise BarenetError(f"{word!r} in {text!r}: {exc}") from None
    if word.replace("-", "_") not in table or word in (*_NEEDS_SETTINGS, *RECURRENT_KINDS):
        raise BarenetError(
            f"unknown layer {word!r} in {text!r}; use dense128, conv32x3, pool2, "
            "avgpool2, gap, flatten, dropout0.5, batchnorm or an activation "
            "(relu, leaky_relu, sigmoid, tanh, gelu); for transformers layernorm, patch4x64, "
            "cls, pos, attention4, token0, tokenmean; res[...] for a residual block; "
            "recurrent rnn64, lstm128, gru64 (lstm128seq gives every step)"
        )
    return layer_from_config({"kind": word.replace("-", "_")})


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
    if kind in RECURRENT_KINDS:
        return f"{kind}{c['units']}" + ("seq" if c["return_sequences"] else "")
    if kind == "residual":
        shortcut = "" if layer.shortcut is None else f" | {describe_layer(layer.shortcut)}"
        return f"res[{describe_layers(layer.layers)}{shortcut}]"
    if kind == "patch_embed":
        return f"patch{c['patch_size']}x{c['dim']}"
    if kind == "self_attention":
        return f"attention{c['heads']}"
    if kind == "take_token":
        return f"token{c['index']}"
    words = {"global_avg_pool2d": "gap", "batch_norm": "batchnorm", "layer_norm": "layernorm"}
    words.update(position_embedding="pos", class_token="cls", token_mean="tokenmean")
    return words.get(kind, kind)


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
