"""Convolutional training speed: barenet against PyTorch (CPU) on MNIST, side by side.

Run from the repository root::

    python benchmarks/cnn_speed.py                  # LeNet-5 and a small modern net, 5 rounds
    python benchmarks/cnn_speed.py --quick          # smoke test: 1 round on 2,000 images
    python benchmarks/cnn_speed.py --json cnn.json  # also write the raw figures
    python benchmarks/cnn_speed.py --workers 1      # barenet's step on one Python thread

The networks, the same in both systems (PyTorch in NCHW, barenet channels last):

- LeNet-5: ``Conv2D(20, 5), ReLU, MaxPool2D(2), Conv2D(50, 5), ReLU, MaxPool2D(2), Flatten,
  Dense(500), ReLU, Dense(10)``;
- "modern": 3x3 convolutions 32-32-pool-64-64-pool, then Dense(256), ReLU, Dense(10), with
  zero padding "same" as Keras's examples write it.

Both train with SGD, momentum 0.9, learning rate 0.05, batch 64, float32, the same random
order of barenet's 50,000 training images (drawn from the round's seed and given to both), no
validation pass. PyTorch runs with ``--torch-threads`` (2) threads; NumPy's OpenBLAS with its
default. In each round each system runs in a fresh process of its own (in one process, the idle
threads of one library keep spinning and take the cores from the other): 20 batches of warm-up,
then one timed epoch; the order of the systems alternates between rounds, so that a slow patch
of this shared machine falls on both alike. The table gives the median seconds per epoch and
barenet's speed as a multiple of PyTorch's (PyTorch's time / barenet's), and the time to
predict the 10,000 test images (median of 5). The machine's float32 matmul rate (2048^3) is
measured before and after, and the better one printed beside the times. Then, for each
network, ``layer_profile.py``'s table: each layer's forward and backward, and the share and rate
of the matrix products in them.

barenet trains with ``Trainer(workers=...)`` (default ``"auto"``: two threads share each step of
a CNN on a two-core machine, see ``barenet/train/parallel.py``).

Like benchmarks/train_speed.py, the script restarts itself without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE (which make NumPy's OpenBLAS skip its AVX-512 kernels on these machines) unless
``--keep-blas-env`` is given. This is a measurement, not a test: nothing here asserts on times.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from systems import load_data, machine_info, matmul_peak, use_processor_kernels  # noqa: E402  (beside this file)

from barenet import NeuralNetwork  # noqa: E402
from barenet.nn import parse_layers  # noqa: E402
from barenet.train.trainer import Trainer  # noqa: E402

NETWORKS = {
    "LeNet-5": "conv20x5 relu pool2 conv50x5 relu pool2 flatten dense500 relu dense10",
    "modern": "conv32x3same relu conv32x3same relu pool2 conv64x3same relu conv64x3same relu "
    "pool2 flatten dense256 relu dense10",
}
LEARNING_RATE, MOMENTUM = 0.05, 0.9


class Barenet:
    name = "barenet"

    def __init__(self, line, seed, workers="auto"):
        self.net = NeuralNetwork.from_layers(
            parse_layers(line),
            (28, 28, 1),
            learning_rate=LEARNING_RATE,
            optimizer={"name": "sgd", "momentum": MOMENTUM},
            seed=seed,
        )
        self.trainer = Trainer(self.net, workers=workers)

    def train_epoch(self, X, y, order, batch_size):
        """One epoch in the given order, through the trainer's own step on each batch."""
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            self.trainer.train_batch(X[idx], y[idx])

    def predict(self, X):
        return self.net.predict(X)


class Torch:
    name = "PyTorch"

    def __init__(self, line, seed, threads):
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.torch, self.model = torch, _torch_model(torch.nn, line)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
        self.loss = torch.nn.CrossEntropyLoss()

    def train_epoch(self, X, y, order, batch_size):
        X, y = self.torch.from_numpy(X).view(-1, 1, 28, 28), self.torch.from_numpy(y)
        order = self.torch.from_numpy(order)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            self.opt.zero_grad()
            self.loss(self.model(X[idx]), y[idx]).backward()
            self.opt.step()

    def predict(self, X):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(X).view(-1, 1, 28, 28)).argmax(1).numpy()


def _torch_model(nn, line):
    """The PyTorch twin of a barenet layer line (only the words NETWORKS uses)."""
    permute = _permute_module()
    layers, channels, side = [], 1, 28
    for word in line.split():
        if word.startswith("conv"):
            same = word.endswith("same")
            filters, k = (int(v) for v in word[4:].removesuffix("same").split("x"))
            layers.append(nn.Conv2d(channels, filters, k, padding="same" if same else 0))
            channels, side = filters, side if same else side - k + 1
        elif word == "pool2":
            layers.append(nn.MaxPool2d(2))
            side //= 2
        elif word == "relu":
            layers.append(nn.ReLU())
        elif word == "flatten":  # channels last, as barenet flattens: the same features
            layers += [permute(), nn.Flatten()]
            features = side * side * channels
        elif word.startswith("dense"):
            layers.append(nn.Linear(features, int(word[5:])))
            features = int(word[5:])
    return nn.Sequential(*layers)


def _permute_module():
    import torch

    class Permute(torch.nn.Module):
        """NCHW -> NHWC before flattening, so the dense layer sees barenet's feature order."""

        def forward(self, x):
            return x.permute(0, 2, 3, 1)

    return Permute


def log(message):
    print(message, file=sys.stderr, flush=True)


