"""barenet's version, in one place (the package, the CLI, ONNX files and the web API show it)."""

__version__ = "0.1.0"
