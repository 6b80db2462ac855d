"""Damaged images for robustness tests, and the fast gradient sign method (FGSM) attack.

Every perturbation maps images ``X (n, 784)`` with pixels in [0, 1] to a new array of the same
shape, still in [0, 1], with one ``strength`` (0 leaves the images as they are) and a NumPy
generator for its randomness. :data:`PERTURBATIONS` names them, with the strengths a study
tries by default and what the strength measures.

FGSM (Goodfellow, Shlens & Szegedy 2015) moves every pixel by ``epsilon`` in the direction that
increases the loss: ``X + epsilon * sign(dL/dX)``. Its random twin :func:`random_sign` moves every
pixel by ``epsilon`` in a random direction: the same size of change, without the aim.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..augment import sample_bilinear
from ..layers import BatchNorm
from ..losses import softmax_cross_entropy

SIDE = 28
CHUNK = 4096  # images per forward and backward pass of the attack


def gaussian_noise(X, sigma, rng):
    """Add noise drawn from N(0, sigma^2) to every pixel, then clip to [0, 1]."""
    noise = rng.standard_normal(X.shape, dtype=np.float32).astype(X.dtype, copy=False)
    return np.clip(X + sigma * noise, 0, 1)


def salt_and_pepper(X, fraction, rng):
    """Set a random ``fraction`` of the pixels to black or white (half each)."""
    hit = rng.random(X.shape) < fraction
    out = X.copy()
    out[hit] = rng.random(int(hit.sum())) < 0.5
    return out


def occlusion(X, size, rng):
    """Black out a ``size`` x ``size`` square in each image, centred at a random point of the
    central 14 x 14 pixels (where the strokes are: MNIST digits are centred in a 20 x 20 box)."""
    size = int(size)
    out = X.copy().reshape(-1, SIDE, SIDE)
    if size == 0:
        return out.reshape(X.shape)
    centres = rng.integers(7, 21, size=(2, len(out)))
    for image, r, c in zip(out, *centres):
        top, left = max(r - size // 2, 0), max(c - size // 2, 0)
        image[top : top + size, left : left + size] = 0
    return out.reshape(X.shape)


def shift(X, pixels, rng):
    """Move each image by ``pixels`` (whole) up, down, left or right, chosen at random; the
    pixels that enter are black."""
    p = int(pixels)
    images, out = X.reshape(-1, SIDE, SIDE), np.zeros((len(X), SIDE, SIDE), X.dtype)
    if p == 0:
        return X.copy()
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


def rotation(X, degrees, rng):
    """Rotate each image by ``degrees`` about its centre, clockwise or not at random, by
    bilinear sampling."""
    angles = np.radians(degrees) * rng.choice([-1.0, 1.0], len(X))
    r, c = np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij")
    centre = (SIDE - 1) / 2
    r, c = r - centre, c - centre
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    # Inverse map: output pixel (r, c) reads the source at the point rotated back.
    src_r = (cos * r - sin * c + centre).astype(np.float32)
    src_c = (sin * r + cos * c + centre).astype(np.float32)
    out = sample_bilinear(X.reshape(-1, SIDE, SIDE), src_r, src_c)
    return np.clip(out.reshape(X.shape), 0, 1)


def random_sign(X, epsilon, rng):
    """Move every pixel by ``epsilon`` up or down at random: FGSM's size without its aim."""
    signs = rng.integers(0, 2, X.shape).astype(X.dtype) * 2 - 1
    return np.clip(X + epsilon * signs, 0, 1)


def input_gradient(net, X, y):
    """``dL/dX (n, 784)``: the gradient of the mean cross-entropy with respect to the images.

    Runs the layers forward in prediction mode, then backward in reverse order. A network's
    first Dense layer skips ``dX`` (training never needs it: ``layer.input_grad`` is False),
    so it is switched on for this call only. Batch normalisation in prediction mode is a fixed
    affine map, whose backward is a product by ``gamma / sqrt(running_var + eps)``. The
    layers' parameter gradients (``net.grads``) are overwritten on the way.
    """
    X = np.ascontiguousarray(X, dtype=net.dtype)
    dZ = X
    for layer in net.layers:
        dZ = layer.forward(dZ, training=False)
    softmax_cross_entropy(dZ, np.asarray(y), dZ)  # the logits become dL/dlogits
    first = net.layers[0]
    first.input_grad = True
    try:
        for layer in reversed(net.layers):
            if isinstance(layer, BatchNorm):
                dZ = dZ * (layer.gamma / np.sqrt(layer.running_var + layer.eps))
            else:
                dZ = layer.backward(dZ)
    finally:
        first.input_grad = False
    return dZ.copy()  # the layer's work buffer is reused by the next pass


def fgsm(net, X, y, epsilon):
    """``clip(X + epsilon * sign(dL/dX), 0, 1)``: each image pushed towards a wrong answer."""
    out = np.empty_like(X)
    for start in range(0, len(X), CHUNK):
        rows = slice(start, start + CHUNK)
        gradient = input_gradient(net, X[rows], y[rows])
        out[rows] = np.clip(X[rows] + epsilon * np.sign(gradient), 0, 1)
    return out


class GaussianNoise:
    """An augmentation for :meth:`~barenet.NeuralNetwork.train`: Gaussian noise of ``sigma``."""

    name = "gaussian_noise"

    def __init__(self, sigma=0.3):
        if not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive number, got {sigma}")
        self.sigma = float(sigma)

    def __call__(self, X, rng):
        return gaussian_noise(X, self.sigma, rng)

    def config(self):
        return {"name": self.name, "sigma": self.sigma}


@dataclass(frozen=True)
class Perturbation:
    """A perturbation by name: its function, default strengths and what the strength means."""

    fn: object
    strengths: tuple
    strength_label: str
    needs_model: bool = False


PERTURBATIONS = {
    "gaussian": Perturbation(gaussian_noise, (0, 0.1, 0.2, 0.3, 0.4, 0.5), "noise std σ"),
    "salt_and_pepper": Perturbation(
        salt_and_pepper, (0, 0.05, 0.1, 0.2, 0.3), "fraction of pixels set black or white"
    ),
    "occlusion": Perturbation(occlusion, (0, 4, 8, 12, 16), "side of the black square (pixels)"),
    "shift": Perturbation(shift, (0, 1, 2, 3, 4), "shift (pixels)"),
    "rotation": Perturbation(rotation, (0, 15, 30, 45, 60), "rotation (degrees)"),
    "random_sign": Perturbation(random_sign, (0, 0.05, 0.1, 0.15, 0.2), "ε (change per pixel)"),
    "fgsm": Perturbation(fgsm, (0, 0.05, 0.1, 0.15, 0.2), "ε (change per pixel)", True),
}
