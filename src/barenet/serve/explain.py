"""What happens inside the network for one input: the answer of ``POST /explain``.

For one input ``x`` (the network's flat input row) it gathers, through the network's public
methods only:

- every layer's output in order (:meth:`NeuralNetwork.activations`), flat, with its per-sample
  shape (``[H, W, C]`` for the feature maps of a convolution);
- the probabilities, the softmax of the last layer's output (the logits);
- the saliency: ``d logit_k / d x`` for the most probable class ``k``, the gradient of its score
  with respect to every input pixel (:meth:`NeuralNetwork.score_gradient`).

Values are rounded to 4 decimals: the page colours them, and the answer stays small (a 784-64-10
network's is about 20 kB).
"""

import numpy as np
from PIL import Image

from barenet.nn.losses import softmax

# An answer is "unsure" when its probability is under UNSURE_BELOW or the runner-up is within
# UNSURE_MARGIN of it: the page then says so instead of announcing a digit.
UNSURE_BELOW = 0.6
UNSURE_MARGIN = 0.2
# Stages larger than this (the 280x280 drawing) are shrunk for the page: it shows them small.
STEP_SIDE = 56
DECIMALS = 4


def explain(net, x, prepared=None):
    """The fields of :class:`~.schemas.Explanation` for one flat input ``x`` of ``net``;
    ``prepared`` (a :class:`~barenet.data.framing.Prepared`) adds the stages of a picture."""
    X = x[np.newaxis].astype(net.dtype, copy=False)
    outputs = net.activations(X)
    logits = next(reversed(outputs.values()))
    probabilities = softmax(logits)[0].astype(np.float64)  # as predict_proba computes them
    best = int(np.argmax(probabilities))
    shape = tuple(net.image_shape) if net.image_shape else (1, net.input_size)
    image = _rows(x.reshape(shape))
    second = float(np.sort(probabilities)[-2]) if len(probabilities) > 1 else 0.0
    top = float(probabilities[best])
    return {
        "class_index": best,
        "class_name": net.class_names[best],
        "probability": top,
        "probabilities": probabilities.tolist(),
        "class_names": list(net.class_names),
        "unsure": top < UNSURE_BELOW or top - second < UNSURE_MARGIN,
        "input": image,
        "steps": _steps(prepared, image),
        "layers": _layers(net, outputs),
        "logits": _flat(logits[0]),
        "saliency": _rows(saliency(net, X, best).reshape(shape)),
        "notes": _notes(prepared),
    }


def saliency(net, X, k):
    """``d logit_k / d X`` for a batch ``X`` (flat rows), shaped as ``X``: how much each input
    value raises the score of class ``k`` (:meth:`~barenet.NeuralNetwork.score_gradient`)."""
    return net.score_gradient(X, k)


def _layers(net, outputs):
    """``[{"name", "kind", "shape", "values"}]`` of every layer, first to last."""
    return [
        {
            "name": name,
            "kind": layer.kind,
            "shape": list(layer.output_shape),
            "values": _flat(output[0]),
        }
        for (name, output), layer in zip(outputs.items(), net.layers, strict=True)
    ]


def _steps(prepared, image):
    """The stages of a picture, each ``{"name", "image"}``; for pixel values sent as JSON,
    which are not prepared, only the input."""
    seen = {"name": "what the network sees", "image": image}
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
        {"name": "the picture", "image": _rows(_small(prepared.picture))},
        {"name": "cropped to the digit", "image": _rows(_small(prepared.cropped))},
        {"name": f"fitted into {box}", "image": _rows(prepared.fitted)},
        {"name": placed, "image": _rows(prepared.centred)},
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


def _rows(image):
    return np.round(np.asarray(image, dtype=np.float64), DECIMALS).tolist()


def _flat(values):
    return np.round(np.asarray(values, dtype=np.float64).reshape(-1), DECIMALS).tolist()
