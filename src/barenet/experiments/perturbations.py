"""Damaged images for robustness tests, and the fast gradient sign method (FGSM) attack.

Every perturbation maps images ``X (n, height * width)`` (each an image flattened row by row)
with pixels in [0, 1] to a new array of the same shape, still in [0, 1], with one ``strength``
(0 leaves the images as they are) and a NumPy generator for its randomness. Those that move
pixels about (occlusion, shift, rotation) take the ``image_shape`` ``(height, width)``; by
default the images are square, of side ``sqrt(n_features)`` (28 for MNIST, 8 for scikit-learn's
digits). :data:`PERTURBATIONS` names them, with the strengths a study tries by default on
28 x 28 images and what the strength measures; :func:`default_strengths` scales the strengths
counted in pixels to other image sizes.

FGSM (Goodfellow, Shlens & Szegedy 2015) moves every pixel by ``epsilon`` in the direction that
increases the loss: ``X + epsilon * sign(dL/dX)``. Its random twin :func:`random_sign` moves every
pixel by ``epsilon`` in a random direction: the same size of change, without the aim.
"""

import math
from dataclasses import dataclass

import numpy as np

from barenet import validation as check
from barenet.errors import BarenetError
from barenet.train.augment import sample_bilinear

MNIST_SIDE = 28  # the default strengths in pixels are meant for images of this side
CHUNK = 4096  # images per forward and backward pass of the attack


def image_shape_of(X, image_shape=None):
    """``(height, width)`` of the images in the rows of ``X (n, height * width)``.

    ``image_shape`` is checked against the number of features; None means square images, and
    a BarenetError asks for the shape when the number of features is not a square.
    """
    return tuple(check.image_shape(image_shape, X.shape[1], True, "features per row"))


def gaussian_noise(X, sigma, rng, image_shape=None):
    """Add noise drawn from N(0, sigma^2) to every pixel, then clip to [0, 1]."""
    noise = rng.standard_normal(X.shape, dtype=np.float32).astype(X.dtype, copy=False)
    return np.clip(X + sigma * noise, 0, 1)


def salt_and_pepper(X, fraction, rng, image_shape=None):
    """Set a random ``fraction`` of the pixels to black or white (half each)."""
    hit = rng.random(X.shape) < fraction
    out = X.copy()
    out[hit] = rng.random(int(hit.sum())) < 0.5
    return out


