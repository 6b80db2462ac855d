"""Reading figures back: the PNG a function wrote, and the text on a Matplotlib axis."""

import matplotlib.image
import numpy as np


def read_png(path):
    """(height, width, 4) floats in [0, 1]."""
    assert path.stat().st_size > 0
    return matplotlib.image.imread(path)


def size(path):
    """(width, height) in pixels of a non-empty PNG."""
    height, width = read_png(path).shape[:2]
    return width, height


def tick_names(axis):
    return [label.get_text() for label in axis.get_ticklabels()]


def digits(n):
    """``n`` blocky 28x28 "digits" in [0, 1]: a bright square at a varying place."""
    images = np.zeros((n, 28, 28), np.float32)
    for i in range(n):
        images[i, 4 + i % 10 : 14 + i % 10, 8:20] = 1.0
    return images
