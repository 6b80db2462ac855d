"""Notebook 7, *Write more layers*: the checks the student runs in the notebook, for points,
one test per layer (its checker from :mod:`barenet.exercises`, the notebook's seed). The hidden
tests (``hidden/``) run the same checkers on other random cases."""

import pytest

from barenet import exercises
from barenet.course.plugin import expect

NOTEBOOK = "07-write-more-layers.ipynb"
# The function each exercise asks for, its checker, and its points (those of the notebook's
# nbgrader metadata).
LAYERS = {
    "conv2d_backward": (exercises.check_conv2d, 4),
    "maxpool_backward": (exercises.check_maxpool, 2),
    "batchnorm_backward": (exercises.check_batchnorm, 3),
    "dropout_backward": (exercises.check_dropout, 1),
    "sigmoid_backward": (exercises.check_sigmoid, 1),
    "tanh_backward": (exercises.check_tanh, 1),
    "momentum_step": (exercises.check_momentum, 1),
    "adam_step": (exercises.check_adam, 2),
    "layernorm_backward": (exercises.check_layernorm, 3),
    "attention_backward": (exercises.check_attention, 4),
    "rnn_step_backward": (exercises.check_rnn_step, 2),
}
FUNCTIONS = tuple(LAYERS)


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.grade(n, points=p)) for n, (_, p) in LAYERS.items()],
)
def test_more_layers(student, name):
    check, _ = LAYERS[name]
    expect(check(student.function(name)))
