"""The solutions of ``notebooks/solutions/`` as modules, for the tests to pass or to break."""

import importlib.util
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parents[2] / "notebooks" / "solutions"


def load(name):
    """``notebooks/solutions/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(f"{name}_solutions", SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


more_layers = load("more_layers")
