"""A scikit-learn classifier backed by a barenet network: pipelines, grid search, cross-validation.

:class:`MLPClassifier` follows scikit-learn's estimator contract (hyperparameters stored as given,
learned attributes ending in ``_``, ``fit`` / ``partial_fit`` / ``predict`` / ``predict_proba`` /
``score``) and passes its ``check_estimator`` suite. Labels may be of any type (strings too): they
are mapped to ``0..n_classes-1`` for the network and back. Needs the optional scikit-learn
package (``pip install barenet[sklearn]``).
"""

import copy
import math

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:
    raise ImportError("barenet.sklearn needs scikit-learn: pip install barenet[sklearn]") from exc

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6 has it as a method

    def validate_data(estimator, /, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)


from barenet import validation as check
from barenet.errors import BarenetError
from barenet.network import NeuralNetwork

FLOATS = (np.float32, np.float64)  # kept as they are; anything else becomes float64 first
_SEED_BOUND = np.iinfo(np.int32).max


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Fully connected neural-network classifier trained by barenet (softmax output).

    Parameters
    ----------
    hidden_sizes : widths of the hidden layers.
    activation, learning_rate, optimizer, l2, l1, dropout, batch_norm, init, dtype : as in
        :class:`barenet.NeuralNetwork` (``optimizer`` a name or a dict such as
        ``{"name": "adam", "beta1": 0.9}``).
    epochs, batch_size, schedule, augment : as in :meth:`barenet.NeuralNetwork.train`.
    early_stopping : hold out ``validation_fraction`` of the training data (stratified when
        every class allows it), stop when its accuracy has not improved for ``n_iter_no_change``
        epochs, and keep the best epoch's weights. Used by ``fit`` only.
    random_state : None, an int or a ``RandomState``; it draws the seed of the network
        (initialisation, shuffling, dropout) and of the validation split. Same int, same model.
    verbose : show a progress bar while training.

    Attributes
    ----------
    network_ : the trained :class:`barenet.NeuralNetwork`.
    classes_ : the class labels ``(n_classes,)``, sorted; column ``k`` of ``predict_proba``.
    n_features_in_, feature_names_in_ : the input columns seen by ``fit``.
    history_ : per-epoch figures (``train_loss``, ``train_accuracy``, ``val_accuracy``...).
    loss_curve_ : ``history_["train_loss"]``; ``n_iter_`` : epochs trained so far.
    """

    def __init__(
        self,
        hidden_sizes=(128, 64),
        activation="relu",
        learning_rate=0.01,
        optimizer="sgd",
        epochs=10,
        batch_size=64,
        l2=0.0,
        l1=0.0,
        dropout=0.0,
        batch_norm=False,
        schedule=None,
        augment=None,
        validation_fraction=0.1,
        early_stopping=False,
        n_iter_no_change=5,
        init="xavier",
        dtype="float32",
        random_state=None,
        verbose=False,
    ):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.epochs = epochs
        self.batch_size = batch_size
        self.l2 = l2
        self.l1 = l1
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.schedule = schedule
        self.augment = augment
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.init = init
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y):
        """Train a new network on ``X (n_samples, n_features)`` and labels ``y (n_samples,)``."""
        X, y = validate_data(self, X, y, dtype=FLOATS)
        check_classification_targets(y)
        classes, y = np.unique(y, return_inverse=True)
        self.classes_ = _at_least_two(classes)
        seed = self._draw_seed()
        X_val = y_val = patience = None
        if self.early_stopping:
            patience = check.positive_int("n_iter_no_change", self.n_iter_no_change)
            X, X_val, y, y_val = self._hold_out(X, y, seed)
        self.network_ = self._new_network(X.shape[1], seed)
        self.network_.train(
            X, y, X_val, y_val, self.epochs, early_stopping=patience, **self._train_options()
        )
        return self._record()

    def partial_fit(self, X, y, classes=None):
        """Train one epoch on ``(X, y)``, continuing from the current weights (and optimizer).

        The first call (before any ``fit``) needs ``classes``, every label that will ever
        appear. ``early_stopping`` does not apply here.
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
        if first:  # only once every input is known to be good: no half-fitted estimator
            self.classes_ = known
            self.network_ = self._new_network(X.shape[1], self._draw_seed())
        self.network_.train(X, y, epochs=1, **self._train_options())
        return self._record()

    def predict_proba(self, X):
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOATS, reset=False)
        return self.network_.predict_proba(X)

    def predict(self, X):
        """The most probable label of each sample ``(n_samples,)``, taken from ``classes_``."""
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __sklearn_is_fitted__(self):
        # The network is created last, once the data has passed every check.
        return hasattr(self, "network_")

    # -- helpers --------------------------------------------------------------------------------

    def _draw_seed(self):
        """barenet's integer seed, drawn from ``random_state`` as scikit-learn estimators do."""
        return int(check_random_state(self.random_state).randint(_SEED_BOUND))

    def _new_network(self, n_features, seed):
        return NeuralNetwork(
            n_features,
            self.hidden_sizes,
            len(self.classes_),
            self.learning_rate,
            activation=self.activation,
            init=self.init,
            # Copies: an optimizer, schedule or augmentation object keeps state while training,
            # and fitting must leave the hyperparameters as the user gave them.
            optimizer=copy.deepcopy(self.optimizer),
            dropout=self.dropout,
            batch_norm=self.batch_norm,
            l2=self.l2,
            l1=self.l1,
            dtype=self.dtype,
            seed=seed,
        )

    def _train_options(self):
        return {
            "batch_size": self.batch_size,
            "verbose": bool(self.verbose),
            "schedule": copy.deepcopy(self.schedule),
            "augment": copy.deepcopy(self.augment),
        }

    def _hold_out(self, X, y, seed):
        """``X_train, X_val, y_train, y_val``: the early-stopping split, stratified if possible."""
        fraction = check.fraction("validation_fraction", self.validation_fraction, allow_zero=False)
        n_val = math.ceil(fraction * len(y))
        counts = np.bincount(y)
        # Stratifying needs two samples per class and room for every class on both sides.
        can_stratify = counts.min() >= 2 and len(counts) <= min(n_val, len(y) - n_val)
        return train_test_split(
            X, y, test_size=n_val, random_state=seed, stratify=y if can_stratify else None
        )

    def _record(self):
        """Copy the network's history into the fitted attributes; returns ``self``."""
        self.history_ = {key: list(values) for key, values in self.network_.history.items()}
        self.loss_curve_ = self.history_["train_loss"]
        self.n_iter_ = len(self.loss_curve_)
        return self

    # -- pickling -------------------------------------------------------------------------------


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
