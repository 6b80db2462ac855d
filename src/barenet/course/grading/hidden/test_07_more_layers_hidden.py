"""Notebook 7, *Write more layers*: the hidden tests, kept out of the student edition. Each
layer's checker on two other seeds than the notebook's: other random arrays, so that an answer
fitted to the notebook's cases (or right on them by chance) does not pass."""

import pytest

from barenet import exercises
from barenet.course.plugin import expect

NOTEBOOK = "07-write-more-layers.ipynb"
CHECKERS = {
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
FUNCTIONS = tuple(CHECKERS)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.grade(n, points=1)) for n in CHECKERS]
)
def test_more_layers_on_other_seeds(student, name):
    function = student.function(name)
    for seed in (1, 2):
        expect(CHECKERS[name](function, seed=seed))
