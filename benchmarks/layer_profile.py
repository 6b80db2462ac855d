"""Where a training step of a network goes, layer by layer: forward, backward, and the share and
rate of the matrix products inside each.

Run from the repository root::

    python benchmarks/layer_profile.py                       # the modern net, batch 64
    python benchmarks/layer_profile.py --network LeNet-5 --repeats 20
    python benchmarks/layer_profile.py --network ViT         # vit_resnet_speed.py's networks too
    python benchmarks/layer_profile.py --layers "patch7x64 cls pos res[layernorm attention4] \
        layernorm token0 dense10"                            # any layer string, on MNIST's shape
    python benchmarks/layer_profile.py --network ViT --batch-size 32 --blas-threads 1 \
        --cpu-time                      # as each of two workers runs, in CPU time (busy machine)

One step on one thread of Python (``workers=1``, NumPy's BLAS on its own threads): each layer's
``forward`` (training mode) and ``backward`` are timed on their own, and the time spent inside
NumPy's matrix products during each is measured by timing every ``np.matmul`` and ``np.dot``
call the layers make (the ``@`` operator is not seen: the layers' products use ``np.matmul``).
The layers inside a residual block get rows of their own below the block's (``3.1
self_attention``, ``5.shortcut conv2d``); the block's row includes them, and the last row adds
up the network's own layers only. The products' multiply-adds are counted from the layer's
shapes (attention's token-by-token products too), so their rate (GFLOP/s) can be set beside the
machine's float32 matmul rate (2048^3). The median of ``--repeats`` steps is printed.
``cnn_speed.py`` and ``vit_resnet_speed.py`` print this table too. This is a measurement, not a
test: nothing asserts on times.
"""

import argparse
import contextlib
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

    def __init__(self, clock=time.perf_counter):
        self.seconds = 0.0
        self.depth = 0
        self.now = clock

    def timed(self, product):
        def wrapper(*args, **kwargs):
            start = self.now()
            try:
                return product(*args, **kwargs)
            finally:
                self.seconds += self.now() - start

        return wrapper

    def measure(self, fn, *args):
        """``(result, total seconds, seconds in products)`` of ``fn(*args)``; calls may nest
        (a residual block's layers inside the block's), the outermost swaps the products."""
        before, outermost = self.seconds, not self.depth
        if outermost:
            matmul, dot = np.matmul, np.dot
            np.matmul, np.dot = self.timed(matmul), self.timed(dot)
        self.depth += 1
        start = self.now()
        try:
            result = fn(*args)
        finally:
            total = self.now() - start
            self.depth -= 1
            if outermost:
                np.matmul, np.dot = matmul, dot
        return result, total, self.seconds - before


def product_flops(layer, batch):
    """Floating-point operations (2 per multiply-add) of a layer's products in one step:
    ``(forward, backward)``; zero for layers without parameters; a residual block's are its
    layers' and its shortcut's."""
    parts = [*getattr(layer, "layers", ()), getattr(layer, "shortcut", None)]
    if layer.kind == "residual":
        flops = [product_flops(part, batch) for part in parts if part is not None]
        return sum(f for f, _ in flops), sum(b for _, b in flops)
    shapes = layer.param_shapes()
    if not shapes:
        return 0.0, 0.0
    out = layer.output_shape
    weights = sum(math.prod(shape) for shape, decay in shapes.values() if decay)
    positions = math.prod(out[:-1]) if len(out) > 1 else 1
    forward = 2.0 * batch * positions * weights
    if layer.kind == "self_attention":  # and per head S = Q K^T, O = A V: 2 T*T*D per sample,
        T, D = layer.input_shape  # whose backward takes twice that (dV, dA, dQ, dK)
        scores = 2.0 * batch * 2 * T * T * D
        return forward + scores, forward * (2 if layer.input_grad else 1) + 2 * scores
    if layer.kind == "conv2d":  # dX covers the input's positions when it is a full correlation
        in_positions = math.prod(layer.input_shape[:-1])
        dx = 2.0 * batch * max(in_positions, positions) * weights if layer.input_grad else 0.0
        return forward, forward + dx
    return forward, forward * (2 if layer.input_grad else 1)


def labelled_layers(layers, prefix=""):
    """``(label, layer, depth)`` of each layer, in order, with each residual block's layers
    (and its shortcut) after it: ``"3 residual"``, ``"3.0 layer_norm"``, ``"3.shortcut ..."``."""
    rows = []
    for i, layer in enumerate(layers):
        rows.append((f"{prefix}{i} {layer.kind}", layer, prefix.count(".")))
        if layer.kind == "residual":
            rows += labelled_layers(layer.layers, f"{prefix}{i}.")
            if layer.shortcut is not None:
                depth = prefix.count(".") + 1
                rows.append((f"{prefix}{i}.shortcut {layer.shortcut.kind}", layer.shortcut, depth))
    return rows


