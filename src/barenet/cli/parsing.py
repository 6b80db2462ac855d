"""What the groups of ``barenet`` commands share: one-line usage errors, help that shows
defaults, integer options with a lower bound, the ``--data-dir`` and ``--dataset`` options, the
exit codes, the defaults of ``barenet train`` (whose model file ``evaluate`` and ``serve`` read
by default), and where the data of a command comes from: the checks of ``train``'s data options
against ``--loss`` (regression needs your own numbers to predict), the loading of your own data,
and the choice of the data set to test a saved model on.

Holds no command. The commands live in one module per group (:mod:`barenet.cli.train`,
:mod:`barenet.cli.models`, :mod:`barenet.cli.files`, :mod:`barenet.cli.experiments`,
:mod:`barenet.cli.serve`), each registering its commands with :func:`add_command`; only
:mod:`barenet.cli.main` imports them.
"""

import argparse
import inspect
import os
import re
from pathlib import Path

from barenet.data import DATASETS, load_dataset, load_own_data
from barenet.data.datasets import check_fits
from barenet.errors import BarenetError

EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

# Every default of `barenet train`, in one place: the "default" recipe of
# benchmarks/accuracy_recipes.py, chosen on the validation split (99.0% test accuracy in ~20 s of
# training on a 240 GFLOP/s machine; see docs/accuracy.md). Its "output" is also the model file
# that `barenet evaluate` and `barenet serve` read by default.
TRAIN_DEFAULTS = {
    "hidden": [512, 256],
    "optimizer": "nesterov",
    "learning_rate": 0.1,
    "epochs": 16,
    "batch_size": 128,
    "seed": 0,
    "activation": "relu",
    "init": "he",
    "dropout": 0.0,
    "batch_norm": False,
    "l2": 0.0,
    "l1": 0.0,
    "dtype": "float32",
    "momentum": None,
    "schedule": "cosine",
    "warmup": 0.0,
    "augment": None,  # affine for 28x28 images; none for the 8x8 digits, too small to distort
    "max_shift": 2,
    "early_stopping": None,
    "clip_norm": None,
    "checkpoint": None,
    "resume": False,
    "validation_size": None,
    "dataset": "mnist",
    "output": "barenet-model.npz",
    "model": "mlp",
    "layers": None,
    "history": None,
    "data": None,
    "image_size": None,
    "label_column": "label",
    "loss": "cross_entropy",
    "standardize": True,  # table data (features, not pictures): each column to mean 0, sd 1
    "allow_negative_r2": False,
    "force": False,
}


