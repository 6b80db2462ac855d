"""Training-speed benchmark: barenet against PyTorch (CPU) and scikit-learn on MNIST.

Run from the repository root::

    python benchmarks/train_speed.py              # speed: 784-128-64-10 and 784-800-800-10
    python benchmarks/train_speed.py --accuracy   # test accuracy after 10 epochs of fresh models
    python benchmarks/train_speed.py --quick      # smoke test: 1 round on 5,000 images

The work is the same for every system: a fully connected ReLU network with a softmax
cross-entropy loss, float32, mini-batches drawn in a fresh random order each epoch, trained on
the 50,000 training images of barenet's MNIST split, with no validation pass. Two optimizers:
plain SGD (lr 0.01) and Adam (lr 0.001). PyTorch and scikit-learn are measured when installed.
The report also times predicting the 10,000 test images, and a larger 784-800-800-10 network
with Adam at batch 128 (barenet and PyTorch; scikit-learn with ``--large-sklearn``). MNIST is
found by barenet's own lookup: set ``BARENET_DATA`` or pass ``--data-dir``.

Method. Every (system, optimizer) pair first trains one warm-up epoch. Then, in each of R
rounds, every pair trains one more epoch, and the order of the pairs is reversed every other
round, so that a slow patch of this shared machine falls on all systems alike. The table gives
the median seconds per epoch over the rounds and the test accuracy of the model that results
(warm-up + R epochs). A float32 NumPy matmul measured in the same run gives the machine's peak;
an epoch's floor time is its multiply-add work (computed from the architecture) at that peak,
and barenet's fraction of the floor is floor time / barenet time.

Threads: barenet and scikit-learn use NumPy's BLAS with its default thread count; PyTorch is set
to ``--torch-threads`` (2). Kernels: some of these machines set OPENBLAS_CORETYPE=Haswell (and
OPENBLAS_L2_SIZE) for the sake of old OpenBLAS builds, which makes NumPy's OpenBLAS use AVX2
kernels on AVX-512 processors while PyTorch's own kernels use AVX-512. The benchmark therefore
restarts itself without those two variables, so NumPy runs the kernels OpenBLAS picks for the
processor (the header names them); ``--keep-blas-env`` measures with the environment as it is.
This is a measurement, not a test: nothing here asserts on times.
"""

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SMALL = (784, 128, 64, 10)
LARGE = (784, 800, 800, 10)
LEARNING_RATES = {"sgd": 0.01, "adam": 0.001}
N_CLASSES = 10

if importlib.util.find_spec("barenet") is None:
    sys.path.insert(0, str(REPO / "src"))

from barenet import NeuralNetwork  # noqa: E402
from barenet.data import load_and_preprocess_mnist  # noqa: E402


@dataclass
class Data:
    """float32 images ``(n, 784)`` in [0, 1] and int64 labels ``(n,)``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_data(data_dir, n_train):
    """The first ``n_train`` of barenet's 50,000 training images and the 10,000 test images."""
    X_train, _, X_test, y_train, _, y_test = load_and_preprocess_mnist(data_dir)
    return Data(X_train[:n_train], y_train[:n_train], X_test, y_test)


# -- the systems: build a model, train it one epoch, predict the test set -------------------------


class Barenet:
    name = "barenet"

    def __init__(self, data):
        self.data = data

    def build(self, sizes, optimizer, seed):
        return NeuralNetwork(
            sizes[0],
            list(sizes[1:-1]),
            sizes[-1],
            learning_rate=LEARNING_RATES[optimizer],
            optimizer=optimizer,
            seed=seed,
        )

    def train_epoch(self, net, batch_size):
        net.train(
            self.data.X_train, self.data.y_train, epochs=1, batch_size=batch_size, verbose=False
        )

    def predict(self, net):
        return net.predict(self.data.X_test)


