"""The ``barenet`` command: train, evaluate and use MNIST networks from a terminal.

The entry point: :func:`build_parser` assembles the groups of commands, one module each
(:mod:`~barenet.cli.train`: train; :mod:`~barenet.cli.models`: evaluate, predict;
:mod:`~barenet.cli.files`: download, export; :mod:`~barenet.cli.experiments`: experiment,
report; :mod:`~barenet.cli.serve`: serve), and :func:`main` runs one. Only this module imports
the groups.

Results and per-epoch training logs go to stdout, progress bars to stderr. Bad input (a
:class:`BarenetError`, a missing or unreadable file, a bad option) ends with a one-line
``barenet: error: ...`` on stderr and exit code 2, never a traceback; Ctrl-C with exit code 130.
"""

import sys

from barenet.cli import experiments, files, models, serve, train
from barenet.cli.parsing import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, Parser
from barenet.errors import BarenetError
from barenet.version import __version__

# The groups of commands, in the order `barenet --help` lists them.
GROUPS = (train, models, files, experiments, serve)


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error, already printed by argparse
        return exc.code
    try:
        return args.run(args)
    except KeyboardInterrupt as exc:  # training says how far it got and where it saved
        print(f"barenet: {str(exc) or 'interrupted'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (BarenetError, OSError) as exc:
        print(f"barenet: error: {_describe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # an unexpected failure still gets a message, not a traceback
        print(f"barenet: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def _describe(exc):
    """The message of ``exc``; for a plain OSError, ``"<file>: <reason>"``."""
    if isinstance(exc, OSError) and not isinstance(exc, BarenetError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


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
