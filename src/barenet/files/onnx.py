"""ONNX export: a trained network as a standard graph that onnxruntime and other engines run.

The graph maps ``input (batch, n_in)`` to ``probabilities (batch, n_classes)``, the batch size
left free, in the network's float type. Each layer becomes its inference form: ``Dense`` a Gemm
(``X W + b``), an activation its ONNX operator (GELU written out as barenet computes it, the tanh
approximation), ``BatchNorm`` a BatchNormalization node with the running statistics, ``Dropout``
nothing at all (it is the identity at inference); a Softmax over the classes ends the graph.
A regression network (``loss="mse"``) has no Softmax: its graph ends in ``predictions (batch,
n_outputs)``, the last layer's outputs as they are.

A network that standardises its inputs (``input_scaling``) starts with ``Sub`` and ``Div`` nodes
of its statistics, and one that standardises its targets (``output_scaling``) ends with ``Mul``
and ``Add``: the ONNX model takes and returns numbers in the user's units, as ``predict`` does.

Images: barenet is channels-last ``(batch, H, W, C)``, ONNX's Conv and pooling operators are
channels-first ``(batch, C, H, W)``. The graph reshapes the flat input to ``(batch, H, W, C)``
and transposes it to NCHW once; ``Conv2D`` becomes a Conv whose weights are transposed from
``(kh, kw, C, F)`` to ``(F, C, kh, kw)``, the pooling layers MaxPool, AveragePool and
GlobalAveragePool, and ``Flatten`` transposes back to channels last before flattening, so that
the features reach the next Dense layer in barenet's row-major order.

Tokens and sequences ``(batch, T, D)`` keep barenet's batch-first layout (flat rows of a network
with ``input_shape=(T, D)`` are reshaped to it first). ``Dense`` on them is a MatMul and an Add
on the last axis; ``LayerNorm`` a LayerNormalization (opset 17); ``Residual`` its layers and its
shortcut's, then an Add; ``PatchEmbed`` the images cut into patches by Reshape and Transpose,
then a MatMul; ``PositionEmbedding`` an Add of ``P``; ``ClassToken`` a Concat of the token,
Expanded to the batch (read by Shape); ``TakeToken`` a Gather; ``TokenMean`` a ReduceMean;
``MultiHeadSelfAttention`` MatMul, Add, Reshape, Transpose and Softmax with the heads as a batch
axis. ``RNN``, ``LSTM`` and ``GRU`` become ONNX's operators of those names, their gates
reordered (see :func:`_recurrent`). onnxruntime's CPU kernels for Conv, RNN, LSTM and GRU are
float32 only: a float64 network with those layers exports, but onnxruntime cannot run it.

Needs the optional ``onnx`` package (``pip install barenet[onnx]``, which also brings
onnxruntime to run the exported file).
"""

import math
from pathlib import Path

import numpy as np

try:
    import onnx
    from onnx import helper, numpy_helper
except ImportError as exc:
    raise ImportError("ONNX export needs the onnx package: pip install barenet[onnx]") from exc

from barenet.errors import BarenetError
from barenet.files.archive import atomic_write_bytes
from barenet.version import __version__

OPSET = 17  # run by onnxruntime >= 1.13; GELU is written out since its op only came in opset 20
INPUT, OUTPUT, REGRESSION_OUTPUT = "input", "probabilities", "predictions"
_SIMPLE_ACTIVATIONS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
_ACTIVATIONS = {*_SIMPLE_ACTIVATIONS, "leaky_relu", "identity", "gelu"}


def export(network, path):
    """Write ``network`` (a :class:`~barenet.NeuralNetwork`) to ``path`` as an ONNX model.

    The file is written atomically; returns the ``onnx.ModelProto`` that was saved. Raises
    :class:`~barenet.BarenetError` for a layer ONNX cannot express or a missing folder.
    """
    folder = Path(path).absolute().parent
    if not folder.is_dir():
        raise BarenetError(f"cannot write the ONNX model to {path}: no folder {folder}")
    model = to_model(network)
    atomic_write_bytes(path, model.SerializeToString())
    return model


