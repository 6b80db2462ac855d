"""benchmarks/layer_profile.py: its table must count each layer's products and their work, or
the rates it prints compare nothing."""

import importlib.util
import sys
from pathlib import Path

import numpy as np

from barenet import NeuralNetwork
from barenet.nn import parse_layers

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_profile():
    sys.path.insert(0, str(BENCHMARKS))  # it imports systems.py from beside it
    try:
        path = BENCHMARKS / "layer_profile.py"
        spec = importlib.util.spec_from_file_location("layer_profile", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def test_every_layer_is_timed_and_only_layers_with_weights_spend_time_in_products():
    profile = load_profile()
    layers = parse_layers("conv4x3same relu pool2 flatten dense5")
    net = NeuralNetwork.from_layers(layers, (8, 8, 1))
    rng = np.random.default_rng(0)
    X, y = rng.random((6, 64), dtype=np.float32), rng.integers(0, 5, 6)
    table = profile.profile(net, X, y, repeats=2)
    assert [row["layer"] for row in table] == ["0 conv2d", "1 relu", "2 max_pool2d", "3 flatten",
                                               "4 dense"]  # fmt: skip
    assert all(row["forward"] > 0 and row["backward"] > 0 for row in table)
    conv, relu, *_, dense = table
    assert conv["forward_products"] > 0 and dense["backward_products"] > 0
    assert relu["forward_products"] == relu["backward_products"] == 0
    # 2 flops per multiply-add: conv forward 6*8*8 positions x 3*3*1*4 weights; its backward
    # computes dW only (the first layer needs no dX); dense 64 inputs x 5, forward then dW, dX.
    assert conv["flops"] == 2 * 6 * 64 * 36 * 2
    assert dense["flops"] == 2 * 6 * 64 * 5 * 3
    lines = profile.format_table(table, peak=100.0)
    assert lines[2].startswith("| 0 conv2d |") and lines[-1].startswith("| all |")
    assert isinstance(np.matmul, np.ufunc)  # the timed wrapper was taken away again
