"""The pooling layers (max, average, global average): against loops, against finite
differences, and their configs and error messages."""

import numpy as np
import pytest

from barenet.errors import BarenetError
from barenet.nn.pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from tests.nn.image_layer_check import assert_config_round_trip, check_gradients, standalone


def distinct(shape, seed=7):
    """Values at least 1e-3 apart, so that each window's maximum is unique."""
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))) * 1e-2
    return values.reshape(shape).astype(np.float64)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (MaxPool2D(2), (4, 6, 3)),
        (MaxPool2D(2), (5, 7, 2)),  # odd: the last row and column are dropped
        (MaxPool2D(3, stride=2), (7, 6, 2)),  # overlapping windows
        (MaxPool2D((2, 3), stride=(1, 2)), (5, 7, 1)),
        (MaxPool2D(2, stride=3), (8, 7, 2)),  # gaps between windows
        (AvgPool2D(2), (5, 7, 2)),
        (AvgPool2D(3, stride=1), (5, 6, 2)),
        (AvgPool2D((3, 2)), (6, 5, 3)),
        (GlobalAvgPool2D(), (5, 3, 4)),
    ],
    ids=repr,
)
def test_pool_gradients_match_finite_differences(layer, shape):
    standalone(layer, shape)
    check_gradients(layer, distinct((3, *shape)))


def test_max_pool_forward_and_ties_go_to_the_first_position():
    layer = standalone(MaxPool2D(2), (4, 4, 1))
    X = np.array([[1, 2, 0, 0], [2, 0, 0, 0], [5, 5, 3, 1], [5, 5, 2, 3]], float)
    Y = layer.forward(X.reshape(1, 4, 4, 1))
    np.testing.assert_array_equal(Y[0, :, :, 0], [[2, 0], [5, 3]])
    dX = layer.backward(np.array([1.0, 2, 3, 4]).reshape(1, 2, 2, 1))
    expected = [[0, 1, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(dX[0, :, :, 0], expected)


def test_overlapping_max_pool_adds_the_gradients_of_shared_positions():
    layer = standalone(MaxPool2D((1, 2), stride=1), (1, 3, 1))
    layer.forward(np.array([0.0, 9.0, 1.0]).reshape(1, 1, 3, 1))
    dX = layer.backward(np.ones((1, 1, 2, 1)))
    np.testing.assert_array_equal(dX[0, 0, :, 0], [0, 2, 0])


def test_pools_forward_against_loops():
    X = np.random.default_rng(8).normal(size=(2, 7, 8, 3))
    for cls, reduce in ((MaxPool2D, np.max), (AvgPool2D, np.mean)):
        layer = standalone(cls((3, 2), stride=(2, 3)), X.shape[1:])
        Y = layer.forward(X)
        assert Y.shape == (2, 3, 3, 3)
        for p, q in np.ndindex(3, 3):
            window = X[:, 2 * p : 2 * p + 3, 3 * q : 3 * q + 2, :]
            np.testing.assert_allclose(Y[:, p, q], reduce(window, axis=(1, 2)))
    gap = standalone(GlobalAvgPool2D(), X.shape[1:])
    np.testing.assert_allclose(gap.forward(X), X.mean(axis=(1, 2)))
    assert gap.output_shape == (3,)


# -- configs and errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer",
    [
        MaxPool2D(),
        MaxPool2D(3, stride=2),
        AvgPool2D((2, 3), stride=(1, 2)),
        GlobalAvgPool2D(),
    ],
    ids=repr,
)
def test_config_round_trip(layer):
    assert_config_round_trip(layer)


def test_config_kinds_and_values():
    assert MaxPool2D(2).config() == {"kind": "max_pool2d", "pool_size": 2, "stride": None}
    assert AvgPool2D(3, 1).config() == {"kind": "avg_pool2d", "pool_size": 3, "stride": 1}
    assert GlobalAvgPool2D().config() == {"kind": "global_avg_pool2d"}
    assert MaxPool2D(2).stride == (2, 2)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: MaxPool2D((2, 2, 2)), "pool_size must be an int or a pair of ints"),
        (lambda: AvgPool2D(2, stride=0), "stride must be >= 1, got 0"),
    ],
)
def test_bad_settings_raise_clear_errors(make, message):
    with pytest.raises(BarenetError, match=message):
        make()


@pytest.mark.parametrize(
    "layer, shape, message",
    [
        (MaxPool2D(4), (3, 5, 2), "MaxPool2D window 4x4 is larger than its input 3x5x2"),
        (GlobalAvgPool2D(), (10,), "GlobalAvgPool2D needs image samples"),
    ],
    ids=repr,
)
def test_shapes_that_do_not_fit_raise_at_build(layer, shape, message):
    with pytest.raises(BarenetError, match=message):
        layer.build(shape)
