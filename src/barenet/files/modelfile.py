"""Model files: a network's layers, weights and history, in the format of
:mod:`barenet.files.archive`.

The JSON header says how to rebuild the network and how it was trained: ``architecture`` is
its configuration (input shape, the layer list with each layer's settings, optimizer,
penalties, class names), ``training`` the record of its last run and ``history`` the figures
per epoch. The arrays are its parameters and batch-norm statistics under their names
(``layers.0.W``...). Checkpoints extend the same header and arrays (see
:mod:`barenet.train.checkpoint`).

``preprocessing`` (in model files written since it came; older files have none, and load as
networks that take their inputs as they are) says what the network does to its inputs and
outputs in its prediction methods: ``{"inputs": "standardized"}`` (and ``"outputs"``, for
regression targets), the statistics being the arrays ``preprocessing.inputs.mean``,
``preprocessing.inputs.scale`` (``preprocessing.outputs.*``); and ``"input_range"``, the lowest
and highest input value seen in training, which predictions are compared with.

Format version 1 (files written before the layer list) stored the original constructor's
arguments (``input_size``, ``hidden_sizes``...) as the architecture; those files still load,
through the same constructor, into the same layers and array names.
"""

from barenet.errors import BarenetError, ModelFileError
from barenet.files.archive import load_arrays, save_arrays
from barenet.scaling import Standardization

PREPROCESSING = "preprocessing"  # the header section, and the prefix of its arrays
SCALINGS = {"inputs": "input_scaling", "outputs": "output_scaling"}  # its parts: attributes


def file_header(net):
    """What a model file says besides its arrays: how to rebuild it and how it was trained."""
    return {
        "architecture": net.get_config(),
        "history": net.history,
        "training": net.training_info.to_dict(),
    }


def save_network(net, path):
    """Write ``net`` to ``path`` atomically (see :func:`barenet.files.archive.save_arrays`),
    with its preprocessing (standardisation, input range) when it has any."""
    header, arrays = file_header(net), dict(net.named_arrays())
    section = {}
    for part, attribute in SCALINGS.items():
        scaling = getattr(net, attribute, None)
        if scaling is not None:
            section[part] = "standardized"
            arrays[f"{PREPROCESSING}.{part}.mean"] = scaling.mean
            arrays[f"{PREPROCESSING}.{part}.scale"] = scaling.scale
    if getattr(net, "input_range", None) is not None:
        section["input_range"] = [float(v) for v in net.input_range]
    if section:
        header[PREPROCESSING] = section
    save_arrays(path, header, arrays, kind="model")


def read_preprocessing(path, header, arrays):
    """``{attribute: value}`` of the preprocessing the file at ``path`` records (see the
    module), taking its arrays out of ``arrays``: ``input_scaling``, ``output_scaling`` and
    ``input_range``, None for what it does not record (every one, for older files)."""
    section = header.get(PREPROCESSING, {})
    if not isinstance(section, dict):
        raise ModelFileError(f"{path}: the header's {PREPROCESSING} is not an object")
    found = dict.fromkeys([*SCALINGS.values(), "input_range"])
    for part, attribute in SCALINGS.items():
        names = [f"{PREPROCESSING}.{part}.{key}" for key in ("mean", "scale")]
        if section.get(part) is None and not any(name in arrays for name in names):
            continue
        if section.get(part) != "standardized" or not all(name in arrays for name in names):
            raise ModelFileError(
                f"{path}: the {PREPROCESSING} of its {part} is incomplete or unknown "
                f"({section.get(part)!r})"
            )
        try:
            found[attribute] = Standardization(*(arrays.pop(name) for name in names))
        except BarenetError as exc:
            raise ModelFileError(f"{path}: the standardisation of its {part}: {exc}") from None
    value_range = section.get("input_range")
    if value_range is not None:
        valid = isinstance(value_range, list) and len(value_range) == 2
        if not valid or not all(isinstance(v, (int, float)) for v in value_range):
            raise ModelFileError(f"{path}: input_range must be [low, high], got {value_range!r}")
        found["input_range"] = [float(v) for v in value_range]
    return found


def check_preprocessing(path, net, found):
    """Refuse statistics that do not fit ``net``: one column per input or per output."""
    sizes = {"input_scaling": net.input_size, "output_scaling": net.output_size}
    for attribute, size in sizes.items():
        scaling = found[attribute]
        if scaling is not None and scaling.size != size:
            raise ModelFileError(
                f"{path}: its {attribute.replace('_', ' ')} has {scaling.size} columns, the "
                f"network {size}"
            )
    if found["output_scaling"] is not None and not net.is_regression:
        raise ModelFileError(f"{path}: a classifier with a standardisation of its outputs")


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
    preprocessing = read_preprocessing(path, header, arrays)
    check_preprocessing(path, net, preprocessing)
    fill_arrays(path, arrays, net.named_arrays())
    for attribute, value in preprocessing.items():
        setattr(net, attribute, value)
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
