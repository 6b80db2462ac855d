"""One training run, the unit of work of the studies: data, network, training and scores.

Jobs receive only small plain values (a network config, training options, the data set's name
and subset sizes, a seed) and load their data set themselves, so that nothing large is pickled
to a worker; each process reads the files once and keeps them (see
:func:`barenet.load_dataset`). The network of each run is built for its data set: as many
inputs as the images have pixels, one output per class, with the class names and image shape.
"""

import numbers
import time

import numpy as np

from barenet import validation as check
from barenet.data import dataset_info, load_dataset
from barenet.errors import BarenetError, DivergenceError
from barenet.experiments.runner import Job
from barenet.network import NeuralNetwork


def data_options(train_size=None, val_size=None, test_size=None, data_dir=None, dataset="mnist"):
    """The data a study uses, as plain values for its jobs: the data set's name (one of
    :data:`barenet.DATASETS`) and the first images of each part of its split (None: all)."""
    sizes = {"train_size": train_size, "val_size": val_size, "test_size": test_size}
    for name, value in sizes.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise BarenetError(f"{name} must be a positive integer or None, got {value!r}")
    return {
        **sizes,
        "data_dir": None if data_dir is None else str(data_dir),
        "dataset": check_dataset(dataset),
    }


def check_dataset(name):
    """``name`` if it is one of :data:`barenet.DATASETS`, else a DataError naming them."""
    dataset_info(name)
    return name


def dataset_spec(name="mnist"):
    """What a network for data set ``name`` needs, known without loading its images:
    ``{"n_features", "n_classes", "class_names", "image_shape"}`` (plain lists and ints).

    MNIST: 784 inputs (28 x 28), 10 classes ``"0"`` .. ``"9"``; ``digits``: 64 inputs (8 x 8).
    """
    return _spec(*dataset_info(check_dataset(name)))


def _spec(class_names, image_shape):
    """The :func:`dataset_spec` dict of these class names and ``(height, width)``."""
    height, width = (int(side) for side in image_shape)
    return {
        "n_features": height * width,
        "n_classes": len(class_names),
        "class_names": [str(name) for name in class_names],
        "image_shape": [height, width],
    }


def load_split(train_size=None, val_size=None, test_size=None, data_dir=None, dataset="mnist"):
    """The standard split of ``dataset`` (see :func:`barenet.load_dataset`), each part cut to
    its first ``*_size`` images. For MNIST that is 50,000 / 10,000 / 10,000.

    Returns ``{"X_train", "y_train", "X_val", "y_val", "X_test", "y_test"}`` (float32
    ``(n, n_features)`` images in [0, 1] and int64 labels) and the data set's
    :func:`dataset_spec` keys (``n_features``, ``n_classes``, ``class_names``,
    ``image_shape``). The split and the order are fixed, so every job of a study sees the same
    images whatever its seed.
    """
    split = load_dataset(check_dataset(dataset), data_dir)
    return {
        "X_train": split.X_train[:train_size],
        "y_train": split.y_train[:train_size],
        "X_val": split.X_val[:val_size],
        "y_val": split.y_val[:val_size],
        "X_test": split.X_test[:test_size],
        "y_test": split.y_test[:test_size],
        **_spec(split.class_names, split.image_shape),
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


def build_network(network, seed, spec=None):
    """``NeuralNetwork(n_features, ..., n_classes, seed=seed, **network)`` for the data set
    described by ``spec`` (a :func:`dataset_spec` or :func:`load_split` dict; default MNIST),
    with its class names and image shape. Bad settings fail here, early."""
    spec = dataset_spec() if spec is None else spec
    shape = {
        "input_size": spec["n_features"],
        "output_size": spec["n_classes"],
        "class_names": spec["class_names"],
        "image_shape": spec["image_shape"],
    }
    return NeuralNetwork(seed=seed, **{**shape, **dict(network)})


def train_network(network, training, data, seed, callbacks=()):
    """Train a fresh network on ``data`` (from :func:`load_split`, whose data set sets the
    network's inputs, outputs and class names); returns ``(net, scores)``.

    ``network`` holds :class:`~barenet.NeuralNetwork` arguments, ``training`` those of
    :meth:`~barenet.NeuralNetwork.train`. A run whose loss diverges is not an error here: it
    keeps the last finite weights and its scores say ``"diverged": True``, since a study of
    learning rates is expected to find rates that are too large.
    """
    net = build_network(network, seed, data)
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

    ``configs`` is a list of ``(tags, network_config)``; each config is built once here, for
    the data set named in ``shared["data"]`` (default MNIST), so that a bad setting fails now
    rather than in every job. ``shared`` goes to every call of ``fn``.
    """
    spec = dataset_spec(shared.get("data", {}).get("dataset", "mnist"))
    jobs = []
    for tags, config in configs:
        build_network(config, seed=0, spec=spec)
        for seed in seed_list(seeds):
            kwargs = {"network": config, "seed": seed, **shared}
            jobs.append(Job(fn, kwargs, {**tags, "seed": seed}))
    return jobs


def architecture_name(hidden_sizes, spec=None):
    """``"784-128-64-10"``: the layer widths of a network with these hidden layers for the data
    set of ``spec`` (a :func:`dataset_spec` dict; default MNIST)."""
    spec = dataset_spec() if spec is None else spec
    widths = [spec["n_features"], *hidden_sizes, spec["n_classes"]]
    return "-".join(str(width) for width in widths)
