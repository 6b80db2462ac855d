"""The solutions of notebook 7 (``notebooks/solutions/more_layers.py``) pass their checkers on
every seed, to rounding, and each one needs NumPy alone: the teacher's edition pastes its body
into the notebook's blank, where no helper of the solutions file exists."""

import ast
import inspect

import numpy as np
import pytest

from barenet import exercises
from tests.exercises.answers import SOLUTIONS, more_layers

# The exercises of notebook 7: checker, and the function it checks
EXERCISES = {
    "conv2d_backward": exercises.check_conv2d,
    "maxpool_backward": exercises.check_maxpool,
    "batchnorm_backward": exercises.check_batchnorm,
    "dropout_backward": exercises.check_dropout,
    "sigmoid_backward": exercises.check_sigmoid,
    "tanh_backward": exercises.check_tanh,
    "momentum_step": exercises.check_momentum,
    "adam_step": exercises.check_adam,
    "layernorm_backward": exercises.check_layernorm,
    "attention_backward": exercises.check_attention,
    "rnn_step_backward": exercises.check_rnn_step,
}


def test_every_solution_has_its_checker_and_every_checker_a_solution():
    source = (SOLUTIONS / "more_layers.py").read_text()
    defined = [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
    assert defined == list(EXERCISES)
    assert all(name in exercises.__all__ for name in (c.__name__ for c in EXERCISES.values()))


@pytest.mark.parametrize("name", list(EXERCISES))
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_solution_passes_on_every_seed(name, seed):
    check = EXERCISES[name](getattr(more_layers, name), seed=seed)
    assert check.passed and check.wrong == [] and check.hints == [], str(check)
    assert all(v.error < 1e-12 for v in check.verdicts), str(check)
    n = len(check.verdicts)
    assert check.exercise == name and f"{n} of {n}" in str(check)


@pytest.mark.parametrize("name", list(EXERCISES))
def test_each_solution_needs_numpy_alone(name):
    namespace = {"np": np}
    exec(inspect.getsource(getattr(more_layers, name)), namespace)  # noqa: S102 - our own file
    assert EXERCISES[name](namespace[name]).passed


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_solution_leaves_the_callers_arrays_alone(name):
    """As barenet's own code does: a checker passes copies anyway, but the solutions are the
    model answers."""
    seen = []

    def watched(*args):
        before = [np.copy(a) for a in args if isinstance(a, np.ndarray)]
        result = getattr(more_layers, name)(*args)
        after = [a for a in args if isinstance(a, np.ndarray)]
        seen.append(all(np.array_equal(b, a) for b, a in zip(before, after)))
        return result

    assert EXERCISES[name](watched).passed and seen and all(seen)
