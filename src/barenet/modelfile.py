"""Model files: a network's architecture, weights and history, in the format of :mod:`barenet.io`.

The JSON header says how to rebuild the network (its constructor arguments, the names of its
activation and optimizer) and how it was trained (settings, history); the arrays are its
parameters and batch-norm statistics under their names (``layers.0.W``...). Checkpoints extend
the same header and arrays (see :mod:`barenet.checkpoint`).
"""

from .errors import ModelFileError
from .io import load_arrays, save_arrays


def file_header(net):
    """What a model file says besides its arrays: how to rebuild it and how it was trained."""
    return {
        "architecture": net.get_config(),
        "history": net.history,
        "training": net.training_info,
        "layers": [layer.config() for layer in net.layers],
    }


def save_network(net, path):
    """Write ``net`` to ``path`` atomically (see :func:`barenet.io.save_arrays`)."""
    save_arrays(path, file_header(net), net.named_arrays(), kind="model")


def load_network(path, network_class):
    """Rebuild the network saved at ``path`` as an instance of ``network_class``."""
    header, arrays = load_arrays(path, kind="model")
    try:
        config = dict(header["architecture"])
        seed = config.pop("seed", None)
        net = network_class(**config)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: invalid architecture in the model header: {exc}") from None
    fill_arrays(path, arrays, net.named_arrays())
    net.history = header.get("history", {})
    net.training_info = header.get("training", {})
    net.seed = seed
    return net


def fill_arrays(path, arrays, targets, exact=True):
    """Copy ``arrays`` into ``targets`` (both ``{name: array}``) after checking that every target
    has an array of its shape (and, with ``exact``, that there are no others); the error names
    the file and what differs. Nothing is copied unless everything matches."""
    missing = sorted(set(targets) - set(arrays))
    extra = sorted(set(arrays) - set(targets)) if exact else []
    if missing or extra:
        raise ModelFileError(
            f"{path}: arrays do not match the architecture (missing {missing}, unexpected {extra})"
        )
    for name, target in targets.items():
        if arrays[name].shape != target.shape:
            raise ModelFileError(
                f"{path}: array {name} has shape {arrays[name].shape}, the architecture needs "
                f"{target.shape}"
            )
    for name, target in targets.items():
        target[...] = arrays[name]
