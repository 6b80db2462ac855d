"""Standardisation: features (and regression targets) in the user's units outside, about unit
scale inside the network.

A network trained on table data whose columns are in the thousands (a house's area, its price)
takes steps sized for inputs of about 1 and diverges or stalls. :class:`Standardization` maps
each column ``x_j`` to ``z_j = (x_j - mean_j) / scale_j``, with the mean and the standard
deviation of the training rows (a constant column keeps ``scale_j = 1``: it carries no
information, and dividing by zero would make one). A network holding one for its inputs
(``net.input_scaling``) and, for regression, one for its targets (``net.output_scaling``) takes
and returns numbers in the user's units in ``train``, ``predict``, ``evaluate`` and its ONNX
export, and keeps the statistics in its model file.
"""

import numpy as np

from barenet.errors import DataError


class Standardization:
    """Per-column standardisation ``z = (x - mean) / scale`` and back, ``x = z * scale + mean``.

    Parameters
    ----------
    mean, scale : array-like (n_columns,)
        The statistics, kept in float64; every ``scale`` must be finite and > 0.
    """

    def __init__(self, mean, scale):
        self.mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        self.scale = np.asarray(scale, dtype=np.float64).reshape(-1)
        if self.mean.shape != self.scale.shape or not self.mean.size:
            raise DataError(
                f"a standardisation needs one mean and one scale per column, got "
                f"{self.mean.size} and {self.scale.size}"
            )
        if not (np.isfinite(self.mean).all() and np.isfinite(self.scale).all()):
            raise DataError("a standardisation's mean and scale must be finite")
        if (self.scale <= 0).any():
            raise DataError("a standardisation's scale must be > 0 in every column")

    @classmethod
    def fit(cls, X):
        """The standardisation of the columns of ``X`` ``(n, columns)`` (or ``(n,)``, one
        column): their mean and standard deviation, in float64; a column whose spread is
        rounding noise (a constant one) gets scale 1."""
        X = np.asarray(X, dtype=np.float64)
        X = X.reshape(len(X), -1)
        mean, std = X.mean(axis=0), X.std(axis=0)
        # The spread of a constant column, computed in floating point, is a few ulps of its
        # values: not a scale to divide by (scikit-learn's StandardScaler has the same guard).
        noise = 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
        return cls(mean, np.where(std > noise, std, 1.0))

    @property
    def size(self):
        """The number of columns."""
        return self.mean.size

    def apply(self, X, dtype=None):
        """``(X - mean) / scale``: a new array of ``dtype`` (default: ``X``'s float type)
        shaped as ``X``, whose last axis, or flat rows, are the columns; ``X`` is unchanged."""
        X = np.asarray(X)
        dtype = np.dtype(dtype or (X.dtype if X.dtype.kind == "f" else np.float64))
        shape = X.shape
        out = np.array(X, dtype=dtype).reshape(len(X), -1)  # a copy: the caller's stays as it is
        out -= self.mean.astype(dtype)
        out /= self.scale.astype(dtype)
        return out.reshape(shape)

    def invert(self, Z, dtype=None):
        """``Z * scale + mean``, the user's units again: a new array of ``dtype`` (default:
        ``Z``'s) shaped as ``Z`` ``(n, columns)``."""
        Z = np.asarray(Z)
        dtype = np.dtype(dtype or Z.dtype)
        out = np.array(Z, dtype=dtype)
        out *= self.scale.astype(dtype)
        out += self.mean.astype(dtype)
        return out

    def to_dict(self):
        """``{"mean": [...], "scale": [...]}``, JSON-able."""
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    def __eq__(self, other):
        return (
            isinstance(other, Standardization)
            and np.array_equal(self.mean, other.mean)
            and np.array_equal(self.scale, other.scale)
        )

    def __repr__(self):
        return f"Standardization({self.size} columns)"
