"""Nothing a student writes makes a checker raise: a blank, an exception, None, the wrong number
of arrays, the wrong shapes, text, NaN, a function that writes into its arguments. Each gets a
report that says what is wrong, and ``wrong`` names the gradients concerned."""

import numpy as np
import pytest

from barenet import exercises
from tests.exercises.answers import more_layers as right
from tests.exercises.test_solutions import EXERCISES

NAMES = {
    "conv2d_backward": ["dX", "dW", "db"],
    "maxpool_backward": ["dX"],
    "batchnorm_backward": ["dX", "dgamma", "dbeta"],
    "dropout_backward": ["dX"],
    "sigmoid_backward": ["dZ"],
    "tanh_backward": ["dZ"],
    "momentum_step": ["params", "velocity"],
    "adam_step": ["params", "m", "v"],
    "layernorm_backward": ["dX", "dgamma", "dbeta"],
    "attention_backward": ["dX", "dWq", "dWk", "dWv", "dWo"],
    "rnn_step_backward": ["dx", "dh_prev", "dWx", "dWh", "db"],
}


def test_the_names_are_those_of_the_checkers():
    for name, checker in EXERCISES.items():
        assert checker(getattr(right, name)).gradients == NAMES[name]


@pytest.mark.parametrize("name", list(EXERCISES))
def test_a_blank_is_not_written_yet(name):
    def blank(*args):
        raise NotImplementedError()

    check = EXERCISES[name](blank)
    assert str(check) == f"{name}: not written yet"
    assert not check.passed and check.wrong == NAMES[name] and check.hints == []


@pytest.mark.parametrize("name", list(EXERCISES))
def test_an_exception_is_reported_with_the_inputs_it_came_from(name):
    def broken(*args):
        return np.ones((2, 3)) @ np.ones((4, 5))  # a ValueError from NumPy

    check = EXERCISES[name](broken)
    assert str(check).startswith(f"{name}: raised ValueError: ")
    assert "(on " in str(check) and check.wrong == NAMES[name]
    wrong_arguments = EXERCISES[name](lambda x: x)  # too few parameters
    assert "raised TypeError" in str(wrong_arguments) and not wrong_arguments.passed


@pytest.mark.parametrize("name", list(EXERCISES))
def test_wrong_outputs_are_described_not_raised(name):
    checker, names = EXERCISES[name], NAMES[name]
    nothing = checker(lambda *args: None)
    assert not nothing.passed and nothing.wrong == names
    if len(names) > 1:
        assert str(nothing).endswith("got None")
        short = checker(lambda *args: getattr(right, name)(*args)[:-1])
        assert f"should return {len(names)} arrays ({', '.join(names)}), got a tuple" in str(short)
        assert short.wrong == names
        assert "got a dict" in str(checker(lambda *args: {"dX": 1}))
    else:
        assert "missing (the function returned None for it)" in str(nothing)
    tiny = checker(lambda *args: tuple(np.zeros(1) for _ in names) if len(names) > 1 else 0.0)
    assert tiny.wrong == names and str(tiny).count("WRONG shape") == len(names)
    text = checker(lambda *args: ("x",) * len(names) if len(names) > 1 else "x")
    assert text.wrong == names and "not an array of numbers but a str" in str(text)
    ragged = [[1.0], [1.0, 2.0]]
    lists = checker(lambda *args: (ragged,) * len(names) if len(names) > 1 else ragged)
    assert lists.wrong == names and "not an array of numbers but a list" in str(lists)


@pytest.mark.parametrize("name", list(EXERCISES))
def test_nan_and_infinity_never_pass(name):
    def spoiled(*args):
        outputs = getattr(right, name)(*args)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        first = np.array(outputs[0], dtype=float)
        first.flat[0] = np.nan
        rest = [np.full(np.shape(o), np.inf) for o in outputs[1:]]
        return (first, *rest) if len(outputs) > 1 else first

    check = EXERCISES[name](spoiled)
    assert check.wrong == NAMES[name], str(check)
    assert "relative error nan" in str(check) and "NaN or infinite values" in str(check)


@pytest.mark.parametrize("name", list(EXERCISES))
def test_an_answer_that_writes_into_its_arguments_is_judged_on_its_outputs(name):
    def scribbling(*args):
        result = getattr(right, name)(*args)
        result = tuple(np.array(r) for r in result) if isinstance(result, tuple) else result.copy()
        for a in args:
            if isinstance(a, np.ndarray):
                a[...] = 0  # the caller's arrays: the checker gave copies
        return result

    assert EXERCISES[name](scribbling).passed
    assert EXERCISES[name](getattr(right, name)).passed  # and the next check is unharmed


def test_a_right_answer_as_lists_or_in_float32_passes_on_its_numbers():
    as_lists = exercises.check_tanh(lambda Z, dA: (dA * (1 - np.tanh(Z) ** 2)).tolist())
    assert as_lists.passed
    single = exercises.check_tanh(lambda Z, dA: (dA * (1 - np.tanh(Z) ** 2)).astype(np.float32))
    assert single.passed and 1e-10 < single.verdicts[0].error < 1e-6  # float32's rounding
