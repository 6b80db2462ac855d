"""benchmarks/winograd_probe.py: its Winograd convolution must compute what Conv2D does, or its
timings compare nothing."""

import importlib.util
import sys
from pathlib import Path

import numpy as np

from barenet.nn import Conv2D

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_winograd_forward_equals_the_im2col_convolution():
    sys.path.insert(0, str(BENCHMARKS))  # the probe imports systems.py from beside it
    try:
        spec = importlib.util.spec_from_file_location("probe", BENCHMARKS / "winograd_probe.py")
        probe = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(probe)
    finally:
        sys.path.remove(str(BENCHMARKS))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 6, 8, 4), dtype=np.float32)
    layer = Conv2D(5, 3, padding="same")
    layer.build((6, 8, 4))
    layer.W = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)
    layer.b = np.zeros(5, np.float32)
    np.testing.assert_allclose(probe.winograd_forward(X, layer.W, {}), layer.forward(X), atol=1e-5)
