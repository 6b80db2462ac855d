"""Stroke width: measured on a grey image of a digit, and evened out by growing or shrinking ink.

A pen stroke of width ``w`` and length ``L`` holds ``w * L`` of ink and has two edges of length
``L``. Summing the image gives the ink; summing the size of its gradient gives the edges' length
times the contrast (the coarea formula), so their ratio

    width = 2 * sum(I) / sum(|grad I|)

is the stroke's width in pixels whatever its contrast or blur: a faint line and a dark one of the
same pen measure alike. The gradient is taken along rows and columns (an L1 length), which
overstates a curve's length by 4/pi on average over its directions; that factor is undone.

:func:`grow` and :func:`shrink` are the grey dilation and erosion by a disc: every pixel takes
the largest (smallest) value within ``radius`` of it, which widens (narrows) every stroke by
``2 * radius`` and keeps its anti-aliased edges.
"""

import numpy as np

L1_TO_LENGTH = np.pi / 4


def stroke_width(image):
    """Mean width in pixels of the strokes in a 2-D grey ``image`` (ink light, background 0).

    Returns 0.0 for an image without ink.
    """
    image = np.asarray(image, dtype=np.float64)
    edges = np.abs(np.diff(image, axis=0)).sum() + np.abs(np.diff(image, axis=1)).sum()
    # Ink touching the border has an edge there too: count it as if the image were padded.
    edges += image[0].sum() + image[-1].sum() + image[:, 0].sum() + image[:, -1].sum()
    if edges == 0:
        return 0.0
    return float(2 * image.sum() / (edges * L1_TO_LENGTH))


def grow(image, radius):
    """Grey dilation of ``image`` by a disc of ``radius`` pixels; the image gets ``ceil(radius)``
    pixels of margin on every side, so nothing is cut off."""
    pad = int(np.ceil(radius))
    if pad <= 0:
        return image
    padded = np.pad(image, pad)
    return _disc_filter(padded, radius, np.maximum, pad)


def shrink(image, radius):
    """Grey erosion of ``image`` by a disc of ``radius`` pixels (same shape)."""
    pad = int(np.ceil(radius))
    if pad <= 0:
        return image
    padded = np.pad(image, pad)  # a zero border: ink at the edge is eaten from outside too
    return _disc_filter(padded, radius, np.minimum, pad)[pad:-pad, pad:-pad]


def _disc_filter(padded, radius, combine, pad):
    """``combine`` (maximum or minimum) of ``padded`` shifted by every offset within ``radius``;
    ``padded`` has ``pad`` pixels of zeros around the image. Returns an array of its shape."""
    height, width = padded.shape
    out = padded.copy()
    source = np.pad(padded, pad)  # shifted reads stay inside this array
    for dy in range(-pad, pad + 1):
        for dx in range(-pad, pad + 1):
            if (dy or dx) and dy * dy + dx * dx <= radius * radius:
                view = source[pad + dy : pad + dy + height, pad + dx : pad + dx + width]
                combine(out, view, out=out)
    return out