def to_model(network):
    """The ONNX ``ModelProto`` of ``network``, checked by ``onnx.checker``; nothing is written."""
    graph = _GraphBuilder(network.dtype)
    name = INPUT
    if network.input_scaling is not None:  # (x - mean) / scale, column by column
        mean = graph.constant("input.mean", network.input_scaling.mean)
        name = graph.node("Sub", [name, mean], "input.centred")
        scale = graph.constant("input.scale", network.input_scaling.scale)
        name = graph.node("Div", [name, scale], "input.standardized")
    if len(network.input_shape) == 3:  # flat rows -> (batch, H, W, C) -> (batch, C, H, W)
        shape = graph.constant("input.shape", [-1, *network.input_shape], np.int64)
        name = graph.node("Reshape", [name, shape], "input.images")
        name = graph.node("Transpose", [name], "input.nchw", perm=[0, 3, 1, 2])
    elif len(network.input_shape) == 2:  # flat rows -> sequences (batch, steps, features)
        shape = graph.constant("input.shape", [-1, *network.input_shape], np.int64)
        name = graph.node("Reshape", [name, shape], "input.sequences")
    for index, layer in enumerate(network.layers):
        name = _export_layer(graph, layer, name, f"layers.{index}")
    if network.is_regression:
        if network.output_scaling is not None:  # back to the targets' units: z * scale + mean
            scale = graph.constant("output.scale", network.output_scaling.scale)
            name = graph.node("Mul", [name, scale], "output.scaled")
            mean = graph.constant("output.mean", network.output_scaling.mean)
            name = graph.node("Add", [name, mean], "output.shifted")
        graph.node("Identity", [name], REGRESSION_OUTPUT)
    else:
        graph.node("Softmax", [name], OUTPUT, axis=1)
    model = helper.make_model(
        graph.build(network, repr(network)),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="barenet",
        producer_version=__version__,
    )
    # The oldest IR version that carries this opset, so older runtimes load the file too.
    model.ir_version = helper.find_min_ir_version_for(model.opset_import)
    onnx.checker.check_model(model, full_check=True)
    return model


class _GraphBuilder:
    """Collects nodes and initializers (constant tensors) in the network's float type."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.nodes, self.initializers = [], []

    def constant(self, name, value, dtype=None):
        """Add the tensor ``value`` (converted to the float type unless ``dtype`` says) as an
        initializer ``name``."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op, inputs, output, **attributes):
        """Add one node computing ``output`` from the named ``inputs``; returns ``output``."""
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def node_outputs(self, op, inputs, outputs, name, **attributes):
        """Add one node with several ``outputs`` (``""`` for an optional one left out)."""
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, **attributes))
        return outputs

    def build(self, network, doc):
        elem = helper.np_dtype_to_tensor_dtype(self.dtype)
        inputs = [helper.make_tensor_value_info(INPUT, elem, ["batch", network.input_size])]
        output = REGRESSION_OUTPUT if network.is_regression else OUTPUT
        outputs = [helper.make_tensor_value_info(output, elem, ["batch", network.output_size])]
        return helper.make_graph(
            self.nodes, "barenet", inputs, outputs, self.initializers, doc_string=doc
        )


def _export_layer(graph, layer, x, prefix):
    """Add the nodes of ``layer`` reading tensor ``x``; returns the name of their output.

    The tensor's layout follows from the layer's input shape: ``(H, W, C)`` samples are NCHW in
    the graph, ``(tokens, features)`` and ``(steps, features)`` samples and flat ones are as in
    barenet, batch first.
    """
    if layer.kind in _ACTIVATIONS:
        return _export_activation(graph, layer, x, prefix)
    if layer.kind == "dropout":
        return x  # the identity at inference
    if layer.kind in _LAYERS:
        return _LAYERS[layer.kind](graph, layer, x, prefix)
    raise BarenetError(
        f"cannot export {prefix} ({type(layer).__name__}, kind {layer.kind!r}) to ONNX: "
        f"supported kinds are {', '.join(_LAYERS)}, dropout and the activations "
        f"({', '.join(sorted(_ACTIVATIONS))})"
    )


