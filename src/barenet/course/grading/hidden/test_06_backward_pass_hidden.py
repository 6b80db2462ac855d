"""Notebook 6, *Write the backward pass*: the hidden tests, kept out of the student edition.
The same functions on other shapes and inputs than the notebook's checkers use: a batch of one,
arrays of three axes, logits in the thousands, networks of one and three hidden layers, and
the caller's arrays left as they were."""

import numpy as np
import pytest

from barenet import exercises
from barenet.course.checks import changed_arguments, check_outputs
from barenet.course.plugin import expect

NOTEBOOK = "06-write-the-backward-pass.ipynb"
FUNCTIONS = (
    "dense_backward",
    "relu_backward",
    "softmax_cross_entropy_backward",
    "network_backward",
)


@pytest.mark.grade("dense_backward", points=1)
def test_dense_backward_on_a_batch_of_one_and_wide_layers(student):
    dense_backward = student.function("dense_backward")
    rng = np.random.default_rng(11)
    for batch, n_in, n_out in ((1, 7, 2), (6, 3, 9)):
        X, W, b = (
            rng.normal(size=(batch, n_in)),
            rng.normal(size=(n_in, n_out)),
            rng.normal(size=n_out),
        )
        dZ = rng.normal(size=(batch, n_out))
        references = {"dX": dZ @ W.T, "dW": X.T @ dZ, "db": dZ.sum(axis=0)}
        expect(check_outputs("dense_backward", dense_backward, (X, W, b, dZ), references))


@pytest.mark.grade("relu_backward", points=1)
def test_relu_backward_takes_any_shape_and_leaves_its_inputs_unchanged(student):
    relu_backward = student.function("relu_backward")
    rng = np.random.default_rng(12)
    Z, dA = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))  # a convolution's maps
    expect(check_outputs("relu_backward", relu_backward, (Z, dA), {"dZ": dA * (Z > 0)}))
    changed = changed_arguments(relu_backward, {"Z": Z, "dA": dA})
    if changed:
        pytest.fail(
            f"relu_backward changed the {' and '.join(changed)} it was given, in place: a "
            "backward pass leaves the caller's arrays as they were (the caller may read them "
            "again); return a new array, dA * (Z > 0)",
            pytrace=False,
        )


@pytest.mark.grade("softmax_cross_entropy_backward", points=1)
def test_softmax_cross_entropy_backward_on_logits_in_the_thousands(student):
    function = student.function("softmax_cross_entropy_backward")
    rng = np.random.default_rng(13)
    Z, y = 1000 * rng.normal(size=(3, 10)), rng.integers(0, 10, size=3)
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    reference = (P - np.eye(10)[y]) / len(Z)
    with np.errstate(all="ignore"):  # an overflow is the student's, and the verdict says it
        check = check_outputs("softmax_cross_entropy_backward", function, (Z, y), {"dZ": reference})
        if not check.passed and check.verdicts:
            dZ = function(Z.copy(), y.copy())
            if not np.all(np.isfinite(np.asarray(dZ, dtype=np.float64))):
                pytest.fail(
                    f"{check}\n  not finite (nan or inf) for logits in the thousands: np.exp "
                    "overflows; subtract each row's largest logit first (the softmax does not "
                    "change)",
                    pytrace=False,
                )
    expect(check)


@pytest.mark.grade("network_backward", points=2)
def test_network_backward_for_one_and_for_three_hidden_layers(student):
    network_backward = student.function("network_backward")
    expect(exercises.check_network(network_backward, hidden_sizes=(7,), seed=3))
    expect(exercises.check_network(network_backward, hidden_sizes=(9, 8, 6), seed=5))
