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
from barenet.nn import Dense, layer_from_config, parse_layers
from barenet.nn.stack import RECURRENT_KINDS, describe_layer, takes_images


def data_options(train_size=None, val_size=None, test_size=None, data_dir=None, dataset="mnist"):
    """The data a study uses, as plain values for its jobs: the data set's name (one of
    :data:`barenet.DATASETS`) and the first images of each part of its split (None: all)."""
    sizes = {"train_size": train_size, "val_size": val_size, "test_size": test_size}
    return {
        **{name: None if n is None else check.positive_int(name, n) for name, n in sizes.items()},
        "data_dir": None if data_dir is None else str(data_dir),
        "dataset": check_dataset(dataset),
    }


def check_dataset(name):
    """``name`` if it is one of :data:`barenet.DATASETS`, else a DataError naming them."""
    dataset_info(name)
    return name


def dataset_spec(dataset="mnist"):
    """What a network for ``dataset`` needs, known without loading its images: the
    :meth:`~barenet.data.DatasetInfo.as_dict` of its :func:`~barenet.data.dataset_info`,
    ``{"n_features", "n_classes", "class_names", "image_shape"}`` (plain lists and ints).

    MNIST: 784 inputs (28 x 28), 10 classes ``"0"`` .. ``"9"``; ``digits``: 64 inputs (8 x 8).
    ``dataset`` is a name of :data:`barenet.DATASETS` (None: MNIST), or such a dict (a
    :func:`load_split` result will do), returned as it is.
    """
    if isinstance(dataset, dict):
        return dataset
    return dataset_info("mnist" if dataset is None else dataset).as_dict()


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
        **split.info.as_dict(),
    }


def seed_list(seeds):
    """``seeds`` as a list: a count ``n`` means seeds ``0 .. n-1``; a list is taken as is."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        return list(range(check.positive_int("seeds", seeds)))
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise BarenetError("seeds must name at least one seed")
    return seeds


def build_network(network, seed=None, dataset="mnist"):
    """The :class:`~barenet.NeuralNetwork` that the settings dict ``network`` describes, sized
    for ``dataset``: as many inputs as its images have pixels, one output per class, with its
    class names and image shape. This is barenet's one builder of a network from settings.

    ``network`` holds :class:`~barenet.NeuralNetwork` arguments by name (``hidden_sizes``,
    ``learning_rate``, ``activation``, ``seed``...), or, instead of ``hidden_sizes`` and the
    other MLP settings, ``layers``: a line such as ``"conv8x3 relu pool2 flatten dense32
    relu"`` (see :func:`barenet.nn.parse_layers`) or a list of layer configs, under which a
    Dense layer of one unit per class is added; a stack with convolutions, pooling or Flatten
    reads the images as ``(height, width, 1)``. ``seed``, when given, overrides its seed.
    ``dataset`` is a name of :data:`barenet.DATASETS` or a :func:`dataset_spec` /
    :func:`load_split` dict. Bad settings fail here, early.
    """
    spec = dataset_spec(dataset)
    if "layers" in network:
        return _layers_network(dict(network), seed, spec)
    settings = {
        "input_size": spec["n_features"],
        "output_size": spec["n_classes"],
        "class_names": spec["class_names"],
        "image_shape": spec["image_shape"],
        **dict(network),
    }
    if seed is not None:
        settings["seed"] = seed
    return NeuralNetwork(**settings)


def with_output_layer(stack, input_shape, n_classes, words=True):
    """``stack`` with ``Dense(n_classes)`` added, unless its last layer is already a dense layer
    of that width; a stack whose output is not one row of features is refused first, in the
    words of a layer line when ``words`` (else in Python's)."""
    shape = input_shape if isinstance(input_shape, tuple) else (input_shape,)
    for number, layer in enumerate(stack, start=1):
        if words and isinstance(layer, Dense) and len(shape) == 3:
            raise BarenetError(
                f"layer {number}, {describe_layer(layer)}, needs one row of features per "
                f"sample, but gets images of shape {'x'.join(map(str, shape))}: put flatten "
                "(or gap) before it"
            )
        try:
            shape = layer.build(shape)
        except BarenetError as exc:
            if not words:
                raise
            raise BarenetError(f"layer {number}, {describe_layer(layer)}: {exc}") from None
    if len(shape) != 1:
        ends = "x".join(map(str, shape))
        fix = (
            "end the line with flatten or gap (images), token0 or tokenmean (tokens), or a "
            "recurrent layer without seq"
            if words
            else "end the stack with Flatten() or GlobalAvgPool2D() (images), TakeToken(0) or "
            "TokenMean() (tokens), or a recurrent layer with return_sequences=False"
        )
        raise BarenetError(
            f"the layers give each sample outputs of shape {ends}, where the output layer needs "
            f"one row of features: {fix}"
        )
    last = stack[-1] if stack else None
    if isinstance(last, Dense) and last.units == n_classes:
        return stack  # the line already ends with the output layer
    return [*stack, Dense(n_classes)]


def _layers_network(settings, seed, spec):
    layers = settings.pop("layers")
    if isinstance(layers, str):
        stack = parse_layers(layers)
    else:
        stack = [layer_from_config(config) for config in layers]
    shape = spec["n_features"]
    if takes_images(stack):
        if not spec["image_shape"]:
            raise BarenetError(
                f"convolutions and pooling read images; these {shape} features are no image"
            )
        shape = (*spec["image_shape"], 1)
    elif stack[0].kind in RECURRENT_KINDS:  # an image's rows are the steps of a sequence
        if not spec["image_shape"]:
            raise BarenetError(
                f"recurrent layers read an image row by row; these {shape} features are no image"
            )
        shape = tuple(spec["image_shape"])
    stack = with_output_layer(stack, shape, spec["n_classes"], isinstance(layers, str))
    if seed is not None:
        settings["seed"] = seed
    keywords = ("learning_rate", "optimizer", "l2", "l1", "loss", "dtype", "seed")
    unknown = sorted(set(settings) - set(keywords))
    if unknown:
        raise BarenetError(
            f"a network given by its layers takes {', '.join(keywords)}; not {unknown} "
            "(write activations, dropout and batch norm as layers)"
        )
    return NeuralNetwork.from_layers(
        stack,
        shape,
        class_names=spec["class_names"],
        image_shape=spec["image_shape"],
        **settings,
    )


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


def seeded_jobs(fn, configs, seeds, **shared):
    """One :class:`~barenet.experiments.runner.Job` per network config and seed.

    ``configs`` is a list of ``(tags, network_config)``; each config is built once here, for
    the data set named in ``shared["data"]`` (default MNIST), so that a bad setting fails now
    rather than in every job. ``shared`` goes to every call of ``fn``.
    """
    spec = dataset_spec(shared.get("data", {}).get("dataset", "mnist"))
    jobs = []
    for tags, config in configs:
        build_network(config, seed=0, dataset=spec)
        for seed in seed_list(seeds):
            kwargs = {"network": config, "seed": seed, **shared}
            jobs.append(Job(fn, kwargs, {**tags, "seed": seed}))
    return jobs


def architecture_name(hidden_sizes, dataset="mnist"):
    """``"784-128-64-10"``: the layer widths of a network with these hidden layers for
    ``dataset`` (a name or a :func:`dataset_spec` dict; default MNIST)."""
    spec = dataset_spec(dataset)
    widths = [spec["n_features"], *hidden_sizes, spec["n_classes"]]
    return "-".join(str(width) for width in widths)
