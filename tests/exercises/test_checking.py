"""What every checker shares (:mod:`barenet.exercises.checking`): the verdict on one array, the
mistakes it recognises, the report over several cases."""

import numpy as np

from barenet import exercises
from barenet.exercises.checking import (
    Case,
    GradientCheck,
    Verdict,
    check_cases,
    compare,
    layer_pass,
    recognise,
    relative_error,
)
from barenet.nn.layers import BatchNorm


def test_nan_or_infinity_is_never_a_pass_even_in_the_first_checkers():
    assert np.isnan(relative_error(np.array([np.nan, 1.0]), np.array([1.0, 1.0])))
    assert np.isnan(relative_error(np.array([np.inf]), np.array([1.0])))
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    check = exercises.check_relu(lambda Z, dA: dA * np.nan)
    assert check.wrong == ["dZ"] and "NaN or infinite values" in str(check)
    with np.errstate(divide="ignore"):
        dense = exercises.check_dense(lambda X, W, b, dZ: (dZ @ W.T, X.T @ dZ / 0, dZ.sum(axis=0)))
    assert dense.wrong == ["dW"]


def test_a_mistake_is_recognised_by_its_numbers_nan_included():
    right, slip = np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3) * 2
    mistakes = [("doubled", slip), ("halved", right / 2), ("also doubled", slip.copy())]
    assert recognise(slip, mistakes) == "doubled; or also doubled"  # both slips give these
    assert recognise(right / 2 + 1e-3, mistakes) is None
    assert recognise(slip.T, mistakes) is None  # the shape counts
    with np.errstate(divide="ignore", invalid="ignore"):
        nan_slip = np.array([0.0, 1.0]) / np.array([0.0, 2.0])
    assert recognise(nan_slip.copy(), [("divided by zero", nan_slip)]) == "divided by zero"
    assert recognise(np.array([np.nan, 0.4]), [("divided by zero", nan_slip)]) is None
    assert recognise(np.array([0.0, 0.5]), [("divided by zero", nan_slip)]) is None


def test_axes_in_another_order_are_named_with_the_transpose_that_fixes_them():
    reference = np.arange(24.0).reshape(2, 3, 4)
    verdict = compare("dW", reference.transpose(2, 0, 1), reference)
    assert verdict.error is None and "np.transpose(yours, (1, 2, 0)) is right" in verdict.hint
    assert compare("dW", np.ones((4, 2, 3)), reference).hint is None  # other numbers

    def transposed(X, W, b, dZ):
        return dZ @ W.T, (X.T @ dZ).T, dZ.sum(axis=0)

    check = exercises.check_dense(transposed)  # the first checkers gain the hint too
    assert "(transposed?)" in str(check) and "likely: the right numbers with the axes" in str(check)


def test_the_report_names_the_failing_case_and_each_mistake_once():
    one, slip = np.ones(3), [("the slip", np.full(3, 2.0))]
    cases = [
        Case("case one", (1.0,), {"a": one, "b": one, "c": one}, {"a": slip, "b": slip}),
        Case("case two", (2.0,), {"a": one, "b": one, "c": one}),
    ]
    # a and b take the same slip on case one; c is wrong on case two only
    check = check_cases("f", lambda s: (2 * one, 2 * one, s * s * one), cases, noun="arrays")
    lines = str(check).split("\n")
    assert lines[0] == "f: 0 of 3 arrays right"
    assert lines.count("     on case one") == 2 and lines.count("     on case two") == 1
    assert str(check).count("likely: the slip") == 1 and check.hints == ["the slip"]
    assert check.wrong == ["a", "b", "c"] and check.verdicts[2].hint is None


def test_a_pass_reports_its_largest_error_over_the_cases():
    cases = [
        Case("small", (1e-12,), {"a": np.ones(4)}),
        Case("larger", (1e-8,), {"a": np.ones(4)}),
    ]
    check = check_cases("f", lambda e: np.ones(4) + e, cases)
    assert check.passed and 4e-9 < check.verdicts[0].error < 6e-9
    assert "on " not in str(check)


def test_a_verdict_without_a_case_or_hint_prints_as_before():
    check = GradientCheck("g", [Verdict("dX", 0.5, "WRONG")], gradients=["dX"])
    assert str(check) == "g: 0 of 1 gradients right\n  dX  WRONG"


def test_the_reference_layers_run_on_copies():
    rng = np.random.default_rng(0)
    X, dY = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    X0, dY0 = X.copy(), dY.copy()
    Y, dX, grads = layer_pass(BatchNorm(), X, dY, {"gamma": np.ones(3), "beta": np.zeros(3)})
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(dY, dY0)
    assert Y.dtype == dX.dtype == np.float64 and set(grads) == {"gamma", "beta"}
    np.testing.assert_allclose(grads["beta"], dY.sum(axis=0))


def test_the_right_numbers_in_another_shape_are_named():
    def kept_dims(X, gamma, dY, eps):
        from tests.exercises.answers import more_layers

        dX, dgamma, dbeta = more_layers.batchnorm_backward(X, gamma, dY, eps)
        return dX, dgamma[None], dY.sum(axis=0, keepdims=True)

    check = exercises.check_batchnorm(kept_dims)
    assert check.wrong == ["dgamma", "dbeta"]
    assert "the right numbers in the shape (1, " in str(check) and "keepdims=True" in str(check)
    reference = np.arange(6.0).reshape(2, 3)
    assert compare("d", reference.T, reference).hint.startswith("the right numbers with the axes")
    assert compare("d", np.ones(6), reference).hint is None
