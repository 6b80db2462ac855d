"""Training-speed benchmark: barenet against PyTorch (CPU) and scikit-learn on MNIST.

Run from the repository root::

    python benchmarks/train_speed.py              # speed: 784-128-64-10 and 784-800-800-10
    python benchmarks/train_speed.py --accuracy   # test accuracy after 10 epochs of fresh models
    python benchmarks/train_speed.py --quick      # smoke test: 1 round on 5,000 images

The work is the same for every system (see systems.py): a fully connected ReLU network, softmax
cross-entropy, float32, the 50,000 training images of barenet's MNIST split in a fresh random
order each epoch, no validation pass; plain SGD (lr 0.01) and Adam (lr 0.001).
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
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SMALL = (784, 128, 64, 10)
LARGE = (784, 800, 800, 10)
LEARNING_RATES = {"sgd": 0.01, "adam": 0.001}
N_CLASSES = 10

from speed_report import (  # noqa: E402  (beside this file)
    accuracy_table,
    epoch_flops,
    header_lines,
    inference_table,
    job_record,
    speed_table,
)
from systems import (  # noqa: E402  (beside this file)
    load_data,
    machine_info,
    make_systems,
    matmul_peak,
    use_processor_kernels,
)

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


def log(message):
    print(message, file=sys.stderr, flush=True)


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
    if not args.keep_blas_env:
        use_processor_kernels()
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
