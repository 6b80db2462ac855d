"""--layers in the command line's own words: every mistake refused before training, in a line
that names the word and the fix, and a line that already ends with its output layer kept."""

import pytest

from barenet import load_model
from barenet.nn import parse_layers
from tests.cli.helpers import assert_one_line_error, run

pytest.importorskip("sklearn")  # the digits data set: 8x8 images, no download


def train(capsys, tmp_path, layers):
    return run(capsys, "train", "--dataset", "digits", "--layers", layers, "--epochs", 1, "-q",
               "-o", tmp_path / "m.npz")  # fmt: skip


@pytest.mark.parametrize(
    "layers, words",
    [
        ("", ["--layers is empty", "--layers 'dense128 relu'"]),
        ("   ", ["--layers is empty"]),
        ("Conv32x3 ReLU", ["outputs of shape 6x6x32", "end the line with flatten or gap"]),
        ("conv8x3 dense32", ["layer 2, dense32", "images of shape 6x6x8", "put flatten"]),
        ("lstm16seq", ["outputs of shape 8x16", "a recurrent layer without seq"]),
        ("dense64 softmax", ["leave 'softmax' out", "the loss applies it"]),
        ("dense64 dropout1.5", ["'dropout1.5' in 'dense64 dropout1.5'", "in [0, 1), got 1.5"]),
    ],
)
def test_a_bad_layer_line_is_one_line_in_command_line_words(capsys, tmp_path, layers, words):
    code, out, err = train(capsys, tmp_path, layers)
    assert_one_line_error(code, out, err, *words)
    assert "Flatten()" not in err and "Dense(" not in err  # no Python names on the command line
    assert not (tmp_path / "m.npz").exists()


def test_a_line_that_ends_with_the_output_layer_is_not_given_a_second_one(capsys, tmp_path):
    code, out, err = train(capsys, tmp_path, "dense64 relu dense10")
    assert code == 0, err
    assert load_model(tmp_path / "m.npz").describe() == "dense64 relu dense10"
    code, out, err = run(capsys, "train", "--dataset", "digits", "--layers", "dense64 relu dense32",
                         "--epochs", 1, "-q", "-o", tmp_path / "n.npz")  # fmt: skip
    assert code == 0, err
    assert load_model(tmp_path / "n.npz").describe() == "dense64 relu dense32 dense10"


def test_dropout_rates_are_read_in_every_spelling():
    rates = [layer.rate for layer in parse_layers("dropout0.5 dropout.25 dropout0")]
    assert rates == [0.5, 0.25, 0.0]
