"""The classifier: softmax outputs, cross-entropy, labels of any type.

Labels (strings too) are mapped to ``0..n_classes-1`` for the network and back; the training
loop, its stopping rules and the defaults are those of :class:`~barenet.sklearn.base.BaseMLP`.
"""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from barenet.errors import BarenetError
from barenet.sklearn.base import FLOATS, BaseMLP, in_row_blocks, validate_data


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Fully connected neural-network classifier trained by barenet (softmax output).

    The parameters and the attributes ``network_``, ``history_``, ``loss_curve_``, ``n_iter_``
    are those of :class:`~barenet.sklearn.base.BaseMLP`. With every default it trains a
    100-unit ReLU layer with Adam until the training loss stops improving.

    Attributes
    ----------
    classes_ : the class labels ``(n_classes,)``, sorted; column ``k`` of ``predict_proba``.
    """

    _loss = "cross_entropy"
    _monitor = "val_accuracy"

    def fit(self, X, y):
        """Train a new network on ``X (n_samples, n_features)`` and labels ``y (n_samples,)``."""
        X, y = validate_data(self, X, y, dtype=FLOATS)
        check_classification_targets(y)
        classes, y = np.unique(y, return_inverse=True)
        self.classes_ = _at_least_two(classes)
        return self._fit_new(X, y, len(self.classes_), stratify=y)

    def partial_fit(self, X, y, classes=None):
        """Train one epoch on ``(X, y)``, continuing from the current weights (and optimizer).

        The first call (before any ``fit``) needs ``classes``, every label that will ever
        appear; ``l2="auto"`` counts the samples of that first call. ``early_stopping`` does not
        apply here.
        """
        first = not hasattr(self, "network_")
        if first and classes is None:
            raise BarenetError("classes must be passed on the first call to partial_fit")
        X, y = validate_data(self, X, y, dtype=FLOATS, reset=first)
        check_classification_targets(y)
        known = _at_least_two(np.unique(classes)) if first else self.classes_
        if classes is not None and not np.array_equal(np.unique(classes), known):
            raise BarenetError(
                f"classes={np.unique(classes).tolist()} differs from "
                f"classes_={known.tolist()} set by the first fit or partial_fit"
            )
        y = _positions(known, y)
        if first:  # l2="auto" counts the samples of this first call
            network = self._new_network(X.shape[1], len(known), self._draw_seed(), len(X))
        else:
            network = self.network_
        self._train(network, X, y, one_epoch=True)
        if first:  # only once every input is known to be good: no half-fitted estimator
            self.classes_, self.network_ = known, network
        return self._record()

    def predict_proba(self, X):
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOATS, reset=False)
        return in_row_blocks(self.network_.predict_proba, X)

    def predict(self, X):
        """The most probable label of each sample ``(n_samples,)``, taken from ``classes_``."""
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _at_least_two(classes):
    if len(classes) < 2:
        raise BarenetError(
            f"MLPClassifier needs at least 2 classes, got 1 class: {classes.tolist()} "
            "(a classifier cannot learn from a single label)"
        )
    return classes


def _positions(classes, y):
    """Positions of the labels ``y`` in the sorted ``classes``; BarenetError for an unknown one."""
    idx = np.searchsorted(classes, y)
    unknown = classes[np.minimum(idx, len(classes) - 1)] != y
    if unknown.any():
        raise BarenetError(
            f"y has labels {np.unique(y[unknown]).tolist()} that are not in classes_ "
            f"{classes.tolist()}; give every label in classes= on the first partial_fit"
        )
    return idx
