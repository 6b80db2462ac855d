"""What the groups of ``barenet`` commands share: one-line usage errors, help that shows
defaults, integer options with a lower bound, the ``--data-dir`` and ``--dataset`` options, the
exit codes, the defaults of ``barenet train`` (whose model file ``evaluate`` and ``serve`` read
by default) and the choice of the data set to test a saved model on.

Holds no command. The commands live in one module per group (:mod:`barenet.cli.train`,
:mod:`barenet.cli.models`, :mod:`barenet.cli.files`, :mod:`barenet.cli.experiments`,
:mod:`barenet.cli.serve`), each registering its commands with :func:`add_command`; only
:mod:`barenet.cli.main` imports them.
"""

import argparse
import inspect

from barenet.data import DATASETS
from barenet.data.datasets import check_fits

EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

# Every default of `barenet train`, in one place: the "default" recipe of
# benchmarks/accuracy_recipes.py, chosen on the validation split (99.0% test accuracy in ~20 s of
# training on a 240 GFLOP/s machine; see the README). Its "output" is also the model file that
# `barenet evaluate` and `barenet serve` read by default.
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
}


class Given(argparse.Action):
    """Stores an option's value, like argparse's default action, and notes in ``args.given``
    that the user gave it: a preset (``--model cnn``) then changes only the others, whatever
    their order on the line."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = {*getattr(namespace, "given", ()), self.dest}


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like the command's other errors."""

    def error(self, message):
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


def data_dir_option(sub):
    sub.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the data files (default: $BARENET_DATA, else ~/.cache/barenet)",
    )


def dataset_option(sub, default="mnist", help="data set"):
    sub.add_argument("--dataset", choices=DATASETS, default=default, help=help)


def dataset_of(net, args):
    """The data set to test ``net`` on: ``--dataset``, else the one it was trained on (MNIST for
    models that do not say); checked to fit the network before minutes of loading."""
    name = args.dataset or (net.training_info.dataset or "mnist")
    check_fits(name, net.input_size, net.output_size, args.model, ": choose with --dataset")
    return name