def worker(args):
    """One system in its own process: a warm-up of 20 batches, then timed epochs; prints JSON.

    Each system runs alone in its process: in one process, the idle threads of one library
    (OpenBLAS's, PyTorch's OpenMP) keep spinning and take the cores from the other.
    """
    data = load_data(args.data_dir, args.n_train)
    line = NETWORKS[args.network]
    system = (
        Barenet(line, args.seed, args.workers)
        if args.worker == "barenet"
        else Torch(line, args.seed, args.torch_threads)
    )
    rng = np.random.default_rng(args.seed)
    X, y = data.X_train, data.y_train
    system.train_epoch(X, y, rng.permutation(len(X))[: 20 * args.batch_size], args.batch_size)
    times = []
    for _ in range(args.epochs):
        order = rng.permutation(len(X))
        start = time.perf_counter()
        system.train_epoch(X, y, order, args.batch_size)
        times.append(time.perf_counter() - start)
    predict = []
    for _ in range(5):
        start = time.perf_counter()
        predictions = system.predict(data.X_test)
        predict.append(time.perf_counter() - start)
    accuracy = float(np.mean(predictions == data.y_test))
    print(json.dumps({"times": times, "predict": predict, "accuracy": accuracy}))


def run_network(name, data, args):
    """Alternating rounds, each system in a fresh process per round; returns per-system figures."""
    results = {s: {"times": [], "predict": []} for s in ("barenet", "PyTorch")}
    for r in range(args.rounds):
        order = list(results) if r % 2 == 0 else list(results)[::-1]
        for system in order:
            command = [
                sys.executable,
                __file__,
                "--worker",
                system,
                "--network",
                name,
                "--n-train",
                str(args.n_train),
                "--batch-size",
                str(args.batch_size),
                "--torch-threads",
                str(args.torch_threads),
                "--seed",
                str(args.seed + r),
                "--epochs",
                "1",
                "--workers",
                str(args.workers),
            ]
            if args.data_dir:
                command += ["--data-dir", str(args.data_dir)]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            results[system]["times"] += figures["times"]
            results[system]["predict"] += figures["predict"]
            results[system]["accuracy"] = figures["accuracy"]
        log(
            f"{name} round {r + 1}: "
            + ", ".join(f"{s} {results[s]['times'][-1]:.2f} s" for s in results)
        )
    for figures in results.values():
        figures["median"] = statistics.median(figures["times"])
        figures["predict_ms"] = 1000 * statistics.median(figures["predict"])
    return results


def report(all_results, info, peak, data, args):
    lines = [
        f"machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, float32 matmul "
        f"{peak:.0f} GFLOP/s; NumPy {info['numpy']}, PyTorch {info.get('torch')} "
        f"({args.torch_threads} threads); OPENBLAS env {info['openblas_env'] or 'none'}",
        f"barenet workers: {args.workers} ({_workers_used()} for these networks here); "
        f"{len(data.X_train)} training images, batch {args.batch_size}, SGD momentum "
        f"{MOMENTUM} lr {LEARNING_RATE}; each round runs each system in a fresh process (a "
        f"20-batch warm-up, then one timed epoch); median of {args.rounds} alternated rounds",
        "",
        "| network | barenet s/epoch | PyTorch s/epoch | barenet speed vs PyTorch | "
        "predict 10k: barenet | PyTorch | test acc. barenet | PyTorch |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, res in all_results.items():
        b, t = res["barenet"], res["PyTorch"]
        ratio = t["median"] / b["median"]
        lines.append(
            f"| {name} | {b['median']:.2f} | {t['median']:.2f} | **{ratio:.2f}x** "
            f"| {b['predict_ms']:.0f} ms | {t['predict_ms']:.0f} ms | {b['accuracy']:.2%} | "
            f"{t['accuracy']:.2%} |"
        )
    return lines


def _workers_used():
    """What ``workers="auto"`` chooses for each network on this machine."""
    from barenet.train.parallel import resolve_workers

    chosen = []
    for name, line in NETWORKS.items():
        net = NeuralNetwork.from_layers(parse_layers(line), (28, 28, 1))
        chosen.append(f"{name} {resolve_workers('auto', net)}")
    return ", ".join(chosen)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-train", type=int, default=50000)
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--networks", nargs="+", choices=sorted(NETWORKS), default=list(NETWORKS))
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quick", action="store_true", help="1 round on 2,000 images")
    parser.add_argument("--worker", choices=["barenet", "PyTorch"], help=argparse.SUPPRESS)
    parser.add_argument("--network", choices=sorted(NETWORKS), help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--keep-blas-env", action="store_true")
    parser.add_argument(
        "--workers",
        type=lambda v: v if v == "auto" else int(v),
        default="auto",
        help="threads sharing each barenet step (default: auto, as Trainer chooses)",
    )
    parser.add_argument(
        "--no-layers", action="store_true", help="skip the per-layer table of each network"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.n_train = 1, 2000
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    if not args.keep_blas_env:
        use_processor_kernels()
    data = load_data(args.data_dir, args.n_train)
    import torch

    torch.set_num_threads(args.torch_threads)
    info = machine_info()
    peaks = [matmul_peak()]
    results = {name: run_network(name, data, args) for name in args.networks}
    peaks.append(matmul_peak())
    info["load_average_end"] = os.getloadavg()[0]
    print("\n".join(report(results, info, max(peaks), data, args)))
    if not args.no_layers:
        for name in args.networks:  # in a fresh process each, like the rounds
            command = [sys.executable, str(Path(__file__).parent / "layer_profile.py"),
                       "--network", name, "--keep-blas-env"]  # fmt: skip
            print("\n" + subprocess.run(command, capture_output=True, text=True,
                                        check=True).stdout.strip())  # fmt: skip
    if args.json:
        args.json.write_text(
            json.dumps({"machine": info, "peaks": peaks, "results": results}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
