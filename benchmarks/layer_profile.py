"""Where a training step of a network goes, layer by layer: forward, backward, and the share and
rate of the matrix products inside each.

Run from the repository root::

    python benchmarks/layer_profile.py                       # the modern net, batch 64
    python benchmarks/layer_profile.py --network LeNet-5 --repeats 20

One step on one thread of Python (``workers=1``, NumPy's BLAS on its own threads): each layer's
``forward`` (training mode) and ``backward`` are timed on their own, and the time spent inside
NumPy's matrix products during each is measured by timing every ``np.matmul`` and ``np.dot``
call the layers make (the ``@`` operator is not seen: the layers' products use ``np.matmul``).
The products' multiply-adds are counted from the layer's shapes, so their rate (GFLOP/s) can
be set beside the machine's float32 matmul rate (2048^3). The median of ``--repeats`` steps is
printed. ``cnn_speed.py`` prints this table too. This is a measurement, not a test: nothing
asserts on times.
"""

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from systems import machine_info, matmul_peak, use_processor_kernels  # noqa: E402

from barenet import NeuralNetwork  # noqa: E402
from barenet.nn import parse_layers  # noqa: E402
from barenet.nn.losses import LOSSES  # noqa: E402


class ProductClock:
    """Seconds spent inside NumPy's matrix products (``np.matmul``, ``np.dot``) while
    :meth:`measure` runs: both are swapped for timed wrappers, which the layers call as
    ``np.matmul(...)``, then put back."""

    def __init__(self):
        self.seconds = 0.0

    def timed(self, product):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return product(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return wrapper

    def measure(self, fn, *args):
        """``(result, total seconds, seconds in products)`` of ``fn(*args)``."""
        self.seconds = 0.0
        matmul, dot = np.matmul, np.dot
        np.matmul, np.dot = self.timed(matmul), self.timed(dot)
        start = time.perf_counter()
        try:
            result = fn(*args)
        finally:
            total = time.perf_counter() - start
            np.matmul, np.dot = matmul, dot
        return result, total, self.seconds


def product_flops(layer, batch):
    """Floating-point operations (2 per multiply-add) of a layer's products in one step:
    ``(forward, backward)``; zero for layers without parameters."""
    shapes = layer.param_shapes()
    if not shapes:
        return 0.0, 0.0
    out = layer.output_shape
    weights = sum(math.prod(shape) for shape, decay in shapes.values() if decay)
    positions = math.prod(out[:-1]) if len(out) > 1 else 1
    forward = 2.0 * batch * positions * weights
    if layer.kind == "conv2d":  # dX covers the input's positions when it is a full correlation
        in_positions = math.prod(layer.input_shape[:-1])
        dx = 2.0 * batch * max(in_positions, positions) * weights if layer.input_grad else 0.0
        return forward, forward + dx
    return forward, forward * (2 if layer.input_grad else 1)


def profile(net, X, y, repeats):
    """Per layer: median forward and backward seconds, seconds in products, and flops."""
    clock = ProductClock()
    runs = []
    for _ in range(repeats + 2):  # two warm-up steps allocate the work buffers
        Z, rows = X.reshape(len(X), *net.input_shape), []
        for layer in net.layers:
            Z, total, inside = clock.measure(layer.forward, Z, True)
            rows.append([total, inside])
        LOSSES[net.loss](Z, y, Z)
        for layer, row in zip(reversed(net.layers), reversed(rows)):
            Z, total, inside = clock.measure(layer.backward, Z)
            row += [total, inside]
        runs.append(rows)
    runs = runs[2:]
    table = []
    for i, layer in enumerate(net.layers):
        forward_flops, backward_flops = product_flops(layer, len(X))
        med = [statistics.median(run[i][k] for run in runs) for k in range(4)]
        table.append({"layer": f"{i} {layer.kind}", "forward": med[0], "forward_products": med[1],
                      "backward": med[2], "backward_products": med[3],
                      "flops": forward_flops + backward_flops})  # fmt: skip
    return table


def format_table(table, peak):
    lines = [
        "| layer | forward ms | backward ms | products' share | products GFLOP/s "
        "| % of matmul rate |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in table:
        step = row["forward"] + row["backward"]
        inside = row["forward_products"] + row["backward_products"]
        rate = row["flops"] / inside / 1e9 if inside and row["flops"] else None
        lines.append(
            f"| {row['layer']} | {1e3 * row['forward']:.2f} | {1e3 * row['backward']:.2f} | "
            f"{inside / step:.0%} | {'' if rate is None else f'{rate:.0f}'} | "
            f"{'' if rate is None else f'{rate / peak:.0%}'} |"
        )
    total = sum(r["forward"] + r["backward"] for r in table)
    inside = sum(r["forward_products"] + r["backward_products"] for r in table)
    forward, backward = (1e3 * sum(r[key] for r in table) for key in ("forward", "backward"))
    lines.append(f"| all | {forward:.2f} | {backward:.2f} | {inside / total:.0%} | | |")
    return lines


def main(argv=None):
    from cnn_speed import LEARNING_RATE, MOMENTUM, NETWORKS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", choices=sorted(NETWORKS), default="modern")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--keep-blas-env", action="store_true")
    args = parser.parse_args(argv)
    if not args.keep_blas_env:
        use_processor_kernels()
    optimizer = {"name": "sgd", "momentum": MOMENTUM}
    layers = parse_layers(NETWORKS[args.network])
    net = NeuralNetwork.from_layers(
        layers, (28, 28, 1), learning_rate=LEARNING_RATE, optimizer=optimizer, seed=0
    )
    rng = np.random.default_rng(0)
    X = rng.random((args.batch_size, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.batch_size)
    peak = matmul_peak()
    info = machine_info()
    print(f"{args.network}, batch {args.batch_size}, one step per layer (median of "
          f"{args.repeats}); {info['cpu']}, float32 matmul {peak:.0f} GFLOP/s")  # fmt: skip
    print("\n".join(format_table(profile(net, X, y, args.repeats), peak)))


if __name__ == "__main__":
    main()
