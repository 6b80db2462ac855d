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

    def build(self, network, doc):
        elem = helper.np_dtype_to_tensor_dtype(self.dtype)
        inputs = [helper.make_tensor_value_info(INPUT, elem, ["batch", network.input_size])]
        output = REGRESSION_OUTPUT if network.is_regression else OUTPUT
        outputs = [helper.make_tensor_value_info(output, elem, ["batch", network.output_size])]
        return helper.make_graph(
            self.nodes, "barenet", inputs, outputs, self.initializers, doc_string=doc
        )


def _export_layer(graph, layer, x, prefix):
    """Add the nodes of ``layer`` reading tensor ``x``; returns the name of their output."""
    if layer.kind == "dense":
        W, b = graph.constant(f"{prefix}.W", layer.W), graph.constant(f"{prefix}.b", layer.b)
        return graph.node("Gemm", [x, W, b], f"{prefix}.dense")
    if layer.kind in _ACTIVATIONS:
        return _export_activation(graph, layer, x, prefix)
    if layer.kind == "dropout":
        return x  # the identity at inference
    if layer.kind in _IMAGE_LAYERS:
        return _IMAGE_LAYERS[layer.kind](graph, layer, x, prefix)
    if layer.kind == "batch_norm":
        names = ("gamma", "beta", "running_mean", "running_var")
        inputs = [graph.constant(f"{prefix}.{n}", getattr(layer, n)) for n in names]
        return graph.node(
            "BatchNormalization", [x, *inputs], f"{prefix}.batch_norm", epsilon=layer.eps
        )
    raise BarenetError(
        f"cannot export {prefix} ({type(layer).__name__}, kind {layer.kind!r}) to ONNX: "
        f"supported kinds are dense, dropout, batch_norm, {', '.join(_IMAGE_LAYERS)} and the "
        "activations"
    )


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
    nhwc = graph.node("Transpose", [x], f"{prefix}.nhwc", perm=[0, 2, 3, 1])
    return graph.node("Flatten", [nhwc], f"{prefix}.flat", axis=1)


_IMAGE_LAYERS = {
    "conv2d": _conv,
    "max_pool2d": _pool("MaxPool"),
    "avg_pool2d": _pool("AveragePool"),
    "global_avg_pool2d": _global_avg_pool,
    "flatten": _flatten,
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
