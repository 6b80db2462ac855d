"""The estimators' shared defaults: stopping, the convergence warning, the batch size, the
optimizer's own rate; and accuracy floors with every default on scikit-learn's bundled data."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from barenet.sklearn import MLPClassifier, MLPRegressor
from barenet.sklearn.base import auto_batch_size, auto_l2


def test_auto_batch_size_gives_about_twenty_batches_within_bounds():
    assert [auto_batch_size(n) for n in (10, 120, 1000, 10_000)] == [10, 16, 50, 128]


def test_auto_l2_is_a_fixed_penalty_on_the_summed_loss():
    assert auto_l2(500) == 0.01 and auto_l2(5000) == 0.001
    X, y = load_iris(return_X_y=True)
    options = dict(epochs=1, tol=None, random_state=0)
    assert MLPClassifier(**options).fit(X, y).network_.l2 == pytest.approx(5 / 150)
    assert MLPClassifier(l2=0.0, **options).fit(X, y).network_.l2 == 0.0
    with pytest.raises(ValueError, match="l2 must be 'auto' or a number"):
        MLPClassifier(l2="strong", **options).fit(X, y)


def test_reaching_the_epoch_cap_first_warns():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match=r"epochs=3 .* tol=0.0001"):
        clf = MLPClassifier(epochs=3, random_state=0).fit(X, y)
    assert clf.n_iter_ == 3


def test_training_stops_once_the_loss_stops_improving_by_tol():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it stopped: no warning
        clf = MLPClassifier(tol=1e3, n_iter_no_change=4, random_state=0).fit(X, y)
    assert clf.n_iter_ == 5  # the first epoch sets the best, four more fail to beat it by 1e3
    assert MLPClassifier(tol=None, epochs=7, random_state=0).fit(X, y).n_iter_ == 7


def test_each_optimizer_runs_at_its_own_default_rate():
    X, y = load_iris(return_X_y=True)
    options = dict(epochs=1, tol=None, random_state=0)
    assert MLPClassifier(**options).fit(X, y).network_.learning_rate == 0.001  # Adam's
    assert MLPClassifier(optimizer="sgd", **options).fit(X, y).network_.learning_rate == 0.01
    given = MLPClassifier(optimizer="rmsprop", learning_rate=0.02, **options).fit(X, y)
    assert given.network_.learning_rate == 0.02


@pytest.mark.parametrize(
    "load, floor",
    [(load_iris, 0.94), (load_wine, 0.97), (load_breast_cancer, 0.965)],
    ids=["iris", "wine", "breast_cancer"],
)
def test_every_default_classifies_bundled_data(load, floor):
    X, y = load(return_X_y=True)
    model = make_pipeline(StandardScaler(), MLPClassifier(random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert cross_val_score(model, X, y, cv=5).mean() >= floor


def test_every_default_regresses_diabetes_where_raw_targets_defeat_a_plain_mlp():
    X, y = load_diabetes(return_X_y=True)
    model = make_pipeline(StandardScaler(), MLPRegressor(random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert cross_val_score(model, X, y, cv=5).mean() > 0.3
    assert np.isfinite(model.fit(X, y).predict(X)).all()
