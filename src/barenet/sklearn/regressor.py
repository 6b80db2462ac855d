"""The regressor: identity outputs, squared error, one or several targets.

The targets are standardised inside ``fit`` (each output to mean 0 and standard deviation 1,
the statistics kept in ``y_mean_`` and ``y_scale_``) and predictions are mapped back, so the
defaults work whatever the targets' units: a target in the hundreds (diabetes' 25..346) would
otherwise need hundreds of epochs before the outputs even reach its scale. ``loss_curve_`` is
therefore in standardised units: ``1/(2n) sum ||y_hat - y||^2 / y_scale^2``.
"""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from barenet.sklearn.base import FLOATS, BaseMLP, in_row_blocks, validate_data


class MLPRegressor(RegressorMixin, BaseMLP):
    """Fully connected neural-network regressor trained by barenet (``loss="mse"``).

    The parameters and the attributes ``network_``, ``history_``, ``loss_curve_``, ``n_iter_``
    are those of :class:`~barenet.sklearn.base.BaseMLP`; ``score`` is R^2. With every default
    it trains a 100-unit ReLU layer with Adam until the training loss stops improving.

    Attributes
    ----------
    n_outputs_ : the number of targets; ``predict`` gives ``(n_samples,)`` for one,
        ``(n_samples, n_outputs_)`` for more.
    y_mean_, y_scale_ : ``(n_outputs_,)``, the standardisation of the targets (see the module).
    """

    _loss = "mse"
    _monitor = "val_loss"

    def fit(self, X, y):
        """Train a new network on ``X (n_samples, n_features)`` and targets ``y (n_samples,)``
        or ``(n_samples, n_outputs)``."""
        X, Y = self._validate(X, y, reset=True)
        self.y_mean_, self.y_scale_ = _standardisation(Y)
        return self._fit_new(X, self._scaled(Y), Y.shape[1])

    def partial_fit(self, X, y):
        """Train one epoch on ``(X, y)``, continuing from the current weights (and optimizer).

        The first call (before any ``fit``) fixes the targets' standardisation from its ``y``
        (and ``l2="auto"`` from its number of samples).
        ``early_stopping`` does not apply here.
        """
        first = not hasattr(self, "network_")
        X, Y = self._validate(X, y, reset=first)
        if first:
            mean, scale = _standardisation(Y)
            network = self._new_network(X.shape[1], Y.shape[1], self._draw_seed(), len(X))
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} output(s) but this regressor was fitted with {self.n_outputs_}"
            )
        else:
            mean, scale, network = self.y_mean_, self.y_scale_, self.network_
        self._train(network, X, (Y - mean) / scale, one_epoch=True)
        if first:  # only once every input is known to be good: no half-fitted estimator
            self.y_mean_, self.y_scale_, self.network_ = mean, scale, network
        return self._record()

    def predict(self, X):
        """Predicted targets: ``(n_samples,)`` for one output, else ``(n_samples, n_outputs_)``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOATS, reset=False)
        Y = in_row_blocks(self.network_.predict, X) * self.y_scale_ + self.y_mean_
        return Y[:, 0] if self.n_outputs_ == 1 else Y

    def _validate(self, X, y, reset):
        X, y = validate_data(self, X, y, dtype=FLOATS, multi_output=True, y_numeric=True,
                             reset=reset)  # fmt: skip
        Y = np.asarray(y, dtype=np.float64)
        Y = Y[:, None] if Y.ndim == 1 else Y
        if reset:
            self.n_outputs_ = Y.shape[1]
        return X, Y

    def _scaled(self, Y):
        return (Y - self.y_mean_) / self.y_scale_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


def _standardisation(Y):
    """``(mean, scale)`` of each target column; a constant column gets scale 1."""
    mean, scale = Y.mean(axis=0), Y.std(axis=0)
    return mean, np.where(scale > 0, scale, 1.0)
