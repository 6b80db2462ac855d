"""Prediction: logits in memory-bounded chunks, checked for overflow, and the scores of the
original project's API (``predict``, ``predict_proba``, ``calculate_accuracy``, ``evaluate``).

:class:`Prediction` is a base of :class:`barenet.NeuralNetwork`; it needs the network's
``forward``, ``layers``, ``input_size``, ``output_size``, ``dtype`` and its input checks
``_check_features`` / ``_check_data``.
"""

import math

import numpy as np

from barenet import validation as check
from barenet.nn.losses import cross_entropy, softmax

CHUNK_VALUES = 1 << 22  # values of the widest layer per prediction chunk: bounds memory
MAX_CHUNK = 16384  # rows per forward pass at prediction time, at most: keeps BLAS busy


class Prediction:
    """Predicting in prediction mode (no dropout, batch norm's running statistics)."""

    def _chunk_rows(self):
        """Rows per prediction pass, so that the widest layer holds about CHUNK_VALUES values."""
        widest = max(math.prod(layer.output_shape) for layer in self.layers)
        return int(np.clip(CHUNK_VALUES // max(widest, self.input_size), 64, MAX_CHUNK))

    def _logits(self, X):
        """Logits for a validated ``X`` of any length, computed in chunks; a new array."""
        out = np.empty((len(X), self.output_size), self.dtype)
        step = self._chunk_rows()
        for start in range(0, len(X), step):
            out[start : start + step] = self.forward(X[start : start + step])
        return out

    def loss_and_accuracy(self, X, y):
        """``(mean cross-entropy, accuracy)`` on checked data, in prediction mode."""
        logits = self._logits(X)
        accuracy = float(np.mean(logits.argmax(axis=1) == y))
        return cross_entropy(logits, y), accuracy

    def predict_proba(self, X):
        """Class probabilities ``(n_samples, output_size)``; each row sums to 1."""
        return softmax(self._checked_logits(self._check_features(X, finite=False)))

    def predict(self, X):
        """Predicted class labels ``(n_samples,)``."""
        return self._checked_logits(self._check_features(X, finite=False)).argmax(axis=1)

    def calculate_accuracy(self, X, y):
        """Fraction of samples whose predicted class equals the label (a float in [0, 1])."""
        X, y = self._check_data(X, y, finite=False)
        return float(np.mean(self._checked_logits(X).argmax(axis=1) == y))

    def evaluate(self, X, y):
        """``{"loss": mean cross-entropy, "accuracy": fraction correct}`` on ``(X, y)``."""
        X, y = self._check_data(X, y, finite=False)
        logits = self._checked_logits(X)
        accuracy = float(np.mean(logits.argmax(axis=1) == y))
        return {"loss": cross_entropy(logits, y), "accuracy": accuracy}

    def _checked_logits(self, X, name="X"):
        """Logits of ``X``, which has not been tested for NaN: a NaN or infinite input makes
        the logits non-finite, so testing them (10 numbers a row, not 784) finds it."""
        with np.errstate(invalid="ignore", over="ignore"):  # reported below, by name
            logits = self._logits(X)
        if not np.isfinite(logits).all():
            check.require_finite(X, name)
            raise check.DataError(
                f"{name} has values too large for this network (largest "
                f"{np.abs(X).max():g}): the outputs overflowed"
            )
        return logits
