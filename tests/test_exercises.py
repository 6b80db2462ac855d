"""The checkers of ``barenet.exercises`` on the answers a student gets wrong: what they report
when the function does not run, returns the wrong number of arrays, or returns zeros.

The checks of the right answers, and of the notebook that uses them, are in
``tests/test_notebooks.py``.
"""

import numpy as np
import pytest

from barenet import NeuralNetwork, exercises


def dense_backward(X, W, b, dZ):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def relu_backward(Z, dA):
    return dA * (Z > 0)


def test_a_function_that_did_not_run_has_every_gradient_wrong():
    def blank(X, W, b, dZ):
        raise NotImplementedError

    def broken(X, W, b, dZ):
        return X @ dZ  # (4, 5) @ (4, 3): a ValueError

    for answer in (blank, broken):
        check = exercises.check_dense(answer)
        assert not check.passed and check.wrong == ["dX", "dW", "db"], str(check)
    assert exercises.check_relu(lambda Z, dA: 1 / 0).wrong == ["dZ"]

    def network_blank(weights, X, y):
        raise NotImplementedError

    check = exercises.check_network(network_blank)  # two hidden layers: three dense layers
    dense = ["layers.0", "layers.2", "layers.4"]
    assert check.wrong == [f"{layer}.{p}" for layer in dense for p in "Wb"]


def test_the_wrong_number_of_arrays_is_described_not_dumped():
    def two_of_three(X, W, b, dZ):
        dX, dW, _ = dense_backward(X, W, b, dZ)
        return dX, dW

    check = exercises.check_dense(two_of_three)
    assert check.wrong == ["dX", "dW", "db"]
    assert str(check) == (
        "dense_backward: should return 3 arrays (dX, dW, db), got a tuple of 2 ((4, 5), (5, 3))"
    )
    one = exercises.check_dense(lambda X, W, b, dZ: dZ @ W.T)
    assert str(one).endswith("got an array of shape (4, 5)") and "[" not in str(one)
    nothing = exercises.check_dense(lambda X, W, b, dZ: None)
    assert str(nothing).endswith("got None") and nothing.wrong == ["dX", "dW", "db"]
    listed = exercises.check_network(lambda weights, X, y: list(weights.values()))
    assert str(listed).endswith("got a list of 6 ((20, 16), (16,), (16, 12), (12,), (12, 5), (5,))")


def test_a_zero_gradient_is_called_zeros_not_a_multiple():
    def no_bias_gradient(X, W, b, dZ):
        dX, dW, db = dense_backward(X, W, b, dZ)
        return dX, dW, np.zeros_like(db)

    check = exercises.check_dense(no_bias_gradient)
    assert check.wrong == ["db"]
    assert "yours is all zeros" in str(check) and "0 times" not in str(check)
    doubled = exercises.check_relu(lambda Z, dA: 2 * relu_backward(Z, dA))
    assert "yours is 2 times the right one" in str(doubled)  # a true multiple still says so


def test_a_missing_key_and_an_answer_that_is_not_numbers_are_named():
    def without_last_bias(weights, X, y):
        net = NeuralNetwork(20, [16, 12], 5, dtype="float64", seed=0)
        for name, array in weights.items():
            net.named_arrays()[name][...] = array
        _, flat = net.loss_and_gradient(X, y)
        slices = net.parameter_slices()
        grads = {name: flat[where].reshape(weights[name].shape) for name, where in slices.items()}
        del grads["layers.4.b"]
        return grads

    check = exercises.check_network(without_last_bias)
    assert check.wrong == ["layers.4.b"]
    assert "missing (no such key in the dict returned)" in str(check)
    text = exercises.check_relu(lambda Z, dA: "dZ")
    assert text.wrong == ["dZ"] and "not an array of numbers but a str" in str(text)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_right_answers_still_pass(seed):
    assert exercises.check_dense(dense_backward, seed=seed).passed
    assert exercises.check_relu(relu_backward, seed=seed).passed
    assert exercises.check_dense(dense_backward, seed=seed).wrong == []
