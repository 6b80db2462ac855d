"""The pieces every ``barenet`` subcommand's parser shares: one-line usage errors, help that shows
defaults, integer options with a lower bound, and the ``--data-dir`` and ``--dataset`` options.

The subcommands live in :mod:`barenet.cli.main`, :mod:`barenet.cli.experiments` and
:mod:`barenet.cli.serve`; each registers itself with :func:`add_command`.
"""

import argparse
import inspect

from barenet.data import DATASETS

EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


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