class Torch:
    name = "PyTorch"

    def __init__(self, data, threads):
        import torch

        self.torch = torch
        torch.set_num_threads(threads)
        # Tensors made once up front; from_numpy shares the float32 buffers.
        self.X = torch.from_numpy(data.X_train)
        self.y = torch.from_numpy(data.y_train)
        self.X_test = torch.from_numpy(data.X_test)
        self.loss = torch.nn.CrossEntropyLoss()

    def build(self, sizes, optimizer, seed):
        nn = self.torch.nn
        self.torch.manual_seed(seed)
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        model = nn.Sequential(*layers[:-1])  # no ReLU on the logits
        make = self.torch.optim.SGD if optimizer == "sgd" else self.torch.optim.Adam
        return model, make(model.parameters(), lr=LEARNING_RATES[optimizer])

    def train_epoch(self, model_and_optimizer, batch_size):
        model, opt = model_and_optimizer
        order = self.torch.randperm(len(self.X))
        for start in range(0, len(self.X), batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            self.loss(model(self.X[idx]), self.y[idx]).backward()
            opt.step()

    def predict(self, model_and_optimizer):
        with self.torch.no_grad():
            return model_and_optimizer[0](self.X_test).argmax(1).numpy()


class Sklearn:
    name = "scikit-learn"

    def __init__(self, data):
        self.data = data

    def build(self, sizes, optimizer, seed):
        from sklearn.neural_network import MLPClassifier

        solver = (
            {
                "solver": "sgd",
                "momentum": 0.0,
                "nesterovs_momentum": False,
                "learning_rate": "constant",
            }
            if optimizer == "sgd"
            else {"solver": "adam"}
        )
        return MLPClassifier(
            hidden_layer_sizes=sizes[1:-1],
            activation="relu",
            learning_rate_init=LEARNING_RATES[optimizer],
            alpha=0.0,
            early_stopping=False,
            shuffle=True,
            max_iter=1,
            tol=0.0,
            random_state=seed,
            **solver,
        )

    def train_epoch(self, clf, batch_size):
        clf.batch_size = batch_size
        seen = getattr(clf, "t_", 0)
        first = {} if hasattr(clf, "classes_") else {"classes": np.arange(N_CLASSES)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(self.data.X_train, self.data.y_train, **first)
        # partial_fit with sgd/adam should make exactly one pass; t_ counts samples seen.
        if clf.t_ - seen != len(self.data.X_train):
            raise RuntimeError(
                f"scikit-learn partial_fit saw {clf.t_ - seen} samples, "
                f"not one epoch of {len(self.data.X_train)}"
            )

    def predict(self, clf):
        return clf.predict(self.data.X_test)


def make_systems(data, args, with_sklearn=True):
    """barenet, then each installed peer."""
    systems = [Barenet(data)]
    if importlib.util.find_spec("torch") is not None:
        systems.append(Torch(data, args.torch_threads))
    if with_sklearn and importlib.util.find_spec("sklearn") is not None:
        systems.append(Sklearn(data))
    return systems


# -- timing ---------------------------------------------------------------------------------------


@dataclass
class Job:
    """One (system, optimizer) model and the seconds each of its epochs took."""

    system: object
    optimizer: str
    model: object
    warmup: float = 0.0
    times: list = field(default_factory=list)
    accuracy: float = float("nan")

    @property
    def label(self):
        return f"{self.system.name}/{self.optimizer}"

    @property
    def median(self):
        return statistics.median(self.times)


def timed_epoch(job, batch_size):
    start = time.perf_counter()
    job.system.train_epoch(job.model, batch_size)
    return time.perf_counter() - start


def accuracy(system, model, y_test):
    return float(np.mean(np.asarray(system.predict(model)) == y_test))


def run_rounds(systems, optimizers, sizes, batch_size, rounds, data, seed):
    """Warm-up epoch for every job, then ``rounds`` epochs in alternating order; then accuracy."""
    jobs = [Job(s, opt, s.build(sizes, opt, seed)) for s in systems for opt in optimizers]
    for job in jobs:
        job.warmup = timed_epoch(job, batch_size)
        log(f"warm-up  {job.label:22s} {job.warmup:7.2f} s")
    for r in range(rounds):
        for job in jobs if r % 2 == 0 else jobs[::-1]:
            job.times.append(timed_epoch(job, batch_size))
            log(f"round {r + 1}/{rounds} {job.label:22s} {job.times[-1]:7.2f} s")
    for job in jobs:
        job.accuracy = accuracy(job.system, job.model, data.y_test)
    return jobs


def time_inference(jobs, repeats):
    """Median seconds to predict the test set, per system (first model of each, one warm-up)."""
    results = {}
    for job in jobs:
        if job.system.name in results:
            continue
        job.system.predict(job.model)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            job.system.predict(job.model)
            times.append(time.perf_counter() - start)
        results[job.system.name] = statistics.median(times)
    return results


def matmul_peak(n=2048, repeats=5):
    """Best float32 NumPy matmul rate in GFLOP/s for ``(n, n) @ (n, n)``."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)
    np.matmul(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def epoch_flops(sizes, n_samples):
    """Multiply-add FLOPs of one epoch: forward, weight gradients, input gradients (not layer 1)."""
    total = 0
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        passes = 2 if i == 0 else 3  # no dX is needed for the input layer
        total += passes * 2 * n_samples * n_in * n_out
    return total


def log(message):
    print(message, file=sys.stderr, flush=True)


# -- the machine ----------------------------------------------------------------------------------


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def numpy_blas():
    """threadpoolctl's record of NumPy's BLAS, or None when threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for info in threadpool_info():
        if info.get("user_api") == "blas" and "numpy" in info.get("filepath", ""):
            return info
    return None


def machine_info():
    """CPU, library versions and thread counts, as recorded in the report and the JSON."""
    info = {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": numpy_blas(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
        "load_average_start": os.getloadavg()[0],
    }
    if importlib.util.find_spec("torch") is not None:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    if importlib.util.find_spec("sklearn") is not None:
        import sklearn

        info["sklearn"] = sklearn.__version__
    return info


# -- the report -----------------------------------------------------------------------------------


def header_lines(info, peak, data, args):
    blas = info["numpy_blas"]
    blas_text = (
        f"{blas['internal_api']} {blas['version']} ({blas.get('architecture')}), "
        f"{blas['num_threads']} threads"
        if blas
        else "unknown (no threadpoolctl)"
    )
    env = ", ".join(f"{k}={v}" for k, v in sorted(info["openblas_env"].items())) or "none"
    versions = [f"Python {info['python']}", f"numpy {info['numpy']}"]
    if "torch" in info:
        versions.append(f"torch {info['torch']} ({info['torch_threads']} threads)")
    if "sklearn" in info:
        versions.append(f"scikit-learn {info['sklearn']}")
    return [
        "# barenet training speed",
        "",
        f"- CPU: {info['cpu']} ({info['logical_cpus']} logical CPUs); {', '.join(versions)}",
        f"- NumPy BLAS: {blas_text}; environment: {env}",
        f"- float32 matmul peak (NumPy, 2048^3, best of {args.peak_repeats} before and after): "
        f"{peak:.1f} GFLOP/s",
        f"- data: {len(data.X_train):,} training images, {len(data.X_test):,} test images, "
        f"float32, no validation pass; seed {args.seed}",
        f"- 1-minute load average at start / end: {info['load_average_start']:.2f} / "
        f"{info['load_average_end']:.2f} (other processes share the {info['logical_cpus']} CPUs)",
    ]


def speed_table(title, jobs, rounds, sizes, n_train, peak):
    base = {job.optimizer: job.median for job in jobs if isinstance(job.system, Barenet)}
    lines = [
        "",
        f"## {title}",
        "",
        f"Median over {rounds} round(s) after one warm-up epoch; test accuracy after "
        f"{rounds + 1} epochs.",
        "",
        "| system | optimizer | s/epoch (median) | test accuracy | barenet speed-up |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for job in jobs:
        speedup = job.median / base[job.optimizer]
        lines.append(
            f"| {job.system.name} | {job.optimizer} | {job.median:.3f} | "
            f"{100 * job.accuracy:.2f}% | {speedup:.2f}x |"
        )
    flops = epoch_flops(sizes, n_train)
    floor = flops / (peak * 1e9)
    fractions = ", ".join(f"{opt} {100 * floor / t:.0f}%" for opt, t in base.items())
    lines += [
        "",
        f"Floor: {flops / 1e9:.1f} GFLOP per epoch at {peak:.0f} GFLOP/s = "
        f"{floor:.3f} s. barenet's fraction of the floor (floor / barenet time): "
        f"{fractions}.",
    ]
    return lines


def inference_table(results, n_test, repeats):
    base = results["barenet"]
    lines = [
        "",
        f"## Inference: predict {n_test:,} test images (784-128-64-10)",
        "",
        f"Median of {repeats} repeats.",
        "",
        "| system | ms | barenet speed-up |",
        "| --- | ---: | ---: |",
    ]
    for name, seconds in results.items():
        lines.append(f"| {name} | {1000 * seconds:.1f} | {seconds / base:.2f}x |")
    return lines


def accuracy_table(results, epochs, seeds):
    lines = [
        "",
        f"## Test accuracy after {epochs} epochs of fresh models (seeds {seeds})",
        "",
        "| system | optimizer | test accuracy (mean) | min - max | vs barenet (points) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    base = {
        opt: statistics.mean(accs) for (name, opt), accs in results.items() if name == "barenet"
    }
    for (name, opt), accs in results.items():
        mean = statistics.mean(accs)
        lines.append(
            f"| {name} | {opt} | {100 * mean:.2f}% | {100 * min(accs):.2f} - "
            f"{100 * max(accs):.2f}% | {100 * (mean - base[opt]):+.2f} |"
        )
    return lines


def job_record(job):
    return {
        "system": job.system.name,
        "optimizer": job.optimizer,
        "warmup_s": job.warmup,
        "epoch_s": job.times,
        "median_s": job.median,
        "test_accuracy": job.accuracy,
    }


# -- the two modes --------------------------------------------------------------------------------


def speed_mode(data, args):
    """Time both networks; returns the finished jobs and the inference times."""
    small = run_rounds(
        make_systems(data, args), ("sgd", "adam"), SMALL, 64, args.rounds, data, args.seed
    )
    inference = time_inference(small, args.inference_repeats)
    large = []
    if not args.skip_large:
        systems = make_systems(data, args, with_sklearn=args.large_sklearn)
        large = run_rounds(systems, ("adam",), LARGE, 128, args.large_rounds, data, args.seed)
    return {"small": small, "inference": inference, "large": large}


def speed_report(results, data, args, peak):
    """Report lines and raw numbers of :func:`speed_mode`."""
    n_train = len(data.X_train)
    report = speed_table(
        "784-128-64-10, batch 64", results["small"], args.rounds, SMALL, n_train, peak
    )
    report += inference_table(results["inference"], len(data.X_test), args.inference_repeats)
    raw = {
        "small": [job_record(job) for job in results["small"]],
        "inference_s": results["inference"],
        "epoch_gflop": {"small": epoch_flops(SMALL, n_train) / 1e9},
    }
    if results["large"]:
        report += speed_table(
            "784-800-800-10, Adam, batch 128",
            results["large"],
            args.large_rounds,
            LARGE,
            n_train,
            peak,
        )
        raw["large"] = [job_record(job) for job in results["large"]]
        raw["epoch_gflop"]["large"] = epoch_flops(LARGE, n_train) / 1e9
    return report, raw


def accuracy_mode(data, args):
    """Fresh models trained ``args.accuracy_epochs`` epochs: {(system, optimizer): [accuracy]}."""
    results = {}
    for system in make_systems(data, args):
        for opt in ("sgd", "adam"):
            for seed in range(args.seed, args.seed + args.seeds):
                model = system.build(SMALL, opt, seed)
                start = time.perf_counter()
                for _ in range(args.accuracy_epochs):
                    system.train_epoch(model, 64)
                seconds = time.perf_counter() - start
                acc = accuracy(system, model, data.y_test)
                results.setdefault((system.name, opt), []).append(acc)
                log(f"{system.name}/{opt} seed {seed}: {100 * acc:.2f}% in {seconds:.1f} s")
    return results


def accuracy_report(results, args):
    """Report lines and raw numbers of :func:`accuracy_mode`."""
    last = args.seed + args.seeds - 1
    seeds = f"{args.seed}-{last}" if args.seeds > 1 else str(args.seed)
    report = accuracy_table(results, args.accuracy_epochs, seeds)
    raw = {
        "accuracy": [
            {
                "system": name,
                "optimizer": opt,
                "epochs": args.accuracy_epochs,
                "test_accuracy": accs,
            }
            for (name, opt), accs in results.items()
        ]
    }
    return report, raw


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds, 784-128-64-10")
    parser.add_argument("--large-rounds", type=int, default=5, help="timed rounds, 784-800-800-10")
    parser.add_argument("--skip-large", action="store_true", help="skip 784-800-800-10")
    parser.add_argument(
        "--large-sklearn",
        action="store_true",
        help="include scikit-learn in the 784-800-800-10 run (slow)",
    )
    parser.add_argument(
        "--accuracy",
        action="store_true",
        help="instead of timing, train fresh models and report test accuracy",
    )
    parser.add_argument(
        "--accuracy-epochs",
        type=int,
        default=None,
        help="epochs for --accuracy (default 10); implies --accuracy",
    )
    parser.add_argument("--seeds", type=int, default=1, help="seeds per model in --accuracy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=50_000, help="training images used")
    parser.add_argument("--inference-repeats", type=int, default=7)
    parser.add_argument("--peak-repeats", type=int, default=10)
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument(
        "--data-dir",
        default=None,
        help="MNIST folder (default: barenet's lookup, e.g. $BARENET_DATA)",
    )
    parser.add_argument("--json", type=Path, default=None, help="save the raw numbers here")
    parser.add_argument(
        "--keep-blas-env",
        action="store_true",
        help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (default: restart without them)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 1 round, 5,000 images, 2 accuracy epochs"
    )
    args = parser.parse_args(argv)
    if args.accuracy_epochs is not None:
        args.accuracy = True
    else:
        args.accuracy_epochs = 10
    if args.quick:
        args.rounds = args.large_rounds = 1
        args.n_train = min(args.n_train, 5_000)
        args.accuracy_epochs = min(args.accuracy_epochs, 2)
        args.inference_repeats = args.peak_repeats = 2
    return args


def main(argv=None):
    args = parse_args(argv)
    forced = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ]
    if forced and not args.keep_blas_env:  # OpenBLAS reads them at load time: start afresh
        env = {k: v for k, v in os.environ.items() if k not in forced}
        log(f"restarting without {' and '.join(forced)} (see --keep-blas-env)")
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    data = load_data(args.data_dir, args.n_train)
    make_systems(data, args)  # sets PyTorch's thread count before it is recorded
    info = machine_info()
    # The peak is measured before and after the run and the better kept: the machine is shared.
    peaks = [matmul_peak(repeats=args.peak_repeats)]
    results = accuracy_mode(data, args) if args.accuracy else speed_mode(data, args)
    peaks.append(matmul_peak(repeats=args.peak_repeats))
    if args.accuracy:
        report, raw = accuracy_report(results, args)
    else:
        report, raw = speed_report(results, data, args, max(peaks))
    info["load_average_end"] = os.getloadavg()[0]
    print("\n".join(header_lines(info, max(peaks), data, args) + report))
    if args.json is not None:
        raw.update(
            machine=info,
            peak_gflops=peaks,
            n_train=len(data.X_train),
            args={k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        )
        args.json.write_text(json.dumps(raw, indent=2) + "\n")


if __name__ == "__main__":
    main()