def _dense(graph, layer, x, prefix):
    """Gemm on flat rows; on tokens ``(batch, T, n_in)``, MatMul and Add on the last axis."""
    W, b = graph.constant(f"{prefix}.W", layer.W), graph.constant(f"{prefix}.b", layer.b)
    if len(layer.input_shape) == 1:
        return graph.node("Gemm", [x, W, b], f"{prefix}.dense")
    product = graph.node("MatMul", [x, W], f"{prefix}.product")
    return graph.node("Add", [product, b], f"{prefix}.dense")


def _batch_norm(graph, layer, x, prefix):
    """BatchNormalization normalises axis 1: the features of flat rows, the channels of NCHW
    images; tokens ``(batch, T, D)`` are turned to ``(batch, D, T)`` around it."""
    names = ("gamma", "beta", "running_mean", "running_var")
    inputs = [graph.constant(f"{prefix}.{n}", getattr(layer, n)) for n in names]
    tokens = len(layer.input_shape) == 2
    if tokens:
        x = graph.node("Transpose", [x], f"{prefix}.features_first", perm=[0, 2, 1])
    y = graph.node("BatchNormalization", [x, *inputs], f"{prefix}.batch_norm", epsilon=layer.eps)
    if tokens:
        y = graph.node("Transpose", [y], f"{prefix}.tokens", perm=[0, 2, 1])
    return y


def _layer_norm(graph, layer, x, prefix):
    """LayerNormalization (opset 17) over the last axis; NCHW images, whose features are the
    channels, go through channels last and back."""
    gamma = graph.constant(f"{prefix}.gamma", layer.gamma)
    beta = graph.constant(f"{prefix}.beta", layer.beta)
    images = len(layer.input_shape) == 3
    if images:
        x = graph.node("Transpose", [x], f"{prefix}.nhwc", perm=[0, 2, 3, 1])
    y = graph.node(
        "LayerNormalization", [x, gamma, beta], f"{prefix}.layer_norm", axis=-1, epsilon=layer.eps
    )
    if images:
        y = graph.node("Transpose", [y], f"{prefix}.nchw", perm=[0, 3, 1, 2])
    return y


def _residual(graph, layer, x, prefix):
    """``x + f(x)`` (or ``shortcut(x) + f(x)``): the inner layers and the shortcut under the
    names of their parameters (``layers.2.0``, ``layers.2.shortcut``), then an Add."""
    inner = x
    for index, inner_layer in enumerate(layer.layers):
        inner = _export_layer(graph, inner_layer, inner, f"{prefix}.{index}")
    path = x
    if layer.shortcut is not None:
        path = _export_layer(graph, layer.shortcut, x, f"{prefix}.shortcut")
    return graph.node("Add", [path, inner], f"{prefix}.add")


def _patch_embed(graph, layer, x, prefix):
    """The patch matrix times ``W2``, as barenet computes it: the NCHW images ``(batch, C, H,
    W)`` cut into ``(batch, C, H/p, p, W/p, p)``, transposed to ``(batch, H/p, W/p, p, p, C)``
    (each patch in ``W``'s row, column, channel order, patch row after patch row) and seen as
    ``(batch, T, p p C)``; then MatMul by ``W.reshape(p p C, dim)`` and Add ``b``. (A Conv with
    stride ``p`` computes the same, but onnxruntime runs Conv in float32 only.)"""
    (gh, gw), p, C = layer.grid, layer.patch_size, layer.c_in
    blocks = graph.constant(f"{prefix}.blocks_shape", [-1, C, gh, p, gw, p], np.int64)
    x = graph.node("Reshape", [x, blocks], f"{prefix}.blocks")
    x = graph.node("Transpose", [x], f"{prefix}.patch_blocks", perm=[0, 2, 4, 3, 5, 1])
    rows = graph.constant(f"{prefix}.patches_shape", [-1, gh * gw, p * p * C], np.int64)
    patches = graph.node("Reshape", [x, rows], f"{prefix}.patches")
    W = graph.constant(f"{prefix}.W", layer.W.reshape(-1, layer.dim))
    b = graph.constant(f"{prefix}.b", layer.b)
    product = graph.node("MatMul", [patches, W], f"{prefix}.product")
    return graph.node("Add", [product, b], f"{prefix}.tokens")


