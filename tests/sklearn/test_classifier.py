"""barenet.sklearn.MLPClassifier: scikit-learn's own estimator checks, then real use on digits.

Most tests use :func:`quick`, a fixed ten-epoch plain-SGD run (the estimator's first defaults),
so that they test the plumbing in milliseconds; the defaults themselves are tested in
``test_base.py``."""

import importlib
import math
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from barenet.sklearn import MLPClassifier

# Small networks and tiny data: every check fits in milliseconds. The checks' accuracy floors
# (check_classifiers_train) are met honestly, by enough epochs at a suitable learning rate.
CHECKED = [
    MLPClassifier(random_state=0),  # the defaults
    MLPClassifier(
        hidden_sizes=(16,), optimizer="sgd", epochs=20, learning_rate=0.1, random_state=0
    ),
    MLPClassifier(
        hidden_sizes=(16, 8),
        activation="gelu",
        optimizer="adam",
        learning_rate=0.01,
        epochs=20,
        batch_norm=True,
        dropout=0.1,
        early_stopping=True,
        n_iter_no_change=3,
        dtype="float64",
        random_state=0,
    ),
]


@parametrize_with_checks(CHECKED)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    """sklearn's 8x8 digits (1797 images, 64 features) split 75/25, stratified."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def quick(**params):
    """A classifier that learns the scaled digits to > 90% in a few milliseconds: ten epochs
    (no convergence test) of plain SGD at 0.1, batches of 64, Xavier's initialisation."""
    fixed = {"optimizer": "sgd", "epochs": 10, "tol": None, "batch_size": 64, "init": "xavier"}
    return MLPClassifier(
        **{"hidden_sizes": (32,), "learning_rate": 0.1, "random_state": 0, **fixed, **params}
    )


def test_pipeline_on_digits_is_over_90_percent(digits):
    X_train, X_test, y_train, y_test = digits
    model = make_pipeline(StandardScaler(), quick()).fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.9
    clf = model[-1]
    assert clf.n_features_in_ == 64 and list(clf.classes_) == list(range(10))
    assert clf.n_iter_ == 10 and len(clf.loss_curve_) == 10
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 2


def test_grid_search_picks_the_better_learning_rate(digits):
    X_train, _, y_train, _ = digits
    grid = {
        "mlpclassifier__hidden_sizes": [(16,), (32,)],
        "mlpclassifier__learning_rate": [0.01, 0.1],
    }
    pipe = make_pipeline(StandardScaler(), quick())
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X_train, y_train)
    assert len(search.cv_results_["params"]) == 4
    # Ten epochs of plain SGD at 0.01 are far from converged (about 60%); at 0.1 they reach 95%.
    assert search.best_params_["mlpclassifier__learning_rate"] == 0.1
    assert search.best_score_ > 0.9
    assert search.best_estimator_[-1].learning_rate == 0.1


def test_cross_val_score(digits):
    X_train, _, y_train, _ = digits
    scores = cross_val_score(make_pipeline(StandardScaler(), quick()), X_train, y_train, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85


def test_pickle_and_joblib_round_trips_keep_predictions_and_training_state(digits, tmp_path):
    X_train, X_test, y_train, _ = digits
    X_train, X_test = X_train / 16, X_test / 16
    clf = quick(epochs=3).fit(X_train, y_train)
    copies = [pickle.loads(pickle.dumps(clf))]
    joblib.dump(clf, tmp_path / "clf.joblib")
    copies.append(joblib.load(tmp_path / "clf.joblib"))
    for other in copies:
        np.testing.assert_array_equal(other.predict_proba(X_test), clf.predict_proba(X_test))
        assert other.history_ == clf.history_
    # Training continues identically: weights, optimizer state and random generator all survived.
    for model in [clf, *copies]:
        model.partial_fit(X_train, y_train)
    for other in copies:
        np.testing.assert_array_equal(other.predict_proba(X_test), clf.predict_proba(X_test))
        assert other.n_iter_ == 4


def test_string_labels_come_back_as_strings(digits):
    X_train, X_test, y_train, y_test = digits
    names = np.array("zero one two three four five six seven eight nine".split())
    clf = quick().fit(X_train / 16, names[y_train])
    assert list(clf.classes_) == sorted(names)
    predicted = clf.predict(X_test / 16)
    assert predicted.dtype.kind == "U" and set(predicted) <= set(names)
    assert clf.score(X_test / 16, names[y_test]) > 0.9
    proba = clf.predict_proba(X_test / 16)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], predicted)


def test_binary_problem_has_two_probability_columns():
    X, y = load_digits(n_class=2, return_X_y=True)
    clf = quick().fit(X / 16, np.where(y == 1, "yes", "no"))
    proba = clf.predict_proba(X / 16)
    assert proba.shape == (len(X), 2) and list(clf.classes_) == ["no", "yes"]
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert clf.score(X / 16, np.where(y == 1, "yes", "no")) > 0.95


def test_single_class_is_refused():
    with pytest.raises(ValueError, match=r"at least 2 classes, got 1 class: \['only'\]"):
        MLPClassifier().fit(np.zeros((5, 3)), ["only"] * 5)


