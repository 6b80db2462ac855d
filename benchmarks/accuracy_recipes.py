"""Accuracy recipes: fully connected and convolutional networks that reach high MNIST test
accuracy, measured.

Run from the repository root::

    python benchmarks/accuracy_recipes.py --recipe default --seeds 0 1 2
    python benchmarks/accuracy_recipes.py --recipe best --seeds 0 1 2 --json best.json
    python benchmarks/accuracy_recipes.py --recipe best_cnn --seeds 0 1 2 --verbose
    python benchmarks/accuracy_recipes.py --list

A recipe is a plain dict (they are listed in ``recipe_book.py``): ``network`` holds the
:class:`barenet.NeuralNetwork` keyword arguments, ``train`` those of
:meth:`~barenet.NeuralNetwork.train`. Every recipe trains on barenet's 50,000 training images
(one with ``all_images`` on all 60,000); the 10,000 validation images chose every
hyperparameter (the test set was looked at only for the final recipes, ``default``, ``best``
and ``best_cnn``; where it had a say, docs/accuracy.md says so). For each seed the report gives
the validation and test accuracy and the training seconds (the sum of the epochs' ``epoch_time``,
so loading data and evaluating the test set are not counted), then mean, min-max and standard
deviation over the seeds.

Times depend on the machine, so the report gives a float32 NumPy matmul rate (2048^3, best of
5) and the load average before and after the runs: the issue's "slow" machines do about 70
GFLOP/s, the fast ones about 240; a low rate or a load above the core count means other work
shared the CPUs and the times are inflated. Run one training at a time; NumPy's BLAS keeps its
default thread count.

Measured at fdaec87-5313e27 (same training code) on a fast machine (245-260 GFLOP/s, 2 cores,
load average ~2 from other work), seeds 0 1 2: ``default`` (784-512-256-10, Nesterov lr 0.1,
cosine, affine, 16 epochs) test 98.93-99.13% (mean 99.04%), 19 s of training; ``best``
(784-1024-1024-10, dropout 0.2, Nesterov lr 0.05, cosine, affine, 65 epochs) test 99.27-99.34%
(mean 99.31%), 242-268 s.
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("barenet") is None:
    sys.path.insert(0, str(REPO / "src"))

from barenet import NeuralNetwork, load_and_preprocess_mnist  # noqa: E402
from barenet.experiments.trial import build_network  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipe_book and systems are beside it
from recipe_book import RECIPES, cnn_recipe, recipe  # noqa: E402, F401 (re-exported)

# -- measuring ------------------------------------------------------------------------------------


def git_revision():
    """The repository's HEAD commit and whether ``src`` has uncommitted changes, or None."""
    try:
        head = _git("rev-parse", "HEAD")
        return {"head": head, "src_dirty": bool(_git("status", "--short", "src"))}
    except (OSError, subprocess.CalledProcessError):
        return None


def _git(*args):
    done = subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def machine_load():
    """The matmul rate now and the 1-minute load average: the machine may be shared."""
    from systems import matmul_peak  # beside this file; the benchmark measures the same way

    return {"matmul_gflops": matmul_peak(), "load_average": os.getloadavg()[0]}


def log_epoch(epoch, logs):
    """Callback: one line per epoch on stderr, to follow a long run."""
    print(
        f"    epoch {epoch + 1}: val {100 * logs.get('val_accuracy', np.nan):.2f}%  "
        f"{logs['epoch_time']:.2f} s",
        file=sys.stderr,
        flush=True,
    )


def build_member(spec, seed):
    """The untrained network of ``spec``, initialised with ``seed``."""
    if "layers" in spec["network"]:  # a layer stack: the studies' builder adds the output
        return build_network(spec["network"], seed=seed)
    return NeuralNetwork(**spec["network"], seed=seed)


def train_member(spec, seed, data, verbose=False):
    """One network of ``spec`` trained with ``seed`` on the 50,000 training images (all 60,000
    with ``all_images``, when the validation split has chosen everything else), and its
    history."""
    X_train, X_val, X_test, y_train, y_val, y_test = data
    if spec.get("all_images"):  # the final fit: the validation images join the training set
        X_train, y_train = np.concatenate([X_train, X_val]), np.concatenate([y_train, y_val])
        X_val = y_val = None
    net = build_member(spec, seed)
    callbacks = [log_epoch] if verbose else []
    history = net.train(
        X_train, y_train, X_val, y_val, verbose=False, callbacks=callbacks, **spec["train"]
    )
    return net, history