def _position_embedding(graph, layer, x, prefix):
    """``X + P``, ``P (T, dim)`` broadcast over the batch."""
    return graph.node("Add", [x, graph.constant(f"{prefix}.P", layer.P)], f"{prefix}.add")


def _class_token(graph, layer, x, prefix):
    """The token ``(1, 1, dim)`` expanded to ``(batch, 1, dim)`` (the batch read off ``x`` by
    Shape), then Concat before the tokens."""
    dim = layer.token.shape[0]
    token = graph.constant(f"{prefix}.token", layer.token.reshape(1, 1, dim))
    batch = graph.node("Shape", [x], f"{prefix}.batch", start=0, end=1)
    rest = graph.constant(f"{prefix}.rest", [1, dim], np.int64)
    shape = graph.node("Concat", [batch, rest], f"{prefix}.shape", axis=0)
    tokens = graph.node("Expand", [token, shape], f"{prefix}.tokens")
    return graph.node("Concat", [tokens, x], f"{prefix}.concat", axis=1)


def _take_token(graph, layer, x, prefix):
    """Gather of one index on the tokens' axis: ``(batch, T, dim) -> (batch, dim)``."""
    index = graph.constant(f"{prefix}.index", layer.index, np.int64)
    return graph.node("Gather", [x, index], f"{prefix}.token", axis=1)


def _token_mean(graph, layer, x, prefix):
    return graph.node("ReduceMean", [x], f"{prefix}.mean", axes=[1], keepdims=0)


def _attention(graph, layer, x, prefix):
    """Multi-head self-attention on ``x (batch, T, D)``, ``h`` heads of ``d = D/h`` features.

    ``Wqkv``'s three column blocks give ``Q``, ``K``, ``V`` (MatMul, Add), each reshaped to
    ``(batch, T, h, d)`` and transposed to ``(batch, h, T, d)``, the heads as a batch axis;
    ``S = (Q / sqrt(d)) K^T`` (the scale on the queries, as barenet), Softmax over the keys,
    ``O = A V``; the heads side by side again, ``(batch, T, D)``, and ``O Wo + bo``.
    """
    D, h = layer.Wo.shape[0], layer.heads
    d = D // h
    heads_shape = graph.constant(f"{prefix}.heads_shape", [0, 0, h, d], np.int64)
    parts = {}
    for i, part in enumerate("qkv"):
        columns = slice(i * D, (i + 1) * D)
        W = graph.constant(f"{prefix}.W{part}", layer.Wqkv[:, columns])
        b = graph.constant(f"{prefix}.b{part}", layer.bqkv[columns])
        product = graph.node("MatMul", [x, W], f"{prefix}.{part}_product")
        rows = graph.node("Add", [product, b], f"{prefix}.{part}")
        split = graph.node("Reshape", [rows, heads_shape], f"{prefix}.{part}_split")
        # (batch, h, T, d), or (batch, h, d, T) for the keys, ready for Q K^T
        perm = [0, 2, 3, 1] if part == "k" else [0, 2, 1, 3]
        parts[part] = graph.node("Transpose", [split], f"{prefix}.{part}_heads", perm=perm)
    scale = graph.constant(f"{prefix}.scale", 1.0 / math.sqrt(d))
    q = graph.node("Mul", [parts["q"], scale], f"{prefix}.q_scaled")
    scores = graph.node("MatMul", [q, parts["k"]], f"{prefix}.scores")  # (batch, h, T, T)
    weights = graph.node("Softmax", [scores], f"{prefix}.attention", axis=-1)
    out = graph.node("MatMul", [weights, parts["v"]], f"{prefix}.heads_out")  # (batch, h, T, d)
    out = graph.node("Transpose", [out], f"{prefix}.tokens_out", perm=[0, 2, 1, 3])
    joined_shape = graph.constant(f"{prefix}.joined_shape", [0, 0, D], np.int64)
    joined = graph.node("Reshape", [out, joined_shape], f"{prefix}.joined")
    Wo, bo = graph.constant(f"{prefix}.Wo", layer.Wo), graph.constant(f"{prefix}.bo", layer.bo)
    product = graph.node("MatMul", [joined, Wo], f"{prefix}.o_product")
    return graph.node("Add", [product, bo], f"{prefix}.output")


