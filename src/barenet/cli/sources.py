"""Where the data of a command comes from: a built-in data set (``--dataset``) or your own
(``--data``), for classification or, with ``--loss mse``, regression.

Holds no command: ``train`` checks its data options with :func:`check_data_options` and loads
your own data with :func:`load_own`; ``evaluate`` and ``report`` find the test split a saved
model is scored on with :func:`test_data_of`.
"""

from pathlib import Path

from barenet.cli.parsing import TRAIN_DEFAULTS
from barenet.data import load_dataset, load_own_data
from barenet.data.datasets import check_fits
from barenet.errors import BarenetError


def regression(args):
    """True when the ``train`` options ask for a regression network (``--loss mse``)."""
    return getattr(args, "loss", "cross_entropy") == "mse"


def check_data_options(args):
    """Refuse, before loading anything, ``train`` data options that do not go together: the
    options of your own data without ``--data``, ``--data`` with ``--dataset`` or
    ``--data-dir``, and ``--loss mse`` with data that holds no numbers to predict (the built-in
    data sets, classes of images; a folder of pictures sorted by class)."""
    if args.data is None:
        own = {"--image-size": args.image_size, "--label-column": args.label_column != "label"}
        for option, value in own.items():
            if value:
                raise BarenetError(f"{option} describes --data, your own data: give --data PATH")
    elif args.dataset != TRAIN_DEFAULTS["dataset"] or args.data_dir is not None:
        option = "--data-dir" if args.data_dir is not None else "--dataset"
        raise BarenetError(f"--data is your own data: {option} names another; give one of them")
    if not regression(args):
        return
    if args.data is None:
        raise BarenetError(
            f"--loss mse trains a regression network, which predicts numbers: {args.dataset} "
            "is classes of images; give your own data with --data (a .csv whose --label-column "
            "holds the target, or an .npz with float y)"
        )
    if Path(args.data).is_dir():
        raise BarenetError(
            f"--loss mse trains a regression network, which predicts numbers: {args.data} is a "
            "folder of pictures sorted by class, data for a classifier; give a .csv or an .npz"
        )


def load_own(args, image_shape=None, validation=True):
    """The user's own data of ``--data``, split as ``load_own_data`` does (a fraction of 10%
    for validation unless --validation-size gives a count), its labels classes or, with
    ``--loss mse``, numbers to predict. ``image_shape``: ``[side]`` or ``[height, width]``
    (--image-size), or None."""
    size = getattr(args, "validation_size", None) if validation else 0
    if image_shape is not None and len(image_shape) == 1:
        image_shape = [image_shape[0]] * 2
    if image_shape is not None and len(image_shape) != 2:
        raise BarenetError(f"--image-size takes SIDE or HEIGHT WIDTH, got {len(image_shape)} sizes")
    return load_own_data(
        args.data,
        image_shape=image_shape,
        validation=0.1 if size is None else size,
        dtype=getattr(args, "dtype", "float32"),
        label_column=getattr(args, "label_column", "label"),
        task="regression" if regression(args) else "classification",
    )


def own_data_option(sub):
    sub.add_argument(
        "--data",
        metavar="PATH",
        help="your own data to test on (a folder, .npz or .csv, as for barenet train --data); "
        "its test split is used (default: the data the model was trained on, when that was "
        "your own)",
    )


def dataset_of(net, args):
    """The data set to test ``net`` on: ``--dataset``, else the one it was trained on (MNIST for
    models that do not say); checked to fit the network before minutes of loading."""
    name = args.dataset or (net.training_info.dataset or "mnist")
    check_fits(name, net.input_size, net.output_size, args.model, ": choose with --dataset")
    return name


def test_data_of(net, args):
    """The :class:`~barenet.data.Dataset` whose test split ``net`` is scored on: ``--data``
    (your own), else ``--dataset``, else what it was trained on, your own data included (the
    same split: the test part does not depend on the validation size). A regression network
    is scored on your own data only, its target read from the column its output is named
    after (a CSV) or from ``y`` (an .npz)."""
    path = getattr(args, "data", None)
    if path is None and args.dataset is None and net.training_info.data:
        path = net.training_info.data
        if not Path(path).exists():
            raise BarenetError(
                f"{args.model} was trained on your own data from {path}, which is gone: "
                "give --data PATH (or --dataset NAME)"
            )
    if path is not None and args.dataset is not None:
        raise BarenetError("give --data or --dataset, not both")
    if net.is_regression and path is None:
        raise BarenetError(
            f"{args.model} is a regression network (loss mse): it predicts numbers, and the "
            "built-in data sets are classes of images; give --data, a .csv or .npz of its "
            "inputs and targets"
        )
    if path is None:
        name = dataset_of(net, args)
        return load_dataset(name, args.data_dir, validation_size=0, dtype=net.dtype)
    if net.is_regression:
        data = load_own_data(path, image_shape=net.image_shape, validation=0, dtype=net.dtype,
                             label_column=net.class_names[0], task="regression")  # fmt: skip
        what = "outputs"
    else:
        data = load_own_data(path, image_shape=net.image_shape, validation=0, dtype=net.dtype)
        what = "classes"
    if (data.n_features, data.n_classes) != (net.input_size, net.output_size):
        raise BarenetError(
            f"{args.model} takes {net.input_size} inputs and {net.output_size} {what}; "
            f"{path} has {data.n_features} and {data.n_classes}"
        )
    if list(data.class_names) != list(net.class_names):
        raise BarenetError(
            f"{args.model} knows the {what} {', '.join(net.class_names)}; {path} has "
            f"{', '.join(data.class_names)}"
        )
    return data
