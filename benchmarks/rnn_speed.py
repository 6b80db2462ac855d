"""Recurrent training speed: barenet against PyTorch (CPU) reading MNIST digits row by row.

Run from the repository root::

    python benchmarks/rnn_speed.py                  # LSTM(128) and GRU(128), 5 rounds
    python benchmarks/rnn_speed.py --quick          # smoke test: 1 round on 2,000 images
    python benchmarks/rnn_speed.py --json rnn.json  # also write the raw figures

Each image is a sequence of 28 rows of 28 pixels; the network is one recurrent layer of 128
units, its last state, then Dense(10): ``lstm128 dense10`` and ``gru128 dense10`` in barenet,
``torch.nn.LSTM``/``GRU`` (batch first) and ``torch.nn.Linear`` in PyTorch. Both train with Adam
at 0.001, batch 64, float32, the same random order of barenet's 50,000 training images (drawn
from the round's seed and given to both), no validation pass. PyTorch runs with
``--torch-threads`` (2) threads. In each round each system runs in a fresh process of its own:
20 batches of warm-up, then one timed epoch; the order of the systems alternates between rounds.
The table gives the median seconds per epoch, barenet's speed as a multiple of PyTorch's
(PyTorch's time / barenet's), the time to predict the 10,000 test images (median of 5), and the
machine's float32 matmul rate (2048^3, the better of before and after).

Like the other speed benchmarks, it restarts itself without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unless ``--keep-blas-env`` is given. A measurement, not a test.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from systems import load_data, machine_info, matmul_peak, use_processor_kernels  # noqa: E402

from barenet import NeuralNetwork  # noqa: E402
from barenet.nn import parse_layers  # noqa: E402
from barenet.train.trainer import Trainer  # noqa: E402

NETWORKS = {"LSTM(128)": "lstm128 dense10", "GRU(128)": "gru128 dense10"}
LEARNING_RATE = 0.001


class Barenet:
    def __init__(self, line, seed):
        self.net = NeuralNetwork.from_layers(parse_layers(line), (28, 28), optimizer="adam",
                                             learning_rate=LEARNING_RATE, seed=seed)  # fmt: skip
        self.trainer = Trainer(self.net)

    def train_epoch(self, X, y, order, batch_size):
        """One epoch in the given order, through the trainer's own step on each batch."""
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            self.trainer.train_batch(X[idx], y[idx])

    def predict(self, X):
        return self.net.predict(X)


class Torch:
    def __init__(self, line, seed, threads):
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        word, units = re.fullmatch(r"(lstm|gru)(\d+)", line.split()[0]).groups()
        kind, units = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[word], int(units)

        class Reader(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = kind(28, units, batch_first=True)
                self.head = torch.nn.Linear(units, 10)

            def forward(self, x):
                out, _ = self.rnn(x)
                return self.head(out[:, -1])

        self.torch, self.model = torch, Reader()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)

    def train_epoch(self, X, y, order, batch_size):
        torch = self.torch
        Xt, yt = torch.from_numpy(X).view(-1, 28, 28), torch.from_numpy(y)
        loss_fn = torch.nn.CrossEntropyLoss()
        for start in range(0, len(order), batch_size):
            idx = torch.from_numpy(order[start : start + batch_size])
            self.opt.zero_grad()
            loss_fn(self.model(Xt[idx]), yt[idx]).backward()
            self.opt.step()

    def predict(self, X):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(X).view(-1, 28, 28)).argmax(1).numpy()


def worker(args):
    """One system in its own process: a warm-up of 20 batches, then one timed epoch; prints
    JSON."""
    data = load_data(args.data_dir, args.n_train)
    line = NETWORKS[args.network]
    system = Barenet(line, args.seed) if args.worker == "barenet" else Torch(
        line, args.seed, args.torch_threads
    )
    rng = np.random.default_rng(args.seed)
    X, y = data.X_train, data.y_train
    system.train_epoch(X, y, rng.permutation(len(X))[: 20 * args.batch_size], args.batch_size)
    order = rng.permutation(len(X))
    start = time.perf_counter()
    system.train_epoch(X, y, order, args.batch_size)
    seconds = time.perf_counter() - start
    predict = []
    for _ in range(5):
        start = time.perf_counter()
        predictions = system.predict(data.X_test)
        predict.append(time.perf_counter() - start)
    accuracy = float(np.mean(predictions == data.y_test))
    print(json.dumps({"times": [seconds], "predict": predict, "accuracy": accuracy}))


def run_network(name, args):
    """Alternating rounds, each system in a fresh process per round."""
    results = {s: {"times": [], "predict": []} for s in ("barenet", "PyTorch")}
    for r in range(args.rounds):
        order = list(results) if r % 2 == 0 else list(results)[::-1]
        for system in order:
            command = [sys.executable, __file__, "--worker", system, "--network", name,
                       "--n-train", str(args.n_train), "--batch-size", str(args.batch_size),
                       "--torch-threads", str(args.torch_threads),
                       "--seed", str(args.seed + r)]  # fmt: skip
            if args.data_dir:
                command += ["--data-dir", str(args.data_dir)]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            results[system]["times"] += figures["times"]
            results[system]["predict"] += figures["predict"]
            results[system]["accuracy"] = figures["accuracy"]
        print(f"{name} round {r + 1}: " + ", ".join(
            f"{s} {results[s]['times'][-1]:.2f} s" for s in results), file=sys.stderr)  # fmt: skip
    for figures in results.values():
        figures["median"] = statistics.median(figures["times"])
        figures["predict_ms"] = 1000 * statistics.median(figures["predict"])
    return results


def report(all_results, info, peak, args):
    lines = [
        f"machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, float32 matmul "
        f"{peak:.0f} GFLOP/s; NumPy {info['numpy']}, PyTorch {info.get('torch')} "
        f"({args.torch_threads} threads); OPENBLAS env {info['openblas_env'] or 'none'}",
        f"{args.n_train} training images as 28 rows of 28 pixels, batch {args.batch_size}, Adam "
        f"{LEARNING_RATE}; a fresh process per system and round (20 batches of warm-up, then one "
        f"timed epoch); median of {args.rounds} alternated rounds",
        "",
        "| network | barenet s/epoch | PyTorch s/epoch | barenet speed vs PyTorch | "
        "predict 10k: barenet | PyTorch | test acc. (1 epoch) barenet | PyTorch |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, res in all_results.items():
        b, t = res["barenet"], res["PyTorch"]
        lines.append(
            f"| {name} | {b['median']:.2f} | {t['median']:.2f} | "
            f"**{t['median'] / b['median']:.2f}x** | {b['predict_ms']:.0f} ms | "
            f"{t['predict_ms']:.0f} ms | {b['accuracy']:.2%} | {t['accuracy']:.2%} |"
        )
    return lines


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
    parser.add_argument("--keep-blas-env", action="store_true")
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
    import torch

    torch.set_num_threads(args.torch_threads)
    info = machine_info()
    peaks = [matmul_peak()]
    results = {name: run_network(name, args) for name in args.networks}
    peaks.append(matmul_peak())
    info["load_average_end"] = os.getloadavg()[0]
    print("\n".join(report(results, info, max(peaks), args)))
    if args.json:
        args.json.write_text(
            json.dumps({"machine": info, "peaks": peaks, "results": results}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