# barenet's gate blocks, in the order ONNX's operator wants them (see _recurrent).
_GATE_ORDER = {"rnn": [0], "lstm": [0, 3, 1, 2], "gru": [1, 0, 2]}


def _recurrent(graph, layer, x, prefix):
    """ONNX's RNN, LSTM or GRU operator on ``x (batch, T, F)``, made time-major ``(T, batch,
    F)`` as the operator wants.

    barenet keeps ``a = x W + h U + b`` with ``W (F, G n)``, gate blocks along the columns in
    PyTorch's order; ONNX wants ``W [1, G n, F]``, ``R [1, G n, n]`` (transposed, one
    direction) and ``B [1, 2 G n]`` = input biases then recurrent biases, in its own gate order:
    LSTM i, o, f, c (barenet i, f, g, o), GRU z, r, h (barenet r, z, n). The recurrent biases
    are zero but for the GRU's ``bn``, the candidate's bias inside the reset product, which is
    ONNX's ``linear_before_reset=1`` form. Without ``return_sequences`` the output is the last
    state ``Y_h``, else every state ``Y``, back to batch first.
    """
    n, order = layer.units, _GATE_ORDER[layer.kind]

    def gates(array):  # (..., G n) with its gate blocks in ONNX's order
        return np.concatenate([array[..., g * n : (g + 1) * n] for g in order], axis=-1)

    W = graph.constant(f"{prefix}.W", gates(layer.W).T[None])
    R = graph.constant(f"{prefix}.R", gates(layer.U).T[None])
    recurrent_bias = np.zeros_like(layer.b)
    if layer.kind == "gru":
        recurrent_bias[2 * n :] = layer.bn
    B = graph.constant(f"{prefix}.B", np.concatenate([gates(layer.b), gates(recurrent_bias)])[None])
    steps = graph.node("Transpose", [x], f"{prefix}.time_major", perm=[1, 0, 2])
    op = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[layer.kind]
    attributes = {"hidden_size": n}
    if layer.kind == "rnn":
        attributes["activations"] = ["Tanh"]
    if layer.kind == "gru":
        attributes["linear_before_reset"] = 1
    if layer.return_sequences:
        outputs = [f"{prefix}.states", ""]  # Y (T, 1, batch, n)
        axis, name = 1, f"{prefix}.states_time_major"
    else:
        outputs = ["", f"{prefix}.last_state"]  # Y_h (1, batch, n)
        axis, name = 0, f"{prefix}.last"
    (states,) = [o for o in outputs if o]
    graph.node_outputs(op, [steps, W, R, B], outputs, f"{prefix}.{layer.kind}", **attributes)
    axes = graph.constant(f"{prefix}.direction_axis", [axis], np.int64)
    states = graph.node("Squeeze", [states, axes], name)  # one direction: drop its axis
    if layer.return_sequences:
        states = graph.node("Transpose", [states], f"{prefix}.sequences", perm=[1, 0, 2])
    return states