def train_one(spec, seed, data, verbose=False):
    """Train ``spec`` with ``seed``; returns one result dict.

    A recipe with ``members`` > 1 is an ensemble: that many networks, with seeds
    ``seed * members + i``, each trained in full, whose predicted probabilities are averaged.
    Each member's own accuracy and that of the ensemble of the first ``i + 1`` members are kept,
    so that the validation split can choose the ensemble's size.
    """
    X_train, X_val, X_test, y_train, y_val, y_test = data
    k = spec.get("members", 1)
    val_sum, test_sum, members, epoch_seconds = 0, 0, [], []
    for i in range(k):
        net, history = train_member(spec, seed * k + i, data, verbose)
        val_p, test_p = net.predict_proba(X_val), net.predict_proba(X_test)
        val_sum, test_sum = val_sum + val_p, test_sum + test_p
        epoch_seconds += history["epoch_time"]
        members.append(
            {
                "seed": seed * k + i,
                "val_accuracy": accuracy(val_p, y_val),
                "test_accuracy": accuracy(test_p, y_test),
                "ensemble_val_accuracy": accuracy(val_sum, y_val),
                "ensemble_test_accuracy": accuracy(test_sum, y_test),
                "train_seconds": float(sum(history["epoch_time"])),
                "val_curve": [round(a, 4) for a in history.get("val_accuracy", [])],
            }
        )
        if k > 1:
            print("    member " + member_line(members[-1]), flush=True)
    return {
        "seed": seed,
        "val_accuracy": members[-1]["ensemble_val_accuracy"],
        "test_accuracy": members[-1]["ensemble_test_accuracy"],
        "train_seconds": float(sum(epoch_seconds)),
        "epoch_seconds": [round(t, 3) for t in epoch_seconds],
        "epochs_run": len(epoch_seconds),
        "members": members,
    }


def accuracy(probabilities, y):
    """The fraction of rows whose most probable class is ``y``."""
    return float(np.mean(np.argmax(probabilities, axis=1) == y))


def member_line(m):
    return (
        f"seed {m['seed']}: val {100 * m['val_accuracy']:.2f}%  "
        f"test {100 * m['test_accuracy']:.2f}%"
        f"  train {m['train_seconds']:.1f} s; ensemble so far: val "
        f"{100 * m['ensemble_val_accuracy']:.2f}%  test {100 * m['ensemble_test_accuracy']:.2f}%"
    )


def spread(values):
    """``{"mean", "min", "max", "std"}`` of a list of numbers (std 0 for one value)."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.mean(values), "min": min(values), "max": max(values), "std": std}


def summarize(runs):
    """Mean, min-max and std of validation/test accuracy and training seconds over ``runs``."""
    keys = ("val_accuracy", "test_accuracy", "train_seconds")
    return {key: spread([run[key] for run in runs]) for key in keys}


# -- the report -----------------------------------------------------------------------------------


def seed_line(run):
    return (
        f"seed {run['seed']:>3}: val {100 * run['val_accuracy']:.2f}%  "
        f"test {100 * run['test_accuracy']:.2f}%  "
        f"train {run['train_seconds']:6.1f} s ({run['epochs_run']} epochs, "
        f"median {statistics.median(run['epoch_seconds']):.2f} s/epoch)"
    )


def summary_lines(summary):
    lines = []
    for key, label, scale, unit in (
        ("val_accuracy", "val", 100, "%"),
        ("test_accuracy", "test", 100, "%"),
        ("train_seconds", "train", 1, " s"),
    ):
        s = {k: scale * v for k, v in summary[key].items()}
        lines.append(
            f"  {label:5s} mean {s['mean']:.2f}{unit}  min-max {s['min']:.2f}-{s['max']:.2f}{unit}"
            f"  std {s['std']:.2f}{unit}"
        )
    return lines


def load_line(load):
    return (
        f"float32 matmul (NumPy, 2048^3, best of 5) {load['matmul_gflops']:.0f} GFLOP/s, "
        f"1-minute load average {load['load_average']:.2f}"
    )


def describe(name, spec):
    return f"recipe {name}: network {spec['network']}\n  train {spec['train']}"


def run_recipe(name, seeds, data, verbose=False):
    """Train recipe ``name`` once per seed, printing each result as it arrives."""
    spec = RECIPES[name]
    print(describe(name, spec), flush=True)
    runs = []
    for seed in seeds:
        runs.append(train_one(spec, seed, data, verbose))
        print("  " + seed_line(runs[-1]), flush=True)
    summary = summarize(runs)
    print("\n".join(summary_lines(summary)), flush=True)
    return {"recipe": name, "spec": spec, "runs": runs, "summary": summary}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", nargs="+", default=["default"], choices=sorted(RECIPES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $BARENET_DATA)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--verbose", action="store_true", help="one line per epoch on stderr")
    parser.add_argument("--list", action="store_true", help="print the recipes and exit")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        for name, spec in RECIPES.items():
            print(describe(name, spec) + (f"\n  ({spec['note']})" if spec["note"] else ""))
        return
    before = machine_load()
    print(f"before: {load_line(before)}", flush=True)
    data = load_and_preprocess_mnist(args.data_dir)
    results = [run_recipe(name, args.seeds, data, args.verbose) for name in args.recipe]
    after = machine_load()
    print(f"after:  {load_line(after)}", flush=True)
    if args.json is not None:
        record = {
            "git": git_revision(),
            "machine_before": before,
            "machine_after": after,
            "results": results,
        }
        args.json.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
