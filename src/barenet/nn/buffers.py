"""One flat buffer for all parameters: chaining a stack's shapes, laying out its parameters.

A network keeps every weight and bias in one contiguous array ``params`` and their gradients
in ``grads``, in the same layout; each layer receives views into both (``W`` and ``dW`` share a
layout), so an optimizer step is a few operations on two whole buffers whatever the number of
layers. ``decay_mask`` marks the weights (1) against biases and normalisation parameters (0),
for L1/L2 penalties and decoupled weight decay.
"""

from dataclasses import dataclass

import numpy as np

from barenet.errors import BarenetError


def chain_shapes(layers, input_shape, min_outputs=2):
    """Give each layer its input shape in turn; returns the number of outputs (the last width):
    classes, at least ``min_outputs`` (2 for a classifier, 1 for regression).

    Layers up to the first one with parameters need no ``dL/dX``: nobody uses the gradient
    with respect to the images during training, and skipping it saves work.
    """
    shape = input_shape
    for layer in layers:
        shape = layer.build(shape)
    needs = False
    for layer in layers:
        layer.input_grad = needs
        needs = needs or bool(layer.param_shapes())
    if len(shape) != 1 or shape[0] < min_outputs:
        what = "one score per class (at least 2)" if min_outputs > 1 else "a flat row of outputs"
        raise BarenetError(
            f"the last layer must give {what}, got outputs of shape {shape}: end with "
            f"Flatten() and Dense({'n_classes' if min_outputs > 1 else 'n_outputs'})"
        )
    return shape[0]


@dataclass
class FlatBuffers:
    """``params``, ``grads`` and ``decay_mask`` (flat, one dtype) and ``slices``:
    ``{"layers.<i>.<name>": slice}``, where each parameter lies in them."""

    params: np.ndarray
    grads: np.ndarray
    decay_mask: np.ndarray
    slices: dict


def bind_flat(layers, dtype):
    """Allocate the flat buffers for ``layers`` and bind each layer to its views (zeros)."""
    shapes = [layer.param_shapes() for layer in layers]
    total = sum(int(np.prod(shape)) for s in shapes for shape, _ in s.values())
    flat = FlatBuffers(*(np.zeros(total, dtype) for _ in range(3)), slices={})
    offset = 0
    for i, (layer, layer_shapes) in enumerate(zip(layers, shapes)):
        views, grad_views = {}, {}
        for name, (shape, decay) in layer_shapes.items():
            size = int(np.prod(shape))
            views[name] = flat.params[offset : offset + size].reshape(shape)
            grad_views[name] = flat.grads[offset : offset + size].reshape(shape)
            flat.decay_mask[offset : offset + size] = decay
            flat.slices[f"layers.{i}.{name}"] = slice(offset, offset + size)
            offset += size
        layer.bind(views, grad_views)
    return flat
