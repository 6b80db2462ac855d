"""A vision transformer and a ResNet: barenet's training speed against PyTorch's (CPU) on MNIST.

Run from the repository root::

    python benchmarks/vit_resnet_speed.py                    # ViT, ResNet and the plain CNN
    python benchmarks/vit_resnet_speed.py --networks ViT     # one of them
    python benchmarks/vit_resnet_speed.py --quick            # smoke test: 1 round, 2,000 images
    python benchmarks/vit_resnet_speed.py --json vit.json    # also write the raw figures

The networks (:data:`NETWORKS`, barenet layer strings; the PyTorch twin of each is built from
the barenet network, layer for layer, by :func:`torch_twin`):

- "ViT": 7x7 patches to 16 tokens of 64 features, a class token, position embeddings, four
  pre-norm transformer blocks (4-head self-attention; an MLP 64-128-64 with GELU, tanh
  approximation), a final layer norm, the class token to ``Dense(10)``. Adam, rate 0.001.
- "ResNet": a 3x3 stem of 32 filters, a residual block of two 3x3 convolutions (32), pooling,
  a block of two 3x3 convolutions (64) with a 1x1 convolution on the shortcut, pooling,
  ``Dense(128)``, ``Dense(10)``; batch norm after each convolution. SGD, momentum 0.9, 0.05.
- "modern": ``cnn_speed.py``'s plain CNN (SGD as there), measured in the same rounds as the
  reference for the ResNet: the ResNet's speed relative to PyTorch should be no worse.

The twins do the same work with PyTorch's own modules: ``Conv2d``, ``BatchNorm2d``,
``LayerNorm``, ``MultiheadAttention`` (``batch_first``, ``need_weights=False``: its fastest
path; barenet keeps the attention weights) and ``Linear``; the weights are PyTorch's own
initialisation (the work is the same, not the numbers). PyTorch's optimizer runs ``fused``
(one kernel for all parameters, its fastest on the CPU), as barenet's steps its one flat buffer.

As ``cnn_speed.py`` does: float32, batch 64, the same random order of barenet's 50,000
training images given to both systems, no validation pass; PyTorch on ``--torch-threads`` (2)
threads, barenet with ``Trainer(workers="auto")`` (two threads share each step of a large
network, see ``barenet/train/parallel.py``). Each round runs each system in a fresh process of
its own (a 20-batch warm-up, then one timed epoch), alternating which goes first; the table
gives the median s/epoch, barenet's speed as a multiple of PyTorch's (PyTorch's time /
barenet's) and the time to predict the 10,000 test images (median of 5; both in chunks of at
most 1,024 images... barenet in its own chunks), with the machine's float32 matmul rate
(2048^3, best of before and after) beside them, then ``layer_profile.py``'s table for each
network. The script restarts itself without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unless
``--keep-blas-env``. A measurement, not a test: nothing asserts on times.
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
from cnn_speed import NETWORKS as CNN_NETWORKS  # noqa: E402  (beside this file)
from systems import load_data, machine_info, matmul_peak, use_processor_kernels  # noqa: E402

from barenet import NeuralNetwork  # noqa: E402
from barenet.nn import parse_layers  # noqa: E402
from barenet.train.trainer import Trainer  # noqa: E402

_VIT_BLOCK = "res[layernorm attention4] res[layernorm dense128 gelu dense64] "
NETWORKS = {
    "ViT": "patch7x64 cls pos " + 4 * _VIT_BLOCK + "layernorm token0 dense10",
    "ViT-p4": "patch4x64 cls pos " + 4 * _VIT_BLOCK + "layernorm token0 dense10",
    "ResNet": "conv32x3same batchnorm relu res[conv32x3same batchnorm relu conv32x3same batchnorm] "
    "relu pool2 res[conv64x3same batchnorm relu conv64x3same batchnorm | conv64x1] relu pool2 "
    "flatten dense128 relu dense10",
    "modern": CNN_NETWORKS["modern"],
}
DEFAULT_NETWORKS = ["ViT", "ResNet", "modern"]
OPTIMIZERS = {  # (name, learning rate, momentum)
    "ViT": ("adam", 0.001, None),
    "ViT-p4": ("adam", 0.001, None),
    "ResNet": ("sgd", 0.05, 0.9),
    "modern": ("sgd", 0.05, 0.9),
}
INPUT_SHAPE = (28, 28, 1)
PREDICT_CHUNK = 1024


def barenet_network(name, seed=0):
    """The barenet network ``name`` with its optimizer, float32."""
    optimizer, rate, momentum = OPTIMIZERS[name]
    spec = {"name": optimizer} if momentum is None else {"name": optimizer, "momentum": momentum}
    return NeuralNetwork.from_layers(
        parse_layers(NETWORKS[name]), INPUT_SHAPE, learning_rate=rate, optimizer=spec, seed=seed
    )


class Barenet:
    name = "barenet"

    def __init__(self, network, seed, workers="auto"):
        self.net = barenet_network(network, seed)
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

    def __init__(self, network, seed, threads):
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.torch = torch
        self.model = torch_twin(barenet_network(network).layers, INPUT_SHAPE)
        optimizer, rate, momentum = OPTIMIZERS[network]
        params = self.model.parameters()
        if optimizer == "adam":
            self.opt = _fastest(torch.optim.Adam, params, lr=rate)
        else:
            self.opt = _fastest(torch.optim.SGD, params, lr=rate, momentum=momentum)
        self.loss = torch.nn.CrossEntropyLoss()

    def train_epoch(self, X, y, order, batch_size):
        self.model.train()
        X, y = self.torch.from_numpy(X).view(-1, 1, 28, 28), self.torch.from_numpy(y)
        order = self.torch.from_numpy(order)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            self.opt.zero_grad()
            self.loss(self.model(X[idx]), y[idx]).backward()
            self.opt.step()

    def predict(self, X):
        self.model.eval()
        X = self.torch.from_numpy(X).view(-1, 1, 28, 28)
        with self.torch.no_grad():
            parts = [self.model(X[s : s + PREDICT_CHUNK]).argmax(1)
                     for s in range(0, len(X), PREDICT_CHUNK)]  # fmt: skip
        return self.torch.cat(parts).numpy()


def _fastest(make, params, **settings):
    """PyTorch's optimizer in its fused form (one kernel for every parameter) when this
    version has it on the CPU, else its ``foreach`` form."""
    params = list(params)
    try:
        return make(params, fused=True, **settings)
    except (RuntimeError, TypeError, ValueError):
        return make(params, foreach=True, **settings)


# -- the PyTorch twins -------------------------------------------------------------------------


def torch_twin(layers, input_shape):
    """A ``torch.nn.Sequential`` doing the work of barenet's built ``layers`` on NCHW images:
    the same layer kinds and sizes, PyTorch's own initial weights."""
    import torch

    nn = torch.nn

    class Lambda(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return self.fn(x)

    class Residual(nn.Module):
        def __init__(self, body, shortcut):
            super().__init__()
            self.body, self.shortcut = body, shortcut

        def forward(self, x):
            return (x if self.shortcut is None else self.shortcut(x)) + self.body(x)

    class Attention(nn.Module):
        def __init__(self, dim, heads):
            super().__init__()
            self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    class ClassToken(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.token = nn.Parameter(torch.randn(dim) * 0.02)

        def forward(self, x):
            return torch.cat([self.token.expand(len(x), 1, -1), x], dim=1)

    class PositionEmbedding(nn.Module):
        def __init__(self, shape):
            super().__init__()
            self.P = nn.Parameter(torch.randn(*shape) * 0.02)

        def forward(self, x):
            return x + self.P

    def twin(layer):
        kind, shape = layer.kind, layer.input_shape
        if kind == "conv2d":
            pad = "same" if layer.padding == "same" else layer.pads[::2]
            return nn.Conv2d(shape[-1], layer.filters, layer.kernel_size, layer.stride, pad)
        if kind == "batch_norm":
            return (nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(shape[-1])
        if kind == "max_pool2d":
            return nn.MaxPool2d(layer.pool_size, layer.stride)
        if kind == "flatten":  # channels last, as barenet flattens: the same features
            return Lambda(lambda x: x.permute(0, 2, 3, 1).flatten(1))
        if kind == "dense":
            return nn.Linear(shape[-1], layer.units)
        if kind in ("relu", "gelu"):
            return nn.ReLU() if kind == "relu" else nn.GELU(approximate="tanh")
        if kind == "residual":
            shortcut = None if layer.shortcut is None else twin(layer.shortcut)
            return Residual(nn.Sequential(*map(twin, layer.layers)), shortcut)
        if kind == "patch_embed":  # (B, C, H, W) -> (B, tokens, dim), patches row by row
            p = layer.patch_size
            conv = nn.Conv2d(shape[-1], layer.dim, p, stride=p)
            return nn.Sequential(conv, Lambda(lambda x: x.flatten(2).transpose(1, 2)))
        if kind == "class_token":
            return ClassToken(shape[-1])
        if kind == "position_embedding":
            return PositionEmbedding(shape)
        if kind == "layer_norm":
            return nn.LayerNorm(shape[-1], eps=layer.eps)
        if kind == "self_attention":
            return Attention(shape[-1], layer.heads)
        if kind == "take_token":
            index = layer.index
            return Lambda(lambda x: x[:, index])
        if kind == "token_mean":
            return Lambda(lambda x: x.mean(1))
        raise ValueError(f"no PyTorch twin for barenet layer kind {kind!r}")

    del input_shape  # the built layers know their shapes
    return nn.Sequential(*map(twin, layers))


# -- the rounds --------------------------------------------------------------------------------


def log(message):
    print(message, file=sys.stderr, flush=True)


def worker(args):
    """One system in its own process: a warm-up of 20 batches, then timed epochs; prints JSON."""
    data = load_data(args.data_dir, args.n_train)
    system = (
        Barenet(args.network, args.seed, args.workers)
        if args.worker == "barenet"
        else Torch(args.network, args.seed, args.torch_threads)
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


def run_round(name, system, seed, args):
    command = [sys.executable, __file__, "--worker", system, "--network", name,
               "--n-train", str(args.n_train), "--batch-size", str(args.batch_size),
               "--torch-threads", str(args.torch_threads), "--seed", str(seed),
               "--epochs", "1", "--workers", str(args.workers)]  # fmt: skip
    if args.data_dir:
        command += ["--data-dir", str(args.data_dir)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the {system} worker for {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_all(args):
    """Alternating rounds: in each, every network, each system in a fresh process, the order of
    the systems flipped from one round to the next."""
    systems = ("barenet", "PyTorch")
    results = {n: {s: {"times": [], "predict": []} for s in systems} for n in args.networks}
    for r in range(args.rounds):
        for name in args.networks:
            for system in systems if r % 2 == 0 else systems[::-1]:
                figures = run_round(name, system, args.seed + r, args)
                mine = results[name][system]
                mine["times"] += figures["times"]
                mine["predict"] += figures["predict"]
                mine["accuracy"] = figures["accuracy"]
            log(f"round {r + 1} {name}: " + ", ".join(
                f"{s} {results[name][s]['times'][-1]:.2f} s" for s in systems))  # fmt: skip
    for by_system in results.values():
        for figures in by_system.values():
            figures["median"] = statistics.median(figures["times"])
            figures["predict_ms"] = 1000 * statistics.median(figures["predict"])
    return results


def report(results, info, peak, args):
    from barenet.train.parallel import resolve_workers

    chosen = ", ".join(f"{n} {resolve_workers(args.workers, barenet_network(n))}"
                       for n in args.networks)  # fmt: skip
    lines = [
        f"machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, float32 matmul "
        f"{peak:.0f} GFLOP/s; NumPy {info['numpy']}, PyTorch {info.get('torch')} "
        f"({args.torch_threads} threads); OPENBLAS env {info['openblas_env'] or 'none'}; "
        f"load average {info['load_average_start']:.1f} at the start, "
        f"{info['load_average_end']:.1f} at the end",
        f"barenet workers: {args.workers} ({chosen}); {args.n_train} training images, batch "
        f"{args.batch_size}; each round runs each system in a fresh process (a 20-batch "
        f"warm-up, then one timed epoch); median of {args.rounds} alternated rounds",
        "",
        "| network | optimizer | barenet s/epoch | PyTorch s/epoch | barenet speed vs PyTorch "
        "| predict 10k: barenet | PyTorch | test acc. barenet | PyTorch |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, res in results.items():
        b, t = res["barenet"], res["PyTorch"]
        optimizer, rate, momentum = OPTIMIZERS[name]
        opt = f"{optimizer} {rate:g}" + ("" if momentum is None else f" m{momentum:g}")
        lines.append(
            f"| {name} | {opt} | {b['median']:.2f} | {t['median']:.2f} "
            f"| **{t['median'] / b['median']:.2f}x** | {b['predict_ms']:.0f} ms "
            f"| {t['predict_ms']:.0f} ms | {b['accuracy']:.2%} | {t['accuracy']:.2%} |"
        )
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-train", type=int, default=50000)
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=DEFAULT_NETWORKS)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quick", action="store_true", help="1 round on 2,000 images")
    parser.add_argument("--worker", choices=["barenet", "PyTorch"], help=argparse.SUPPRESS)
    parser.add_argument("--network", choices=list(NETWORKS), help=argparse.SUPPRESS)
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
    import torch

    torch.set_num_threads(args.torch_threads)
    info = machine_info()
    peaks = [matmul_peak()]
    results = run_all(args)
    peaks.append(matmul_peak())
    info["load_average_end"] = os.getloadavg()[0]
    print("\n".join(report(results, info, max(peaks), args)))
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
