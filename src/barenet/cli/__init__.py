"""The ``barenet`` command: the entry point in :mod:`barenet.cli.main`, one module per group of
commands."""
