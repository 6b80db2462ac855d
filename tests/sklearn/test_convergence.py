"""When the estimators stop: the defaults converge on scikit-learn's digits without a warning,
a warning that is due points at the caller's ``fit``, and predictions of a row do not depend on
the rows predicted with it."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from barenet.sklearn import MLPClassifier, MLPRegressor
from barenet.sklearn.base import ROW_BLOCK, Convergence, in_row_blocks


def test_the_default_classifier_converges_on_digits_without_a_warning():
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        scores = cross_validate(make_pipeline(StandardScaler(), MLPClassifier(random_state=0)),
                                X, y, return_estimator=True)  # fmt: skip
    epochs = [pipeline[-1].n_iter_ for pipeline in scores["estimator"]]
    assert max(epochs) < 200  # stopped by the rule, not by the cap
    assert scores["test_score"].mean() > 0.92  # scikit-learn's own MLPClassifier: 0.94


def test_a_convergence_warning_points_at_the_line_that_called_fit():
    X, y = load_digits(return_X_y=True)
    for model, target in ((MLPClassifier(epochs=2, random_state=0), y),
                          (MLPRegressor(epochs=2, random_state=0), y.astype(float))):  # fmt: skip
        with pytest.warns(ConvergenceWarning, match="epochs=2") as record:
            model.fit(X[:200], target[:200])
        assert record[0].filename == __file__


def _run(rule, values):
    """The epochs ``rule`` (a Convergence) trains on a series of monitored values."""
    trainer = SimpleNamespace(epoch=0, stop_training=False, network=None)
    rule.on_train_begin(trainer)
    for epoch, value in enumerate(values):
        rule.on_epoch_end(trainer, epoch, {rule.monitor: value})
        if trainer.stop_training:
            return epoch + 1
    return None


def test_the_rule_averages_over_the_window_so_noise_does_not_keep_it_going():
    rng = np.random.default_rng(0)
    epochs = np.arange(300)
    # A loss still falling 5e-5 an epoch, noisy by 3e-4 from epoch to epoch: converged for a
    # tolerance of 1e-4 an epoch, though one epoch in three beats the best by more than 1e-4.
    noisy = 0.1 - 5e-5 * epochs + rng.normal(0, 3e-4, len(epochs))
    stopped = _run(Convergence("train_loss", 10, min_delta=1e-4, restore_best=False), noisy)
    assert stopped is not None and stopped < 40
    # Falling 1e-3 an epoch: not converged, whatever the noise.
    falling = 1.0 - 1e-3 * epochs + rng.normal(0, 3e-4, len(epochs))
    assert _run(Convergence("train_loss", 10, min_delta=1e-4, restore_best=False), falling) is None
    # min_delta=0: any improvement in the window keeps it going; none ends it.
    flat = np.r_[np.linspace(1, 0.5, 20), np.full(15, 0.5)]
    assert _run(Convergence("train_loss", 10, min_delta=0.0, restore_best=False), flat) == 30
    # Accuracies are maximised.
    accuracy = np.r_[np.linspace(0.5, 0.9, 10), np.full(20, 0.9)]
    assert _run(Convergence("val_accuracy", 5, min_delta=0.0, restore_best=False), accuracy) == 15


def test_a_row_is_predicted_alike_alone_and_among_others():
    X, y = make_regression(200, 7, random_state=0)
    X = X.astype(np.float32)
    model = MLPRegressor(hidden_sizes=(64, 32), epochs=5, tol=None, random_state=0).fit(X, y)
    together = model.predict(X)
    alone = np.array([model.predict(X[i : i + 1])[0] for i in range(0, 200, 13)])
    assert np.array_equal(alone, together[::13])  # bit for bit, in float32
    some = model.predict(X[5:40])
    assert np.array_equal(some, together[5:40])
    calls = []
    in_row_blocks(lambda rows: calls.append(rows) or rows, X[:3])
    assert len(calls[0]) == ROW_BLOCK and np.array_equal(calls[0][3:], np.repeat(X[2:3], 29, 0))