def _conv(graph, layer, x, prefix):
    """Conv in NCHW: weights ``(kh, kw, C, F)`` become ONNX's ``(F, C, kh, kw)``."""
    W = graph.constant(f"{prefix}.W", np.transpose(layer.W, (3, 2, 0, 1)))
    b = graph.constant(f"{prefix}.b", layer.b)
    top, bottom, left, right = layer.pads
    return graph.node(
        "Conv",
        [x, W, b],
        f"{prefix}.conv",
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.stride),
        pads=[top, left, bottom, right],
    )


def _pool(op):
    def export(graph, layer, x, prefix):
        # ceil_mode 0 drops a last partial window, as barenet (and Keras, PyTorch) do.
        return graph.node(
            op,
            [x],
            f"{prefix}.pool",
            kernel_shape=list(layer.pool_size),
            strides=list(layer.stride),
        )

    return export


def _global_avg_pool(graph, layer, x, prefix):
    pooled = graph.node("GlobalAveragePool", [x], f"{prefix}.pool")  # (batch, C, 1, 1)
    return graph.node("Flatten", [pooled], f"{prefix}.flat", axis=1)


def _flatten(graph, layer, x, prefix):
    """Flat rows in barenet's order: NCHW images back to channels last first; tokens or
    sequences ``(batch, T, D)`` are already in it; flat rows stay as they are."""
    if len(layer.input_shape) == 1:
        return x
    if len(layer.input_shape) == 3:
        x = graph.node("Transpose", [x], f"{prefix}.nhwc", perm=[0, 2, 3, 1])
    return graph.node("Flatten", [x], f"{prefix}.flat", axis=1)


_LAYERS = {  # kind -> the function adding its nodes
    "dense": _dense,
    "batch_norm": _batch_norm,
    "conv2d": _conv,
    "max_pool2d": _pool("MaxPool"),
    "avg_pool2d": _pool("AveragePool"),
    "global_avg_pool2d": _global_avg_pool,
    "flatten": _flatten,
    "residual": _residual,
    "layer_norm": _layer_norm,
    "patch_embed": _patch_embed,
    "position_embedding": _position_embedding,
    "class_token": _class_token,
    "take_token": _take_token,
    "token_mean": _token_mean,
    "self_attention": _attention,
    "rnn": _recurrent,
    "lstm": _recurrent,
    "gru": _recurrent,
}


def _export_activation(graph, layer, x, prefix):
    """Add the nodes of an activation layer (see :mod:`barenet.nn.activations`)."""
    kind = layer.kind
    if kind in _SIMPLE_ACTIVATIONS:
        return graph.node(_SIMPLE_ACTIVATIONS[kind], [x], f"{prefix}.{kind}")
    if kind == "leaky_relu":
        return graph.node("LeakyRelu", [x], f"{prefix}.leaky_relu", alpha=layer.alpha)
    if kind == "gelu":
        return _gelu(graph, x, f"{prefix}.gelu")
    return x  # identity


def _gelu(graph, x, p):
    """``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, op by op as in barenet."""
    cube = graph.node("Pow", [x, graph.constant(f"{p}.three", 3.0)], f"{p}.cube")
    scaled = graph.node("Mul", [cube, graph.constant(f"{p}.coef", 0.044715)], f"{p}.scaled")
    inner = graph.node("Add", [x, scaled], f"{p}.inner")
    u = graph.node("Mul", [inner, graph.constant(f"{p}.k", math.sqrt(2 / math.pi))], f"{p}.u")
    tanh = graph.node("Tanh", [u], f"{p}.tanh")
    one_plus = graph.node("Add", [tanh, graph.constant(f"{p}.one", 1.0)], f"{p}.one_plus")
    half_x = graph.node("Mul", [x, graph.constant(f"{p}.half", 0.5)], f"{p}.half_x")
    return graph.node("Mul", [half_x, one_plus], p)
