"""What both estimators share: the hyperparameters, their defaults, and when training stops.

Training stops once the training loss has not improved by ``tol`` per epoch, on average, over
the last ``n_iter_no_change`` epochs (:class:`Convergence`), or at the cap of ``epochs``, with
a :class:`~sklearn.exceptions.ConvergenceWarning` (pointing at the line that called ``fit``) if
the cap came first. With ``early_stopping=True`` it watches a held-out ``validation_fraction``
instead (accuracy for the classifier, the squared-error loss for the regressor) and keeps the
best epoch's weights. ``tol=None`` trains exactly ``epochs`` epochs.

scikit-learn's own MLPs count, instead, each epoch that does not beat the best loss so far by
``tol``: a loss that still drifts down by about ``tol`` an epoch, with epoch-to-epoch noise
larger than that (small batches), resets that count again and again. barenet's L2 penalty
(``l2="auto"``) is such a slow drift late in training: on scikit-learn's digits every default
fit ran into the cap of 200 epochs, with a warning; averaged over the window, they stop after
about 150 epochs with the same accuracy (``benchmarks/sklearn_defaults.py``).

Predictions are computed on whole blocks of :data:`ROW_BLOCK` rows (the last one padded with
copies of the last row), so that a row's prediction does not depend on the rows it comes with:
matrix kernels treat the last rows of a block of odd size differently, which changes float32
sums in their last bits (scikit-learn's ``check_methods_subset_invariance``).

How the defaults were chosen: on scikit-learn's bundled data sets and synthetic ones of 1,000 to
2,000 rows, behind a ``StandardScaler``, 5-fold cross-validated over 3 seeds, against
scikit-learn's ``MLPClassifier()`` / ``MLPRegressor()`` defaults
(``benchmarks/sklearn_defaults.py``, which also scores data sets that played no part in the
choice). Adam at its own rate (0.001) with small batches converges in far fewer epochs than one
batch per epoch would: ``batch_size="auto"`` gives about 20 batches per epoch, of 16 to 128
samples. The many steps would overfit the smallest data sets without a penalty, and a fixed one
is too strong for larger ones: ``l2="auto"`` is ``5 / n_samples`` (:func:`auto_l2`).
"""

import copy
import math
import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
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
from barenet.train.callbacks import EarlyStopping

FLOATS = (np.float32, np.float64)  # kept as they are; anything else becomes float64 first
_SEED_BOUND = np.iinfo(np.int32).max
BATCHES_PER_EPOCH, MIN_BATCH, MAX_BATCH = 20, 16, 128  # batch_size="auto"
L2_SAMPLES = 5.0  # l2="auto": L2_SAMPLES / n_samples
ROW_BLOCK = 32  # predictions run on whole blocks of this many rows (see the module)

__all__ = [
    "BaseMLP",
    "Convergence",
    "ConvergenceWarning",
    "FLOATS",
    "auto_batch_size",
    "auto_l2",
    "in_row_blocks",
    "validate_data",
]


def in_row_blocks(method, X):
    """``method(X)`` (a network's ``predict`` or ``predict_proba``) computed on ``X`` padded
    to a whole number of blocks of :data:`ROW_BLOCK` rows, the padding's results dropped: each
    row's result is then the same whatever rows come with it. The padding repeats the last
    row, so that it holds no value the caller did not give (the network compares them with
    the range it was trained on)."""
    n = len(X)
    missing = -n % ROW_BLOCK
    if missing and n:
        X = np.concatenate([X, np.repeat(X[-1:], missing, axis=0)])
    return method(X)[:n]


class Convergence(EarlyStopping):
    """Stop once ``monitor`` has not improved by ``min_delta`` per epoch, on average, over the
    last ``patience`` epochs: the best value of those epochs beats the best of the epochs
    before them by at most ``min_delta * patience`` (with ``min_delta=0``: not at all).

    With ``restore_best`` the weights of the best epoch (by any margin) are put back at the
    end, as :class:`~barenet.train.callbacks.EarlyStopping` does; ``converged`` says whether
    the rule, rather than the cap on epochs, ended training.
    """

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        self.values, self.converged = [], False

    def on_epoch_end(self, trainer, epoch, logs):
        if self.monitor not in logs:
            raise BarenetError(f"the stopping rule watches {self.monitor!r}, which is not reported")
        value = self.sign * logs[self.monitor]  # higher is better
        self.values.append(value)
        if self.best_epoch is None or value > self.best_value:
            self.best_value, self.best_epoch = value, epoch + 1
            if self.restore_best:
                arrays = trainer.network.named_arrays()
                self.best_arrays = {k: v.copy() for k, v in arrays.items()}
        if len(self.values) > self.patience:
            gain = self.best_value - max(self.values[: -self.patience])
            self.converged = gain <= self.min_delta * self.patience
            if self.converged:
                trainer.stop_training = True


