"""Model files: a network's layers, weights and history, in the format of
:mod:`barenet.files.archive`.

The JSON header says how to rebuild the network and how it was trained: ``architecture`` is
its configuration (input shape, the layer list with each layer's settings, optimizer,
penalties, class names), ``training`` the record of its last run and ``history`` the figures
per epoch. The arrays are its parameters and batch-norm statistics under their names
(``layers.0.W``...). Checkpoints extend the same header and arrays (see
:mod:`barenet.train.checkpoint`).

Format version 1 (files written before the layer list) stored the original constructor's
arguments (``input_size``, ``hidden_sizes``...) as the architecture; those files still load,
through the same constructor, into the same layers and array names.
"""

from barenet.errors import ModelFileError
from barenet.files.archive import load_arrays, save_arrays


def file_header(net):
    """What a model file says besides its arrays: how to rebuild it and how it was trained."""
    return {
        "architecture": net.get_config(),
        "history": net.history,
        "training": net.training_info.to_dict(),
    }


def save_network(net, path):
    """Write ``net`` to ``path`` atomically (see :func:`barenet.files.archive.save_arrays`)."""
    save_arrays(path, file_header(net), net.named_arrays(), kind="model")


def build_from_header(path, header, network_class):
    """A freshly initialised ``network_class`` instance of the architecture in ``header``."""
    try:
        config = dict(header["architecture"])
        if "layers" in config:  # format 2: the layer list
            return network_class.from_config(config)
        return network_class(**config)  # format 1: the original constructor's arguments
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: invalid architecture in the model header: {exc}") from None


def load_network(path, network_class):
    """Rebuild the network saved at ``path`` as an instance of ``network_class``.

    The training record is returned as the file holds it (a dict) in ``net.training_info``.
    """
    header, arrays = load_arrays(path, kind="model")
    net = build_from_header(path, header, network_class)
    fill_arrays(path, arrays, net.named_arrays())
    net.history = header.get("history", {})
    net.training_info = header.get("training", {})
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
