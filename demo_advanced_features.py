"""Experiments on MNIST: architectures, learning rates, training dynamics and robustness.

The original project's API, from the repository root::

    from demo_advanced_features import (
        experiment_with_architectures, experiment_with_learning_rates, test_robustness)
    results = experiment_with_architectures()       # a list of dicts, one per training run
    results = experiment_with_learning_rates(epochs=3, train_size=10000)

The functions come from :mod:`barenet.experiments`; each takes keyword arguments for a quick
run (epochs, seeds, train_size, workers...). Run as a script, this file trains a reference
network, runs every study with three seeds in two worker processes, prints a summary table for
each, and saves every figure and one self-contained report.html in outputs/advanced/ (about
4 minutes on an idle 2-core machine)::

    python demo_advanced_features.py                              # the full demo
    python demo_advanced_features.py --epochs 2 --train-size 5000 # a quick look
    python demo_advanced_features.py --scheduler tcp://HOST:8786  # on a Dask cluster
    python demo_advanced_features.py --dataset digits             # scikit-learn's 8x8 digits
"""

import argparse
import sys
import time
from pathlib import Path

from barenet import DATASETS, BarenetError, NeuralNetwork, load_dataset
from barenet.experiments import (
    analyze_training_dynamics,
    architecture_table,
    diagnose_dynamics,
    dynamics_table,
    experiment_with_architectures,
    experiment_with_learning_rates,
    learning_rate_range_test,
    learning_rate_table,
    robustness_table,
    test_robustness,
)

__all__ = [
    "analyze_training_dynamics",
    "experiment_with_architectures",
    "experiment_with_learning_rates",
    "learning_rate_range_test",
    "test_robustness",
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Run every barenet study on MNIST (or another).")
    add = parser.add_argument
    add("--dataset", choices=DATASETS, default="mnist", help="data set (default: %(default)s)")
    add("--epochs", type=int, default=10, help="epochs per training run (default: %(default)s)")
    add("--seeds", type=int, default=3, help="runs per configuration (default: %(default)s)")
    add("--train-size", type=int, help="training images per run (default: all 50,000)")
    add("--test-size", type=int, help="test images to score on (default: all 10,000)")
    add("--workers", type=int, default=2, help="local worker processes (default: %(default)s)")
    add("--scheduler", help="address of a Dask scheduler to run the trainings on instead")
    add("--output-dir", type=Path, default=Path("outputs/advanced"), help="(default: %(default)s)")
    add("--data-dir", help="folder of the MNIST files (default: $BARENET_DATA)")
    return parser.parse_args(argv)


def study(title, table, notes=()):
    """Print one study's summary; return its report section (figures are added after)."""
    print(f"\n== {title} ==\n{table}")
    for note in notes:
        print(note)
    return {"heading": title, "table": table, "text": list(notes), "figures": []}


def main(argv=None):
    from barenet.viz import figures  # matplotlib only when run
    from barenet.viz.report import model_sections, write_report

    args = parse_args(argv)
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    runs = {
        "epochs": args.epochs,
        "seeds": args.seeds,
        "train_size": args.train_size,
        "test_size": args.test_size,
        "data_dir": args.data_dir,
        "dataset": args.dataset,
        "workers": args.workers,
        "scheduler": args.scheduler,
    }

    # A reference network, looked at closely.
    data = load_dataset(args.dataset, args.data_dir)
    X_train, X_val, X_test, y_train, y_val, y_test = data
    X_test, y_test = X_test[: args.test_size], y_test[: args.test_size]
    net = NeuralNetwork(
        data.n_features,
        [128, 64],
        data.n_classes,
        learning_rate=0.1,
        seed=0,
        class_names=data.class_names,
        image_shape=data.image_shape,
    )
    n = args.train_size
    net.train(X_train[:n], y_train[:n], X_val, y_val, epochs=args.epochs, verbose=False)
    sections = model_sections(net, X_test, y_test, out, name="Reference network")
    print(f"reference network {net!r}: test accuracy {net.calculate_accuracy(X_test, y_test):.2%}")

    rows = experiment_with_architectures(results_path=out / "architectures.json", **runs)
    sections.append(study("Architectures", architecture_table(rows)))
    sections[-1]["figures"].append(figures.plot_architectures(rows, out / "architectures.png"))

    rows = experiment_with_learning_rates(results_path=out / "learning_rates.json", **runs)
    tests = [
        learning_rate_range_test(
            optimizer=name,
            train_size=args.train_size,
            data_dir=args.data_dir,
            dataset=args.dataset,
        )
        for name in ("sgd", "adam")
    ]
    notes = [
        f"range test, {t['optimizer']}: suggested learning rate {t['suggested_learning_rate']:.3g}"
        for t in tests
    ]
    sections.append(study("Learning rates", learning_rate_table(rows), notes))
    sections[-1]["figures"] += [
        figures.plot_learning_rates(rows, out / "learning_rates.png"),
        figures.plot_range_test(tests, out / "range_test.png"),
    ]

    rows = analyze_training_dynamics(results_path=out / "dynamics.json", **runs)
    sections.append(study("Training dynamics", dynamics_table(rows), diagnose_dynamics(rows)))
    sections[-1]["figures"].append(figures.plot_dynamics(rows, out / "dynamics.png"))

    rows = test_robustness(noise_training=0.3, results_path=out / "robustness.json", **runs)
    sections.append(study("Robustness", robustness_table(rows)))
    sections[-1]["figures"].append(figures.plot_robustness(rows, out / "robustness.png"))

    title = f"barenet: advanced experiments on {args.dataset}"
    report = write_report(out / "report.html", title, sections)
    print(f"\nfigures, results and {report} saved in {out} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":  # worker processes import this file again: they must not rerun it
    try:
        main()
    except BarenetError as exc:
        sys.exit(f"error: {exc}")