def auto_l2(n_samples):
    """``l2="auto"``: ``5 / n_samples``. The penalty is added to the *mean* loss, so a fixed
    ``l2`` would weigh as much against 100,000 samples as against 100; ``5 / n`` is a fixed
    penalty on the *summed* loss, which the evidence of more samples outweighs, as a prior
    should be."""
    return L2_SAMPLES / max(n_samples, 1)


def auto_batch_size(n_samples):
    """``batch_size="auto"``: about 20 batches per epoch, 16 to 128 samples each (never more
    than there are samples)."""
    return min(n_samples, max(MIN_BATCH, min(MAX_BATCH, n_samples // BATCHES_PER_EPOCH)))


class BaseMLP(BaseEstimator):
    """The hyperparameters of both estimators and their training loop (see the module).

    Parameters
    ----------
    hidden_sizes : widths of the hidden layers.
    activation, learning_rate, optimizer, l2, l1, dropout, batch_norm, init, dtype : as in
        :class:`barenet.NeuralNetwork` (``optimizer`` a name or a dict such as
        ``{"name": "adam", "beta1": 0.9}``; ``learning_rate=None`` is the optimizer's own;
        ``l2="auto"`` is :func:`auto_l2` of the number of training samples).
    epochs : the cap on training epochs (scikit-learn's ``max_iter``).
    batch_size : samples per step, or ``"auto"`` (see :func:`auto_batch_size`).
    tol, n_iter_no_change : stop once the training loss (or, with ``early_stopping``, the
        validation score) has not improved by ``tol`` for ``n_iter_no_change`` epochs;
        ``tol=None`` trains all ``epochs`` (or, with ``early_stopping``, counts any
        improvement).
    schedule, augment : as in :meth:`barenet.NeuralNetwork.train`.
    early_stopping : hold out ``validation_fraction`` of the training data, stop on it and keep
        the best epoch's weights. Used by ``fit`` only.
    random_state : None, an int or a ``RandomState``; it draws the seed of the network
        (initialisation, shuffling, dropout) and of the validation split. Same int, same model.
    verbose : show a progress bar while training.

    Attributes
    ----------
    network_ : the trained :class:`barenet.NeuralNetwork`.
    n_features_in_, feature_names_in_ : the input columns seen by ``fit``.
    history_ : per-epoch figures (``train_loss``, ``val_loss``...).
    loss_curve_ : ``history_["train_loss"]``; ``n_iter_`` : epochs trained so far.
    """

    _loss = "cross_entropy"
    _monitor = "val_accuracy"

    def __init__(
        self,
        hidden_sizes=(100,),
        activation="relu",
        learning_rate=None,
        optimizer="adam",
        epochs=200,
        batch_size="auto",
        tol=1e-4,
        n_iter_no_change=10,
        l2="auto",
        l1=0.0,
        dropout=0.0,
        batch_norm=False,
        schedule=None,
        augment=None,
        early_stopping=False,
        validation_fraction=0.1,
        init="he",
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
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.l2 = l2
        self.l1 = l1
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.schedule = schedule
        self.augment = augment
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.init = init
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_is_fitted__(self):
        # The network is created last, once the data has passed every check.
        return hasattr(self, "network_")

    # -- training -------------------------------------------------------------------------------

    def _fit_new(self, X, Y, n_outputs, stratify=None):
        """A new network for ``n_outputs`` trained on ``(X, Y)`` until it stops; returns self."""
        seed = self._draw_seed()
        X_val = Y_val = None
        if self.early_stopping:
            X, X_val, Y, Y_val = self._hold_out(X, Y, seed, stratify)
        network = self._new_network(X.shape[1], n_outputs, seed, len(X))
        self._train(network, X, Y, X_val, Y_val)
        self.network_ = network
        return self._record()

    def _train(self, network, X, Y, X_val=None, Y_val=None, one_epoch=False):
        """Train ``network`` (``one_epoch`` for ``partial_fit``); warn if the cap came first."""
        epochs = 1 if one_epoch else check.positive_int("epochs", self.epochs)
        stopper = None if one_epoch else self._stopper()
        validated = X_val is not None
        network.train(
            X,
            Y,
            X_val,
            Y_val,
            epochs,
            batch_size=self._batch_size(len(X)),
            verbose=bool(self.verbose),
            # Copies: a schedule or augmentation object keeps state while training, and fitting
            # must leave the hyperparameters as the user gave them.
            schedule=copy.deepcopy(self.schedule),
            augment=copy.deepcopy(self.augment),
            early_stopping=stopper if validated else None,
            callbacks=[stopper] if stopper is not None and not validated else [],
        )
        if stopper is not None and not stopper.converged:
            what = "validation score" if validated else "training loss"
            warnings.warn(
                f"{type(self).__name__} trained for epochs={epochs} and the {what} was still "
                f"improving by more than tol={self.tol or 0:g} per epoch over the last "
                f"n_iter_no_change={stopper.patience} epochs; raise epochs to train to "
                "convergence",
                ConvergenceWarning,
                stacklevel=4,  # the line that called fit: fit -> _fit_new -> _train -> here
            )

    def _stopper(self):
        """The stopping rule of the module docstring: on the validation score with
        ``early_stopping``; else on the training loss, or None for ``tol=None``."""
        patience = check.positive_int("n_iter_no_change", self.n_iter_no_change)
        tol = 0.0 if self.tol is None else check.positive_float("tol", self.tol, allow_zero=True)
        if self.early_stopping:
            return Convergence(self._monitor, patience, min_delta=tol, restore_best=True)
        if self.tol is None:
            return None
        return Convergence("train_loss", patience, min_delta=tol, restore_best=False)

    def _batch_size(self, n_samples):
        if isinstance(self.batch_size, str) and self.batch_size == "auto":
            return auto_batch_size(n_samples)
        if isinstance(self.batch_size, str):
            raise BarenetError(f"batch_size must be 'auto' or an integer, got {self.batch_size!r}")
        return check.positive_int("batch_size", self.batch_size)

    def _draw_seed(self):
        """barenet's integer seed, drawn from ``random_state`` as scikit-learn estimators do."""
        return int(check_random_state(self.random_state).randint(_SEED_BOUND))

    def _new_network(self, n_features, n_outputs, seed, n_samples):
        l2 = auto_l2(n_samples) if isinstance(self.l2, str) and self.l2 == "auto" else self.l2
        if isinstance(l2, str):
            raise BarenetError(f"l2 must be 'auto' or a number >= 0, got {l2!r}")
        return NeuralNetwork(
            n_features,
            self.hidden_sizes,
            n_outputs,
            self.learning_rate,
            activation=self.activation,
            init=self.init,
            optimizer=copy.deepcopy(self.optimizer),  # an optimizer object keeps state
            dropout=self.dropout,
            batch_norm=self.batch_norm,
            l2=l2,
            l1=self.l1,
            loss=self._loss,
            dtype=self.dtype,
            seed=seed,
        )

    def _hold_out(self, X, Y, seed, stratify=None):
        """``X_train, X_val, Y_train, Y_val``: the early-stopping split, stratified by the
        labels ``stratify`` when every class allows it."""
        fraction = check.fraction("validation_fraction", self.validation_fraction, allow_zero=False)
        n_val = math.ceil(fraction * len(Y))
        if len(Y) - n_val < 1:
            raise BarenetError(
                f"validation_fraction={fraction} of {len(Y)} samples leaves none to train on"
            )
        if stratify is not None:
            counts = np.bincount(stratify)
            # Stratifying needs two samples per class and room for every class on both sides.
            if counts.min() < 2 or len(counts) > min(n_val, len(Y) - n_val):
                stratify = None
        return train_test_split(X, Y, test_size=n_val, random_state=seed, stratify=stratify)

    def _record(self):
        """Copy the network's history into the fitted attributes; returns ``self``."""
        self.history_ = {key: list(values) for key, values in self.network_.history.items()}
        self.loss_curve_ = self.history_["train_loss"]
        self.n_iter_ = len(self.loss_curve_)
        return self