def profile(net, X, y, repeats, clock=time.perf_counter):
    """Per layer (those inside residual blocks too): median forward and backward seconds,
    seconds in products, and flops; ``clock`` reads the time (``time.thread_time``: this
    thread's CPU time)."""
    clock = ProductClock(clock)
    rows = labelled_layers(net.layers)
    inner = [layer for _, layer, depth in rows if depth > 0]
    times = {}  # id(layer) -> [forward, its products, backward, its products] of this step

    def timed(layer, method, slot):
        def wrapper(*args):
            result, total, inside = clock.measure(method, *args)
            times[id(layer)][slot : slot + 2] = [total, inside]
            return result

        return wrapper

    for layer in inner:  # the block calls them: timed through wrappers on the instances
        layer.forward = timed(layer, layer.forward, 0)
        layer.backward = timed(layer, layer.backward, 2)
    runs = []
    try:
        for _ in range(repeats + 2):  # two warm-up steps allocate the work buffers
            times.update({id(layer): [0.0] * 4 for _, layer, _ in rows})
            Z = X.reshape(len(X), *net.input_shape)
            for layer in net.layers:
                Z, total, inside = clock.measure(layer.forward, Z, True)
                times[id(layer)][:2] = [total, inside]
            LOSSES[net.loss](Z, y, Z)
            for layer in reversed(net.layers):
                Z, total, inside = clock.measure(layer.backward, Z)
                times[id(layer)][2:] = [total, inside]
            runs.append([list(times[id(layer)]) for _, layer, _ in rows])
    finally:
        for layer in inner:
            del layer.forward, layer.backward  # the class's methods again
    runs = runs[2:]
    table = []
    for i, (label, layer, depth) in enumerate(rows):
        forward_flops, backward_flops = product_flops(layer, len(X))
        med = [statistics.median(run[i][k] for run in runs) for k in range(4)]
        table.append({"layer": label, "depth": depth, "forward": med[0],
                      "forward_products": med[1], "backward": med[2],
                      "backward_products": med[3],
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
            f"| {'. ' * row['depth']}{row['layer']} | {1e3 * row['forward']:.2f} "
            f"| {1e3 * row['backward']:.2f} | "
            f"{inside / step if step else 0:.0%} | {'' if rate is None else f'{rate:.0f}'} | "
            f"{'' if rate is None else f'{rate / peak:.0%}'} |"
        )
    table = [row for row in table if not row["depth"]]  # the blocks' rows hold their layers'
    total = sum(r["forward"] + r["backward"] for r in table)
    inside = sum(r["forward_products"] + r["backward_products"] for r in table)
    forward, backward = (1e3 * sum(r[key] for r in table) for key in ("forward", "backward"))
    lines.append(f"| all | {forward:.2f} | {backward:.2f} | {inside / total:.0%} | | |")
    return lines


def networks():
    """``{name: layer string}``: ``cnn_speed.py``'s networks and ``vit_resnet_speed.py``'s."""
    from cnn_speed import NETWORKS
    from vit_resnet_speed import NETWORKS as MODERN_NETWORKS

    return {**NETWORKS, **MODERN_NETWORKS}


def main(argv=None):
    from cnn_speed import LEARNING_RATE, MOMENTUM

    known = networks()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--network", choices=sorted(known), default="modern")
    which.add_argument("--layers", help="a layer string instead, on 28x28x1 images")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument(
        "--blas-threads", type=int, help="limit NumPy's BLAS (1: as each of two workers runs)"
    )
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="count this thread's CPU time, not the wall clock's (with --blas-threads 1 all "
        "the work runs on it): steadier on a busy machine",
    )
    parser.add_argument("--keep-blas-env", action="store_true")
    args = parser.parse_args(argv)
    if not args.keep_blas_env:
        use_processor_kernels()
    optimizer = {"name": "sgd", "momentum": MOMENTUM}
    layers = parse_layers(args.layers or known[args.network])
    net = NeuralNetwork.from_layers(
        layers, (28, 28, 1), learning_rate=LEARNING_RATE, optimizer=optimizer, seed=0
    )
    rng = np.random.default_rng(0)
    X = rng.random((args.batch_size, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.batch_size)
    limit = contextlib.nullcontext()
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(args.blas_threads, user_api="blas")
    with limit:
        peak = matmul_peak()
        info = machine_info()
        name = "layers" if args.layers else args.network
        blas = f", {args.blas_threads} BLAS thread(s)" if args.blas_threads else ""
        blas += ", CPU time" if args.cpu_time else ""
        print(f"{name}, batch {args.batch_size}{blas}, one step per layer (median of "
              f"{args.repeats}); {info['cpu']}, float32 matmul {peak:.0f} GFLOP/s")  # fmt: skip
        clock = time.thread_time if args.cpu_time else time.perf_counter
        print("\n".join(format_table(profile(net, X, y, args.repeats, clock), peak)))


if __name__ == "__main__":
    main()
