"""Layer stacks as data: the one-line spelling and the configs a model file holds."""

import pytest

from barenet import BarenetError
from barenet.nn import Dense, Dropout, ReLU, describe_layers, layer_from_config, parse_layers
from barenet.nn.stack import mlp_layers

LINES = [
    "dense128 relu dense10",
    "dense256 batchnorm gelu dropout0.2 dense64 leaky_relu dense10",
    "flatten dense32 sigmoid dense4",
]


@pytest.mark.parametrize("line", LINES)
def test_a_line_reads_back_as_it_was_written(line):
    layers = parse_layers(line)
    assert describe_layers(layers) == line
    rebuilt = [layer_from_config(layer.config()) for layer in layers]
    assert [la.config() for la in rebuilt] == [la.config() for la in layers]


def test_words_make_the_layers_they_name():
    dense, relu, dropout, last = parse_layers("dense128, ReLU dropout0.5 dense10")
    assert (type(dense), dense.units, type(relu)) == (Dense, 128, ReLU)
    assert (type(dropout), dropout.rate, last.units) == (Dropout, 0.5, 10)


@pytest.mark.parametrize("line", ["", "dense", "dense12x", "relu6", "convolution"])
def test_an_unknown_word_is_named(line):
    with pytest.raises(BarenetError, match="unknown layer|layer list is empty"):
        parse_layers(line)


def test_the_original_signature_is_a_layer_list():
    layers = mlp_layers([128, 64], 10, "tanh", "he", dropout=0.1, batch_norm=True)
    assert describe_layers(layers) == (
        "dense128 batchnorm tanh dropout0.1 dense64 batchnorm tanh dropout0.1 dense10"
    )
    assert {la.init for la in layers if isinstance(la, Dense)} == {"he"}
