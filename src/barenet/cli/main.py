"""The ``barenet`` command: train, evaluate and use MNIST networks from a terminal.

The entry point: :func:`build_parser` assembles the groups of commands, one module each
(:mod:`~barenet.cli.train`: train; :mod:`~barenet.cli.models`: evaluate, predict;
:mod:`~barenet.cli.info`: info; :mod:`~barenet.cli.files`: download, export;
:mod:`~barenet.cli.experiments`: experiment; :mod:`~barenet.cli.report`: report;
:mod:`~barenet.cli.serve`: serve; :mod:`~barenet.cli.course`: course), and :func:`main`
runs one. Only this module imports the groups.

Results and per-epoch training logs go to stdout, progress bars and warnings to stderr. Bad
input (a :class:`BarenetError`, a missing or unreadable file, a bad option) ends with a one-line
``barenet: error: ...`` on stderr, in the options' words (``--data-dir``, not ``data_dir``), and
exit code 2, never a traceback; Ctrl-C with exit code 130. A reader that stops reading
(``barenet evaluate ... | head``) is no error: the command ends quietly with exit code 0.
"""

import contextlib
import os
import sys
import warnings

from barenet.cli import course, experiments, files, info, models, report, serve, train
from barenet.cli.parsing import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Parser,
    in_option_words,
)
from barenet.errors import BarenetError
from barenet.version import __version__

# The groups of commands, in the order `barenet --help` lists them.
GROUPS = (train, models, info, files, experiments, report, serve, course)


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    try:
        with _warnings_as_lines():
            return _run(argv)
    except BrokenPipeError:
        return _reader_gone()


def _run(argv):
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error, already printed by argparse
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return exc.code
    try:
        code = args.run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        raise
    except KeyboardInterrupt as exc:  # training says how far it got and what it saved
        print(f"barenet: {str(exc) or 'interrupted'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (BarenetError, OSError) as exc:
        print(f"barenet: error: {in_option_words(_describe(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # an unexpected failure still gets a message, not a traceback
        print(f"barenet: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def _describe(exc):
    """The message of ``exc``; for a plain OSError, ``"<file>: <reason>"``."""
    if isinstance(exc, OSError) and not isinstance(exc, BarenetError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def _reader_gone():
    """stdout's reader has closed the pipe (``| head``): as the Python documentation advises,
    point stdout at devnull so that the flush at exit cannot fail again, and end quietly."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


@contextlib.contextmanager
def _warnings_as_lines():
    """Show warnings (pixels on the 0-255 scale...) as ``barenet: warning: ...`` on stderr,
    in the options' words, rather than as Python's file-and-line report."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"barenet: warning: {in_option_words(str(message))}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default", UserWarning)
        warnings.showwarning = show
        yield


def build_parser():
    """The ``barenet`` argument parser with its subcommands."""
    parser = Parser(
        prog="barenet",
        description="Neural networks from scratch in NumPy: train, evaluate and use MNIST models.",
        epilog="run 'barenet COMMAND --help' for the options of a command",
    )
    parser.add_argument("--version", action="version", version=f"barenet {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for group in GROUPS:
        group.add_commands(commands)
    return parser
