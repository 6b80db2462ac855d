"""The parts of a network: layers, each a forward and a backward pass side by side.

Build any stack with :meth:`barenet.NeuralNetwork.from_layers`::

    from barenet import NeuralNetwork
    from barenet.nn import Dense, ReLU, Dropout
    net = NeuralNetwork.from_layers([Dense(256), ReLU(), Dropout(0.2), Dense(10)], 784)

Modules: :mod:`~barenet.nn.layers` (the Layer base, Dense, Dropout, BatchNorm, Flatten),
:mod:`~barenet.nn.activations` (ReLU and the others, as layers), :mod:`~barenet.nn.conv`
(Conv2D), :mod:`~barenet.nn.pooling` (MaxPool2D, AvgPool2D, GlobalAvgPool2D),
:mod:`~barenet.nn.residual` (Residual blocks), :mod:`~barenet.nn.normalization` (LayerNorm),
:mod:`~barenet.nn.tokens` (PatchEmbed, ClassToken, PositionEmbedding, TakeToken, TokenMean),
:mod:`~barenet.nn.attention` (MultiHeadSelfAttention),
:mod:`~barenet.nn.recurrent` (RNN, LSTM, GRU),
:mod:`~barenet.nn.losses` (softmax and cross-entropy), :mod:`~barenet.nn.init`
(initialisations), :mod:`~barenet.nn.penalties` (L1/L2), :mod:`~barenet.nn.stack` (layer lists
as data).
"""

from barenet.nn.activations import GELU, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from barenet.nn.attention import MultiHeadSelfAttention
from barenet.nn.conv import Conv2D
from barenet.nn.layers import BatchNorm, Dense, Dropout, Flatten, Layer
from barenet.nn.normalization import LayerNorm
from barenet.nn.pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from barenet.nn.recurrent import GRU, LSTM, RNN
from barenet.nn.residual import Residual
from barenet.nn.stack import describe_layers, layer_from_config, parse_layers
from barenet.nn.tokens import ClassToken, PatchEmbed, PositionEmbedding, TakeToken, TokenMean

__all__ = [
    "AvgPool2D",
    "ClassToken",
    "Conv2D",
    "GELU",
    "GlobalAvgPool2D",
    "GRU",
    "MaxPool2D",
    "MultiHeadSelfAttention",
    "PatchEmbed",
    "PositionEmbedding",
    "Residual",
    "TakeToken",
    "TokenMean",
    "BatchNorm",
    "Dense",
    "Dropout",
    "Flatten",
    "Identity",
    "Layer",
    "LayerNorm",
    "LeakyReLU",
    "LSTM",
    "ReLU",
    "RNN",
    "Sigmoid",
    "Tanh",
    "describe_layers",
    "layer_from_config",
    "parse_layers",
]
