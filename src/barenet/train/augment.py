"""Image augmentation for square images stored as rows, done in NumPy on each batch.

Every transform maps a batch ``X (B, side*side)`` to a new batch of the same shape by sampling
each output pixel ``(r, c)`` at a source point ``(r', c')`` of its own image, with bilinear
interpolation and zero (background) outside the image. They differ only in the source points:
a shift moves them by whole pixels, an affine map rotates/scales/shifts them about the image
centre, an elastic distortion (Simard, Steinkraus & Platt 2003) displaces them by a random field
smoothed with a Gaussian, so nearby pixels move together like ink on a flexing sheet.
The caller's batch is never modified.
"""

import math

import numpy as np

from barenet import validation as check
from barenet.errors import BarenetError
from barenet.specs import from_spec


def _grid(side):
    """Pixel coordinates ``(rows, cols)`` of a ``side x side`` image, each ``(side, side)``."""
    r = np.arange(side, dtype=np.float32)
    return np.meshgrid(r, r, indexing="ij")


def sample_bilinear(images, src_r, src_c):
    """Sample ``images (B, s, s)`` at float coordinates ``src_r, src_c (B, s, s)``; zero outside.

    Each value mixes the four pixels around the source point, weighted by closeness:
    ``top = v00 + fc (v01 - v00)``, ``bottom = v10 + fc (v11 - v10)``,
    ``v = top + fr (bottom - top)`` with ``fr, fc`` the fractional parts. A one-pixel zero border
    lets points just outside the image blend with the background, and clipping sends points far
    outside onto that border. The arithmetic is in place, in float32 and int32: at these sizes
    fresh temporaries cost more (page faults) than the arithmetic itself.
    """
    B, s, _ = images.shape
    w = s + 2
    padded = np.zeros((B, w, w), images.dtype)
    padded[:, 1:-1, 1:-1] = images
    # Coordinates in the padded image, clipped so that r0 + 1 and c0 + 1 stay inside it.
    fr = np.clip(src_r + 1, 0, s + 0.999).astype(np.float32, copy=False)
    fc = np.clip(src_c + 1, 0, s + 0.999).astype(np.float32, copy=False)
    r0, c0 = fr.astype(np.int32), fc.astype(np.int32)  # floor, as both are >= 0
    fr -= r0
    fc -= c0
    index = r0 * w
    index += c0
    index += (np.arange(B, dtype=np.int32) * w * w)[:, None, None]
    flat = padded.ravel()
    top = flat.take(index)  # v00
    index += 1
    v01 = flat.take(index)
    index += w
    bottom = flat.take(index)  # v11 for now
    index -= 1
    v10 = flat.take(index)
    v01 -= top
    v01 *= fc
    top += v01  # top = v00 + fc (v01 - v00)
    bottom -= v10
    bottom *= fc
    bottom += v10  # bottom = v10 + fc (v11 - v10)
    bottom -= top
    bottom *= fr
    top += bottom
    return top


def _side(X):
    side = math.isqrt(X.shape[1])
    if side * side != X.shape[1]:
        raise BarenetError(f"augmentation needs square images, got {X.shape[1]} features per row")
    return side


class Shift:
    """Random translation by up to ``max_shift`` whole pixels in each direction."""

    name = "shift"

    def __init__(self, max_shift=2):
        self.max_shift = check.positive_int("max_shift", max_shift, minimum=0)

    def __call__(self, X, rng):
        side, B = _side(X), len(X)
        k = self.max_shift
        padded = np.zeros((B, side + 2 * k, side + 2 * k), X.dtype)
        padded[:, k : -k or None, k : -k or None] = X.reshape(B, side, side)
        dr, dc = rng.integers(-k, k + 1, size=(2, B))
        rows = (np.arange(side)[None, :] + k - dr[:, None])[:, :, None]  # (B, side, 1)
        cols = (np.arange(side)[None, :] + k - dc[:, None])[:, None, :]  # (B, 1, side)
        return padded[np.arange(B)[:, None, None], rows, cols].reshape(B, -1)

    def config(self):
        return {"name": self.name, "max_shift": self.max_shift}


class Affine:
    """Random rotation (degrees), scaling and translation (pixels) about the image centre."""

    name = "affine"

    def __init__(self, rotation=10.0, scale=0.1, shift=2.0):
        self.rotation = check.positive_float("rotation", rotation, allow_zero=True)
        self.scale = check.fraction("scale", scale)  # zoom factors stay in (0, 2)
        self.shift = check.positive_float("shift", shift, allow_zero=True)

    def __call__(self, X, rng):
        side, B = _side(X), len(X)
        angle = np.radians(rng.uniform(-self.rotation, self.rotation, B)).astype(np.float32)
        zoom = rng.uniform(1 - self.scale, 1 + self.scale, B).astype(np.float32)
        dr, dc = rng.uniform(-self.shift, self.shift, (2, B)).astype(np.float32)
        r, c = _grid(side)
        centre = (side - 1) / 2
        r, c = r - centre, c - centre
        cos, sin = (np.cos(angle) / zoom)[:, None, None], (np.sin(angle) / zoom)[:, None, None]
        # Inverse map: where in the source does output pixel (r, c) come from.
        src_r = cos * (r - dr[:, None, None]) - sin * (c - dc[:, None, None]) + centre
        src_c = sin * (r - dr[:, None, None]) + cos * (c - dc[:, None, None]) + centre
        return sample_bilinear(X.reshape(B, side, side), src_r, src_c).reshape(B, -1)

    def config(self):
        return {
            "name": self.name,
            "rotation": self.rotation,
            "scale": self.scale,
            "shift": self.shift,
        }


class Elastic:
    """Elastic distortion: a random displacement field smoothed by a Gaussian of width ``sigma``
    and scaled by ``alpha`` pixels, after an optional affine transform.

    Smoothing ``F`` along both axes is ``G F G^T`` with ``G`` the Gaussian blur matrix, two small
    matrix products per batch.
    """

    name = "elastic"

    def __init__(self, alpha=34.0, sigma=4.0, affine=None):
        self.alpha = check.positive_float("alpha", alpha, allow_zero=True)
        self.sigma = check.positive_float("sigma", sigma)
        self.affine = Affine(**affine) if isinstance(affine, dict) else affine

    def __call__(self, X, rng):
        if self.affine is not None:
            X = self.affine(X, rng)
        side, B = _side(X), len(X)
        G = _gaussian_matrix(side, self.sigma)
        field = rng.uniform(-1, 1, (2, B, side, side)).astype(np.float32)
        field = G @ field @ G.T  # smooth each displacement map along rows and columns
        field *= self.alpha
        r, c = _grid(side)
        return sample_bilinear(X.reshape(B, side, side), r + field[0], c + field[1]).reshape(B, -1)

    def config(self):
        return {
            "name": self.name,
            "alpha": self.alpha,
            "sigma": self.sigma,
            "affine": self.affine.config() if self.affine else None,
        }


def _gaussian_matrix(n, sigma):
    """``G (n, n)`` with rows of a normalised Gaussian: ``G @ v`` blurs a vector ``v``."""
    i = np.arange(n, dtype=np.float32)
    G = np.exp(-((i[:, None] - i[None, :]) ** 2) / (2 * sigma**2))
    return G / G.sum(axis=1, keepdims=True)


AUGMENTATIONS = {cls.name: cls for cls in (Shift, Affine, Elastic)}


def get_augmentation(spec):
    """An augmentation from a name, a config dict, a callable ``f(X, rng)``, or ``None``."""
    if spec is None or callable(spec):
        return spec
    return from_spec(spec, AUGMENTATIONS, "augmentation")