def occlusion(X, size, rng, image_shape=None):
    """Black out a ``size`` x ``size`` square in each image, centred at a random point of the
    central half of the image (rows and columns from a quarter to three quarters: the central
    14 x 14 pixels of MNIST, where the strokes are, its digits being centred in a 20 x 20 box).
    """
    size = int(size)
    height, width = image_shape_of(X, image_shape)
    out = X.copy().reshape(-1, height, width)
    if size == 0:
        return out.reshape(X.shape)
    for image, r, c in zip(out, *_centres(height, width, len(out), rng)):
        top, left = max(r - size // 2, 0), max(c - size // 2, 0)
        image[top : top + size, left : left + size] = 0
    return out.reshape(X.shape)


def _centres(height, width, n, rng):
    """``(rows, cols)``, ``n`` random pixels of the central half of a ``height x width`` image."""
    if height == width:  # one draw for both axes, as the published MNIST results were made
        return rng.integers(height // 4, height - height // 4, size=(2, n))
    rows = rng.integers(height // 4, height - height // 4, size=n)
    return rows, rng.integers(width // 4, width - width // 4, size=n)


def shift(X, pixels, rng, image_shape=None):
    """Move each image by ``pixels`` (whole) up, down, left or right, chosen at random; the
    pixels that enter are black."""
    p = int(pixels)
    height, width = image_shape_of(X, image_shape)
    if p == 0:
        return X.copy()
    images, out = X.reshape(-1, height, width), np.zeros((len(X), height, width), X.dtype)
    direction = rng.integers(0, 4, len(X))
    every = slice(None)
    # (target, source) pixel ranges of rows and columns: up, down, left, right.
    moves = (
        ((slice(0, -p), every), (slice(p, None), every)),
        ((slice(p, None), every), (slice(0, -p), every)),
        ((every, slice(0, -p)), (every, slice(p, None))),
        ((every, slice(p, None)), (every, slice(0, -p))),
    )
    for d, (target, source) in enumerate(moves):
        chosen = np.flatnonzero(direction == d)
        out[(chosen, *target)] = images[(chosen, *source)]
    return out.reshape(X.shape)


def rotation(X, degrees, rng, image_shape=None):
    """Rotate each square image by ``degrees`` about its centre, clockwise or not at random,
    by bilinear sampling."""
    height, width = image_shape_of(X, image_shape)
    if height != width:  # the bilinear sampler of the augmentations handles squares only
        raise BarenetError(f"rotation needs square images, got {height}x{width}")
    side = height
    angles = np.radians(degrees) * rng.choice([-1.0, 1.0], len(X))
    r, c = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    centre = (side - 1) / 2
    r, c = r - centre, c - centre
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    # Inverse map: output pixel (r, c) reads the source at the point rotated back.
    src_r = (cos * r - sin * c + centre).astype(np.float32)
    src_c = (sin * r + cos * c + centre).astype(np.float32)
    out = sample_bilinear(X.reshape(-1, side, side), src_r, src_c)
    return np.clip(out.reshape(X.shape), 0, 1)


def random_sign(X, epsilon, rng, image_shape=None):
    """Move every pixel by ``epsilon`` up or down at random: FGSM's size without its aim."""
    signs = rng.integers(0, 2, X.shape).astype(X.dtype) * 2 - 1
    return np.clip(X + epsilon * signs, 0, 1)


def fgsm(net, X, y, epsilon):
    """``clip(X + epsilon * sign(dL/dX), 0, 1)``: each image pushed towards a wrong answer."""
    out = np.empty_like(X)
    for start in range(0, len(X), CHUNK):
        rows = slice(start, start + CHUNK)
        gradient = net.input_gradient(X[rows], y[rows])
        out[rows] = np.clip(X[rows] + epsilon * np.sign(gradient), 0, 1)
    return out


class GaussianNoise:
    """An augmentation for :meth:`~barenet.NeuralNetwork.train`: Gaussian noise of ``sigma``."""

    name = "gaussian_noise"

    def __init__(self, sigma=0.3):
        self.sigma = check.positive_float("sigma", sigma)

    def __call__(self, X, rng):
        return gaussian_noise(X, self.sigma, rng)

    def config(self):
        return {"name": self.name, "sigma": self.sigma}


@dataclass(frozen=True)
class Perturbation:
    """A perturbation by name: its function, default strengths (for 28 x 28 images) and what
    the strength measures; ``in_pixels`` marks strengths that count pixels, which
    :func:`default_strengths` scales to the size of other images."""

    fn: object
    strengths: tuple
    strength_label: str
    needs_model: bool = False
    in_pixels: bool = False


PERTURBATIONS = {
    "gaussian": Perturbation(gaussian_noise, (0, 0.1, 0.2, 0.3, 0.4, 0.5), "noise std σ"),
    "salt_and_pepper": Perturbation(
        salt_and_pepper, (0, 0.05, 0.1, 0.2, 0.3), "fraction of pixels set black or white"
    ),
    "occlusion": Perturbation(
        occlusion, (0, 4, 8, 12, 16), "side of the black square (pixels)", in_pixels=True
    ),
    "shift": Perturbation(shift, (0, 1, 2, 3, 4), "shift (pixels)", in_pixels=True),
    "rotation": Perturbation(rotation, (0, 15, 30, 45, 60), "rotation (degrees)"),
    "random_sign": Perturbation(random_sign, (0, 0.05, 0.1, 0.15, 0.2), "ε (change per pixel)"),
    "fgsm": Perturbation(fgsm, (0, 0.05, 0.1, 0.15, 0.2), "ε (change per pixel)", True),
}


def default_strengths(name, image_shape=(MNIST_SIDE, MNIST_SIDE)):
    """The strengths a study tries for perturbation ``name`` on images of ``image_shape``.

    Strengths counted in pixels (occlusion, shift) are meant for 28 x 28 images; for others
    they are scaled by the smaller side / 28 and rounded up to whole pixels, repeats dropped:
    on 8 x 8 digits, occlusion squares of 0, 2, 3, 4, 5 pixels and shifts of 0, 1, 2. The
    other strengths (noise levels, fractions, degrees, epsilons) do not depend on the size.
    """
    spec = PERTURBATIONS[name]
    side = min(int(s) for s in image_shape)
    if not spec.in_pixels or side == MNIST_SIDE:
        return tuple(spec.strengths)
    scaled = (math.ceil(strength * side / MNIST_SIDE) for strength in spec.strengths)
    return tuple(dict.fromkeys(scaled))