def test_unfitted_estimator_raises_not_fitted():
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        MLPClassifier().predict_proba(np.zeros((2, 3)))


def test_clone_is_unfitted_with_the_same_params(digits):
    X_train, _, y_train, _ = digits
    clf = quick(hidden_sizes=(8, 4), optimizer={"name": "adam"}).fit(X_train / 16, y_train)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params()
    assert not hasattr(twin, "network_") and not hasattr(twin, "classes_")
    with pytest.raises(NotFittedError):
        twin.predict(X_train[:1])


def test_hyperparameters_reach_the_network(digits):
    X_train, _, y_train, _ = digits
    clf = MLPClassifier(
        hidden_sizes=(7,),
        activation="tanh",
        optimizer={"name": "momentum", "momentum": 0.5},
        learning_rate=0.05,
        batch_norm=True,
        dtype="float64",
        epochs=2,
        tol=None,
        batch_size=32,
    ).fit(X_train / 16, y_train)
    net = clf.network_
    assert net.hidden_sizes == [7] and net.activation == "tanh" and net.batch_norm
    assert net.dtype == np.float64 and net.learning_rate == 0.05
    assert net.optimizer.config()["momentum"] == 0.5
    assert net.training_info.batch_size == 32
    assert clf.predict_proba(X_train[:3] / 16).dtype == np.float64


def test_same_random_state_same_model_different_state_different_model(digits):
    X_train, X_test, y_train, _ = digits
    fit = [quick(epochs=2, random_state=seed).fit(X_train / 16, y_train) for seed in (5, 5, 6)]
    probas = [clf.predict_proba(X_test / 16) for clf in fit]
    np.testing.assert_array_equal(probas[0], probas[1])
    assert not np.allclose(probas[0], probas[2])
    # A RandomState draws a new seed at each fit, as in scikit-learn.
    clf = quick(epochs=2, random_state=np.random.RandomState(0))
    first = clf.fit(X_train / 16, y_train).predict_proba(X_test / 16)
    assert not np.allclose(first, clf.fit(X_train / 16, y_train).predict_proba(X_test / 16))


def test_partial_fit_trains_one_epoch_per_call(digits):
    X_train, X_test, y_train, y_test = digits
    clf = quick()
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X_train, y_train)
    with pytest.raises(ValueError, match=r"labels \[5\] that are not in classes_ \[0, 1\]"):
        clf.partial_fit(X_train[:2] / 16, [0, 5], classes=[0, 1])
    with pytest.raises(NotFittedError):  # a failed first call leaves the estimator unfitted
        clf.predict(X_train[:1])
    for _ in range(10):
        clf.partial_fit(X_train / 16, y_train, classes=np.arange(10))
    assert clf.n_iter_ == 10 and clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.score(X_test / 16, y_test) > 0.9
    with pytest.raises(ValueError, match=r"labels \[11\] that are not in classes_"):
        clf.partial_fit(X_train[:2] / 16, [3, 11])
    with pytest.raises(ValueError, match="differs from classes_"):
        clf.partial_fit(X_train[:2] / 16, [3, 4], classes=[3, 4])


def test_early_stopping_holds_out_a_fraction_and_keeps_the_best_epoch(digits):
    X_train, _, y_train, _ = digits
    clf = quick(early_stopping=True, validation_fraction=0.2, n_iter_no_change=2, epochs=30)
    clf.fit(X_train / 16, y_train)
    info = clf.network_.training_info
    assert info.n_val == math.ceil(0.2 * len(y_train))
    assert info.n_train + info.n_val == len(y_train)
    scores = clf.history_["val_accuracy"]
    assert info.best_epoch == int(np.argmax(scores)) + 1 and clf.n_iter_ == len(scores)
    assert clf.n_iter_ < 30  # two epochs without improvement happen long before thirty


def test_bad_validation_fraction_is_refused():
    clf = MLPClassifier(early_stopping=True, validation_fraction=1.5)
    with pytest.raises(ValueError, match=r"validation_fraction must be in \(0, 1\), got 1.5"):
        clf.fit(np.eye(4), [0, 1, 0, 1])


def test_sklearn_stays_optional(monkeypatch):
    code = "import sys, barenet; sys.exit('sklearn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
    for name in [m for m in sys.modules if m.startswith("barenet.sklearn")]:
        monkeypatch.delitem(sys.modules, name)
    for name in [m for m in sys.modules if m.split(".")[0] == "sklearn"]:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import sklearn...` fail
    with pytest.raises(ImportError, match=r"pip install barenet\[sklearn\]"):
        importlib.import_module("barenet.sklearn")


def test_feature_names_come_from_a_dataframe():
    import pandas as pd

    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X[:200], columns=[f"pixel{i}" for i in range(64)])
    clf = MLPClassifier(hidden_sizes=(16,), epochs=2, tol=None, random_state=0)
    clf.fit(frame, y[:200])
    assert list(clf.feature_names_in_) == list(frame.columns) and clf.n_features_in_ == 64
