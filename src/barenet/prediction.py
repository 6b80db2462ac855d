"""Prediction: logits in memory-bounded chunks, checked for overflow, and the scores of
the classic API (``predict``, ``predict_proba``, ``calculate_accuracy``, ``evaluate``).

A regression network (``loss="mse"``) predicts its outputs themselves, and scores them by the
squared-error loss and R^2; the class-only methods say so instead of answering.

A network may hold a standardisation of its inputs (``input_scaling``) and, for regression, of
its targets (``output_scaling``), :class:`~barenet.scaling.Standardization` objects: the
methods here then take inputs and targets, and return outputs, in the user's units, and work in
the network's inside. A network remembers the range of the inputs it was trained on
(``input_range``) and warns, with an :class:`~barenet.validation.InputRangeWarning`, when asked
about inputs far outside it (pixels on the 0-255 scale given to a network trained on [0, 1]).

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
CHUNK_MULTIPLE = 64  # chunks are whole multiples of this many rows (see Prediction._chunk_rows)


class Prediction:
    """Predicting in prediction mode (no dropout, batch norm's running statistics)."""

    input_scaling = None  # a Standardization of the inputs, or None: inputs as they are
    output_scaling = None  # a Standardization of the regression targets, or None
    input_range = None  # [lowest, highest] input value seen in training, or None

    def _chunk_rows(self):
        """Rows per prediction pass, so that the widest layer holds about CHUNK_VALUES values;
        a multiple of CHUNK_MULTIPLE, so that a long prediction cuts its rows where one padded
        to whole blocks (``barenet.sklearn``) does, and the matrix kernels treat each row alike."""
        widest = max(math.prod(layer.output_shape) for layer in self.layers)
        rows = int(np.clip(CHUNK_VALUES // max(widest, self.input_size), 64, MAX_CHUNK))
        return max(CHUNK_MULTIPLE, rows - rows % CHUNK_MULTIPLE)

    def _logits(self, X):
        """Logits for a validated ``X`` of any length, computed in chunks; a new array."""
        out = np.empty((len(X), self.output_size), self.dtype)
        step = self._chunk_rows()
        for start in range(0, len(X), step):
            out[start : start + step] = self.forward(X[start : start + step])
        return out

    def validation_logs(self, X, y):
        """The epoch's validation figures on checked data, in prediction mode:
        ``{"val_loss", "val_accuracy"}``, or ``{"val_loss", "val_r2"}`` for regression.

        ``X`` and ``y`` are in the network's units, as :meth:`train` hands them to the
        trainer (standardised, when the network standardises)."""
        return {f"val_{key}": value for key, value in self._scores(self._logits(X), y).items()}

    def _scores(self, outputs, y):
        if self.is_regression:
            return {"loss": mean_squared_error(outputs, y), "r2": r2_score(outputs, y)}
        accuracy = float(np.mean(outputs.argmax(axis=1) == y))
        return {"loss": cross_entropy(outputs, y), "accuracy": accuracy}

    def predict_proba(self, X):
        """Class probabilities ``(n_samples, output_size)``; each row sums to 1."""
        self._require_classifier("predict_proba")
        return softmax(self._checked_logits(self._inputs(X)))

    def predict(self, X):
        """Predicted class labels ``(n_samples,)``; for regression, the outputs
        ``(n_samples, output_size)``, in the targets' units."""
        outputs = self._checked_logits(self._inputs(X))
        return self._in_target_units(outputs) if self.is_regression else outputs.argmax(axis=1)

    def calculate_accuracy(self, X, y):
        """Fraction of samples whose predicted class equals the label (a float in [0, 1])."""
        self._require_classifier("calculate_accuracy", "evaluate(X, y) gives its R^2")
        X, y = self.check_data(X, y, finite=False)
        return float(np.mean(self._checked_logits(self._inputs(X)).argmax(axis=1) == y))

    def evaluate(self, X, y):
        """``{"loss": mean cross-entropy, "accuracy": fraction correct}`` on ``(X, y)``; for
        regression ``{"loss": mean squared-error loss, "r2": R^2}``, in the targets' units."""
        X, y = self.check_data(X, y, finite=False)
        outputs = self._checked_logits(self._inputs(X))
        if self.is_regression:
            outputs = self._in_target_units(outputs)
        return self._scores(outputs, y)

    # -- the user's units and the network's ------------------------------------------------------

    def scale_inputs(self, X):
        """Checked inputs ``X`` in the network's units: standardised by ``input_scaling``
        (a new array), or ``X`` itself without one."""
        if self.input_scaling is None:
            return X
        return self.input_scaling.apply(X, self.dtype)

    def scale_targets(self, y):
        """Checked regression targets ``(n, outputs)`` in the network's units
        (``output_scaling``), or ``y`` itself: class labels, or no standardisation."""
        if self.output_scaling is None or not self.is_regression:
            return y
        return self.output_scaling.apply(y, self.dtype)

    def _in_target_units(self, outputs):
        """Regression outputs in the targets' units (``output_scaling`` inverted)."""
        if self.output_scaling is None:
            return outputs
        return self.output_scaling.invert(outputs, self.dtype)

    def _inputs(self, X, name="X"):
        """``X`` checked, compared with the range the network was trained on, and scaled."""
        X = self.check_features(X, name, finite=False)
        self.warn_if_outside_training_range(X, name)
        return self.scale_inputs(X)

    def remember_input_range(self, X):
        """Widen ``input_range`` to hold the values of the training inputs ``X`` (finite,
        checked), in the user's units: what :meth:`warn_if_outside_training_range` compares."""
        low, high = float(X.min()), float(X.max())
        if self.input_range is not None:
            low, high = min(low, self.input_range[0]), max(high, self.input_range[1])
        self.input_range = [low, high]

    def warn_if_outside_training_range(self, X, name="X", stacklevel=4):
        """Warn (:class:`~barenet.validation.InputRangeWarning`) when ``X`` reaches far outside
        ``input_range``, the values the network was trained on (see
        :func:`barenet.validation.warn_if_outside`); nothing for a network never trained."""
        if self.input_range is not None:
            check.warn_if_outside(X, self.input_range, name, stacklevel + 1)

    def input_gradient(self, X, y):
        """``dL/dX``, the gradient of the mean loss with respect to the inputs, shaped as ``X``.

        Prediction mode (no dropout, batch norm's running statistics): what an attack such as
        FGSM needs. ``self.grads`` is overwritten on the way.
        """
        shape = np.shape(X)
        X, y = self.check_data(X, y, finite=False)
        y = self.scale_targets(y)  # the loss of training: in the network's units

        def loss_gradient(outputs):  # the fused loss writes dL/d outputs into their buffer
            LOSSES[self.loss](outputs, y, outputs)

        return self._to_inputs(self.scale_inputs(X), loss_gradient).reshape(shape)

    def score_gradient(self, X, k):
        """``d z_k / dX``: the gradient of output ``k`` (class ``k``'s logit, or a regression
        output) with respect to the inputs, shaped as ``X``: which input values raise that score,
        the saliency map of a picture. Prediction mode; ``self.grads`` is overwritten."""
        shape = np.shape(X)
        k = check.positive_int("k", k, minimum=0)
        if k >= self.output_size:
            raise check.BarenetError(f"k must be below the {self.output_size} outputs, got {k}")

        unit = 1.0  # d(output in the target's units)/d(output): its standard deviation
        if self.output_scaling is not None and self.is_regression:
            unit = self.output_scaling.scale[k]

        def one_hot(outputs):  # dz_k/dZ: 1 in column k, 0 elsewhere
            outputs[...] = 0
            outputs[:, k] = unit

        X = self.scale_inputs(self.check_features(X, finite=False))
        return self._to_inputs(X, one_hot).reshape(shape)

    def _to_inputs(self, X, output_gradient):
        """Forward in prediction mode, ``output_gradient(outputs)`` turns the outputs' buffer into
        ``d(something)/d outputs`` in place, then backward through every layer to the inputs
        (the first layers, which skip ``dL/dX`` in training, are asked for it); a new array,
        with respect to the inputs in the user's units (divided by ``input_scaling``'s scale:
        the chain rule through ``z = (x - mean) / scale``)."""
        flags = [layer.input_grad for layer in self.layers]
        for layer in self.layers:
            layer.input_grad = True
        try:
            outputs = self.forward(X, training=False)
            output_gradient(outputs)
            gradient = self.backward(outputs).copy()
        finally:
            for layer, flag in zip(self.layers, flags):
                layer.input_grad = flag
        if self.input_scaling is not None:
            gradient = gradient.reshape(len(X), -1)
            gradient /= self.input_scaling.scale.astype(gradient.dtype)
        return gradient

    def activations(self, X):
        """Every layer's output for the batch ``X`` in prediction mode:
        ``{layer name: array (batch, *output_shape)}`` in layer order (copies)."""
        X = self.scale_inputs(self.check_features(X)).reshape(-1, *self.input_shape)
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