class Given(argparse.Action):
    """Stores an option's value, like argparse's default action, and notes in ``args.given``
    that the user gave it: a preset (``--model cnn``) then changes only the others, whatever
    their order on the line."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = {*getattr(namespace, "given", ()), self.dest}


# Options that only some subcommands take (the studies' own): a usage error naming one says
# where it belongs rather than only "unrecognized arguments".
FOREIGN_OPTIONS = {}


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like the command's other errors."""

    def error(self, message):
        if message.startswith("unrecognized arguments:"):
            words = message.split(":", 1)[1].split()
            owners = [
                FOREIGN_OPTIONS[w.split("=")[0]]
                for w in words
                if w.split("=")[0] in FOREIGN_OPTIONS
            ]
            if owners:
                message += f" ({'; '.join(owners)})"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of the epilog; shows the default of each option taking a value."""

    def _get_help_string(self, action):
        shown = "%(default)" in action.help or action.default in (None, argparse.SUPPRESS)
        if shown or action.nargs == 0 or not action.option_strings:
            return action.help
        return f"{action.help} (default: %(default)s)"


def int_at_least(minimum):
    """An argparse type: an integer >= ``minimum``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def number_in(low=None, high=None, low_inclusive=True, high_inclusive=False):
    """An argparse type: a finite float within the bounds (None: none on that side), so that
    ``--lr -1`` is refused by the parser, in its words: ``argument --learning-rate/--lr: must
    be > 0, got -1``."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        bounds = []
        if low is not None:
            bounds.append((f"{'>=' if low_inclusive else '>'} {low:g}",
                           value < low if low_inclusive else value <= low))  # fmt: skip
        if high is not None:
            bounds.append((f"{'<=' if high_inclusive else '<'} {high:g}",
                           value > high if high_inclusive else value >= high))  # fmt: skip
        if (
            value != value
            or any(bad for _, bad in bounds)
            or value in (float("inf"), -float("inf"))
        ):
            wanted = " and ".join(words for words, _ in bounds) or "finite"
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return parse


POSITIVE = number_in(0, low_inclusive=False)
NON_NEGATIVE = number_in(0)


def check_output(path, option, what="the output", force=True, why="--force replaces it"):
    """Refuse, before any work, an output path that cannot be written: a folder, a missing
    folder, a folder without write permission, and, unless ``force``, a file that exists
    (``why`` says how to replace it anyway). Files are written only into folders that exist
    (one rule for ``train``, ``report``, ``export``: nothing creates a folder from a typo), and
    replace no file unless told to. Returns ``path``."""
    if path is None:
        return None
    target = Path(path)
    folder = target.absolute().parent
    if target.is_dir():
        raise BarenetError(f"{option} {path}: is a folder; name a file for {what}")
    if not force and target.exists():
        raise BarenetError(
            f"{option} {path}: the file exists; it is left as it is ({why}, or name another file)"
        )
    if not folder.is_dir():
        raise BarenetError(f"{option} {path}: cannot write {what} there: no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise BarenetError(f"{option} {path}: cannot write {what}: folder {folder} is not writable")
    return path


# Model formats that are not barenet's, by their usual suffix: a barenet file under one of these
# names would be mislabelled (other tools would try to read it as theirs).
FOREIGN_MODEL_SUFFIXES = {
    ".onnx": "an ONNX model",
    ".pt": "a PyTorch model",
    ".pth": "a PyTorch model",
    ".h5": "a Keras (HDF5) model",
    ".keras": "a Keras model",
    ".safetensors": "a safetensors file",
    ".pb": "a TensorFlow graph",
    ".tflite": "a TensorFlow Lite model",
}


def check_model_suffix(path, option="-o"):
    """Refuse a name that says another tool's format (``model.onnx``): barenet writes its own
    (.npz), and ``barenet export`` turns a model file into ONNX."""
    if path is None:
        return None
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in FOREIGN_MODEL_SUFFIXES:
        own = path.with_suffix(".npz")
        then = f"; then barenet export {own} --onnx {path} writes the ONNX model"
        raise BarenetError(
            f"{option} {path}: the name says {FOREIGN_MODEL_SUFFIXES[suffix]} ({suffix}), but "
            f"barenet saves models in its own format: name it {own}"
            + (then if suffix == ".onnx" else "")
        )
    return str(path)


# The Python names that messages of the library use, and the options a command-line user types.
OPTION_NAMES = {
    "learning_rate": "--lr",
    "validation_size": "--validation-size",
    "early_stopping": "--early-stopping",
    "batch_size": "--batch-size",
    "clip_norm": "--clip-norm",
    "max_shift": "--max-shift",
    "data_dir": "--data-dir",
    "hidden_sizes": "--hidden",
    "train_size": "--train-size",
    "val_size": "--val-size",
    "test_size": "--test-size",
    "checkpoint=PATH": "--checkpoint PATH",
    "resume=True": "--resume",
    "label_column": "--label-column",
}
_PYTHON_NAMES = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(name) for name in OPTION_NAMES) + r")(?![\w])"
)


# Plain words that name an option only as the subject of a check: "dropout must be in [0, 1)".
SUBJECT_NAMES = ("dropout", "momentum", "epochs", "l2", "l1", "activation", "init", "optimizer")


def in_option_words(message):
    """A library message as a command-line user reads it: ``validation_size must be ...`` ->
    ``--validation-size must be ...``; passing ``data_dir`` -> passing ``--data-dir``;
    ``dropout must be in [0, 1)`` -> ``--dropout must be in [0, 1)``."""
    message = _PYTHON_NAMES.sub(lambda match: OPTION_NAMES[match.group(1)], message)
    first = message.split(" ", 1)[0]
    if first in SUBJECT_NAMES and message[len(first) :].startswith(" must "):
        message = "--" + message
    return message


def add_command(commands, run, summary, example):
    """Add the subcommand that calls ``run(args)``: ``train`` for ``train_command``...

    Its ``--help`` shows the docstring of ``run`` and ``example``.
    """
    name = run.__name__.removesuffix("_command")
    sub = commands.add_parser(
        name,
        help=summary,
        description=inspect.cleandoc(run.__doc__),
        epilog=f"example:\n  {example}",
        formatter_class=HelpFormatter,
    )
    sub.set_defaults(run=run)
    return sub


def preprocessing_lines(net):
    """What ``net`` does to its inputs and outputs, in words (``barenet train``'s summary,
    ``barenet info``); no line when nothing: pictures, and models from before
    standardisation."""
    if net.input_scaling is None:
        return []
    targets = ""
    if net.output_scaling is not None:
        targets = f", and the target{'s' if net.output_size > 1 else ''} too"
    return [
        f"preprocessing: the {net.input_size} features standardised (mean 0, standard deviation "
        f"1 each, from the training rows){targets}; the model file keeps the figures: predict, "
        "evaluate, serve and export take and give your units"
    ]


def force_option(sub, what="the output file"):
    """``--force``: replace ``what`` if it exists (by default nothing is overwritten)."""
    sub.add_argument(
        "--force",
        action="store_true",
        help=f"replace {what} if it exists (without it, an existing file is left as it is)",
    )


def model_argument(sub, note=""):
    """The saved model a command reads: optional, ``barenet train``'s output by default."""
    sub.add_argument(
        "model",
        nargs="?",
        default=TRAIN_DEFAULTS["output"],
        help=f"the model file (default: %(default)s{note})",
    )


def data_dir_option(sub):
    sub.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the data files (default: $BARENET_DATA, else ~/.cache/barenet)",
    )


def dataset_option(sub, default="mnist", help="data set"):
    sub.add_argument("--dataset", choices=DATASETS, default=default, help=help)


# -- where the data of a command comes from ------------------------------------------------------


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
