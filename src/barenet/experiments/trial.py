"""One training run, the unit of work of the studies: data, network, training and scores.

Jobs receive only small plain values (a network config, training options, subset sizes, a
seed) and load MNIST themselves, so that nothing large is pickled to a worker; each process
reads the files once and keeps them (see :func:`barenet.load_and_preprocess_mnist`).
"""

import numbers
import time

import numpy as np

from .. import validation as check
from ..data import load_and_preprocess_mnist
from ..errors import BarenetError, DivergenceError
from ..network import NeuralNetwork
from .runner import Job

MNIST_INPUTS, MNIST_CLASSES = 784, 10


def data_options(train_size=None, val_size=None, test_size=None, data_dir=None):
    """The subset of MNIST a study uses, as plain values for its jobs (None: all images)."""
    sizes = {"train_size": train_size, "val_size": val_size, "test_size": test_size}
    for name, value in sizes.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise BarenetError(f"{name} must be a positive integer or None, got {value!r}")
    return {**sizes, "data_dir": None if data_dir is None else str(data_dir)}


def load_split(train_size=None, val_size=None, test_size=None, data_dir=None):
    """MNIST's standard 50,000 / 10,000 / 10,000 split, each part cut to its first ``*_size``.

    Returns ``{"X_train", "y_train", "X_val", "y_val", "X_test", "y_test"}``: float32
    ``(n, 784)`` images in [0, 1] and int64 labels. The split and the order are fixed, so every
    job of a study sees the same images whatever its seed.
    """
    X_train, X_val, X_test, y_train, y_val, y_test = load_and_preprocess_mnist(data_dir)
    return {
        "X_train": X_train[:train_size],
        "y_train": y_train[:train_size],
        "X_val": X_val[:val_size],
        "y_val": y_val[:val_size],
        "X_test": X_test[:test_size],
        "y_test": y_test[:test_size],
    }


def seed_list(seeds):
    """``seeds`` as a list: a count ``n`` means seeds ``0 .. n-1``; a list is taken as is."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise BarenetError(f"seeds must be >= 1, got {seeds}")
        return list(range(int(seeds)))
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise BarenetError("seeds must name at least one seed")
    return seeds


def build_network(network, seed):
    """``NeuralNetwork(784, ..., 10, seed=seed, **network)``: bad settings fail here, early."""
    return NeuralNetwork(
        input_size=MNIST_INPUTS, output_size=MNIST_CLASSES, seed=seed, **dict(network)
    )


def train_network(network, training, data, seed, callbacks=()):
    """Train a fresh network on ``data`` (from :func:`load_split`); returns ``(net, scores)``.

    ``network`` holds :class:`~barenet.NeuralNetwork` arguments, ``training`` those of
    :meth:`~barenet.NeuralNetwork.train`. A run whose loss diverges is not an error here: it
    keeps the last finite weights and its scores say ``"diverged": True``, since a study of
    learning rates is expected to find rates that are too large.
    """
    net = build_network(network, seed)
    start = time.perf_counter()
    diverged = False
    try:
        net.train(
            data["X_train"],
            data["y_train"],
            data["X_val"],
            data["y_val"],
            verbose=False,
            callbacks=list(callbacks),
            **training,
        )
    except DivergenceError:
        diverged = True
    return net, scores(net, data, time.perf_counter() - start, diverged)


def scores(net, data, train_time, diverged=False):
    """The figures every study reports about one trained network (JSON-able)."""
    history = {key: list(values) for key, values in net.history.items()}
    val = history.get("val_accuracy", [])
    test = net.evaluate(data["X_test"], data["y_test"])
    best = int(np.argmax(val)) if val else None
    return {
        "n_parameters": int(net.n_parameters),
        "epochs_run": len(history.get("train_loss", [])),
        "final_val_accuracy": val[-1] if val else None,
        "best_val_accuracy": val[best] if val else None,
        "best_epoch": None if best is None else best + 1,
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "train_time": train_time,
        "diverged": diverged,
        "history": history,
    }


def training_job(network, training, data, seed):
    """A job for :func:`~barenet.experiments.runner.run_jobs`: load, train, score."""
    _, result = train_network(network, training, load_split(**data), seed)
    return result


def training_options(epochs, batch_size, **extra):
    """The checked ``train`` options every run of a study shares."""
    return {
        "epochs": check.positive_int("epochs", epochs),
        "batch_size": check.positive_int("batch_size", batch_size),
        **extra,
    }


def seeded_jobs(fn, configs, seeds, **shared):
    """One :class:`~barenet.experiments.runner.Job` per network config and seed.

    ``configs`` is a list of ``(tags, network_config)``; each config is built once here, so that
    a bad setting fails now rather than in every job. ``shared`` goes to every call of ``fn``.
    """
    jobs = []
    for tags, config in configs:
        build_network(config, seed=0)
        for seed in seed_list(seeds):
            kwargs = {"network": config, "seed": seed, **shared}
            jobs.append(Job(fn, kwargs, {**tags, "seed": seed}))
    return jobs
