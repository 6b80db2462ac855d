"""Prediction: logits in memory-bounded chunks, checked for overflow, and the scores of
the classic API (``predict``, ``predict_proba``, ``calculate_accuracy``, ``evaluate``).

A regression network (``loss="mse"``) predicts its outputs themselves, and scores them by the
squared-error loss and R^2; the class-only methods say so instead of answering.

:class:`Prediction` is a base of :class:`barenet.NeuralNetwork`; it needs the network's
``forward``, ``backward``, ``layers``, ``layer_names``, ``input_size``, ``input_shape``,
``output_size``, ``dtype``, ``loss`` and its input checks ``check_features`` / ``check_data``.
Besides the scores it gives what studies and the web page look at, in prediction mode too:
every layer's output (:meth:`activations`) and the gradient with respect to the inputs
(:meth:`input_gradient`).
"""

import math

import numpy as np

from barenet import validation as check
from barenet.nn.losses import LOSSES, cross_entropy, mean_squared_error, r2_score, softmax

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

    def validation_logs(self, X, y):
        """The epoch's validation figures on checked data, in prediction mode:
        ``{"val_loss", "val_accuracy"}``, or ``{"val_loss", "val_r2"}`` for regression."""
        return {f"val_{key}": value for key, value in self._scores(self._logits(X), y).items()}

    def _scores(self, outputs, y):
        if self.is_regression:
            return {"loss": mean_squared_error(outputs, y), "r2": r2_score(outputs, y)}
        accuracy = float(np.mean(outputs.argmax(axis=1) == y))
        return {"loss": cross_entropy(outputs, y), "accuracy": accuracy}

    def predict_proba(self, X):
        """Class probabilities ``(n_samples, output_size)``; each row sums to 1."""
        self._require_classifier("predict_proba")
        return softmax(self._checked_logits(self.check_features(X, finite=False)))

    def predict(self, X):
        """Predicted class labels ``(n_samples,)``; for regression, the outputs
        ``(n_samples, output_size)``."""
        outputs = self._checked_logits(self.check_features(X, finite=False))
        return outputs if self.is_regression else outputs.argmax(axis=1)

    def calculate_accuracy(self, X, y):
        """Fraction of samples whose predicted class equals the label (a float in [0, 1])."""
        self._require_classifier("calculate_accuracy", "evaluate(X, y) gives its R^2")
        X, y = self.check_data(X, y, finite=False)
        return float(np.mean(self._checked_logits(X).argmax(axis=1) == y))

    def evaluate(self, X, y):
        """``{"loss": mean cross-entropy, "accuracy": fraction correct}`` on ``(X, y)``; for
        regression ``{"loss": mean squared-error loss, "r2": R^2}``."""
        X, y = self.check_data(X, y, finite=False)
        return self._scores(self._checked_logits(X), y)

    def input_gradient(self, X, y):
        """``dL/dX``, the gradient of the mean loss with respect to the inputs, shaped as ``X``.

        Prediction mode (no dropout, batch norm's running statistics): what an attack such as
        FGSM needs. ``self.grads`` is overwritten on the way.
        """
        shape = np.shape(X)
        X, y = self.check_data(X, y, finite=False)

        def loss_gradient(outputs):  # the fused loss writes dL/d outputs into their buffer
            LOSSES[self.loss](outputs, y, outputs)

        return self._to_inputs(X, loss_gradient).reshape(shape)

    def score_gradient(self, X, k):
        """``d z_k / dX``: the gradient of output ``k`` (class ``k``'s logit, or a regression
        output) with respect to the inputs, shaped as ``X``: which input values raise that score,
        the saliency map of a picture. Prediction mode; ``self.grads`` is overwritten."""
        shape = np.shape(X)
        k = check.positive_int("k", k, minimum=0)
        if k >= self.output_size:
            raise check.BarenetError(f"k must be below the {self.output_size} outputs, got {k}")

        def one_hot(outputs):  # dz_k/dZ: 1 in column k, 0 elsewhere
            outputs[...] = 0
            outputs[:, k] = 1

        return self._to_inputs(self.check_features(X, finite=False), one_hot).reshape(shape)

    def _to_inputs(self, X, output_gradient):
        """Forward in prediction mode, ``output_gradient(outputs)`` turns the outputs' buffer into
        ``d(something)/d outputs`` in place, then backward through every layer to the inputs
        (the first layers, which skip ``dL/dX`` in training, are asked for it); a new array."""
        flags = [layer.input_grad for layer in self.layers]
        for layer in self.layers:
            layer.input_grad = True
        try:
            outputs = self.forward(X, training=False)
            output_gradient(outputs)
            return self.backward(outputs).copy()
        finally:
            for layer, flag in zip(self.layers, flags):
                layer.input_grad = flag

    def activations(self, X):
        """Every layer's output for the batch ``X`` in prediction mode:
        ``{layer name: array (batch, *output_shape)}`` in layer order (copies)."""
        X = self.check_features(X).reshape(-1, *self.input_shape)
        outputs = {}
        for name, layer in zip(self.layer_names(), self.layers):
            X = layer.forward(X, training=False)
            outputs[name] = X.copy()
        return outputs

    def _require_classifier(self, method, instead="predict(X) gives its outputs"):
        if self.is_regression:
            raise check.BarenetError(
                f"{method} is for classifiers; this network does regression (loss='mse'): {instead}"
            )

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
