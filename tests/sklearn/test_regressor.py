"""barenet.sklearn.MLPRegressor: scikit-learn's estimator checks, then real use on bundled data."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_linnerud, make_friedman1
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from barenet.sklearn import MLPRegressor

CHECKED = [
    MLPRegressor(random_state=0),  # the defaults
    MLPRegressor(
        hidden_sizes=(16, 8),
        activation="tanh",
        optimizer="sgd",
        learning_rate=0.05,
        batch_norm=True,
        early_stopping=True,
        n_iter_no_change=3,
        dtype="float64",
        random_state=0,
    ),
]


# Every check passes, float32 included: predictions run on whole blocks of rows, so that
# predicting 1 row or 20 at once rounds each row alike (check_methods_subset_invariance).
@parametrize_with_checks(CHECKED)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(1000, noise=0.5, random_state=0)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def test_defaults_learn_a_nonlinear_function_and_score_is_r2(friedman):
    X_train, X_test, y_train, y_test = friedman
    model = make_pipeline(StandardScaler(), MLPRegressor(random_state=0)).fit(X_train, y_train)
    predicted = model.predict(X_test)
    assert predicted.shape == y_test.shape
    assert model.score(X_test, y_test) == pytest.approx(r2_score(y_test, predicted))
    assert model.score(X_test, y_test) > 0.85


def test_targets_are_standardised_inside_so_their_units_do_not_matter(friedman):
    X_train, X_test, y_train, y_test = friedman
    plain = MLPRegressor(epochs=30, tol=None, random_state=0).fit(X_train, y_train)
    scaled = MLPRegressor(epochs=30, tol=None, random_state=0).fit(X_train, 1000 * y_train + 7)
    assert scaled.y_mean_[0] == pytest.approx(1000 * plain.y_mean_[0] + 7)
    np.testing.assert_allclose(
        scaled.predict(X_test), 1000 * plain.predict(X_test) + 7, rtol=1e-5, atol=1e-2
    )
    assert plain.loss_curve_ == pytest.approx(scaled.loss_curve_, rel=1e-4)


def test_several_outputs():
    X, Y = load_linnerud(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    reg = MLPRegressor(random_state=0, epochs=500, tol=None, l2=0.0).fit(X, Y)  # fits its data
    assert reg.n_outputs_ == 3 and reg.predict(X).shape == (20, 3)
    assert reg.network_.output_size == 3 and reg.network_.loss == "mse"
    assert reg.score(X, Y) > 0.7  # its training data (20 samples): three targets at once


def test_cross_val_score_and_grid_search_on_diabetes():
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPRegressor(random_state=0))
    assert cross_val_score(pipe, X, y, cv=5).mean() > 0.3  # scikit-learn's defaults: below 0
    grid = {"mlpregressor__l2": [0.0, 1.0]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert len(search.cv_results_["params"]) == 2 and search.best_score_ > 0.3


def test_partial_fit_pickling_and_errors(friedman):
    X_train, X_test, y_train, y_test = friedman
    reg = MLPRegressor(random_state=0)
    with pytest.raises(NotFittedError):
        reg.predict(X_test)
    for _ in range(20):
        reg.partial_fit(X_train, y_train)
    assert reg.n_iter_ == 20 and reg.loss_curve_[-1] < reg.loss_curve_[0]
    assert reg.score(X_test, y_test) > 0.6
    twin = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(twin.predict(X_test), reg.predict(X_test))
    with pytest.raises(ValueError, match="y has 2 output"):
        reg.partial_fit(X_train, np.stack([y_train, y_train], axis=1))
    with pytest.raises(ValueError):
        MLPRegressor().fit(X_train, np.where(y_train > 20, np.nan, y_train))
