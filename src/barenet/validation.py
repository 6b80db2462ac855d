"""Checks at the public boundary: every argument a user passes is validated here, once.

Each check returns the cleaned value (an array of the right dtype and shape, an int, a float) or
raises :class:`~barenet.errors.DataError` / :class:`~barenet.errors.BarenetError` with a
message that says what was expected and what was given, e.g. ``learning_rate must be > 0, got
-1``. :func:`number` checks any range of real numbers; the others are its common cases.
"""

import math
import numbers
import os
import warnings

import numpy as np

from barenet.errors import BarenetError, DataError


def positive_int(name, value, minimum=1):
    """An integer >= ``minimum`` (bools and floats such as 2.5 are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise BarenetError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise BarenetError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def number(name, value, low=None, high=None, low_inclusive=True, high_inclusive=True):
    """A finite real number within the bounds given (None: no bound on that side), as a float.

    The message names the whole range: ``momentum must be >= 0 and < 1, got 1.5``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise BarenetError(f"{name} must be a finite number, got {value!r}")
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        bounds = []
        if low is not None:
            bounds.append(f"{'>=' if low_inclusive else '>'} {low:g}")
        if high is not None:
            bounds.append(f"{'<=' if high_inclusive else '<'} {high:g}")
        raise BarenetError(f"{name} must be {' and '.join(bounds)}, got {value}")
    return float(value)


def positive_float(name, value, allow_zero=False):
    """A finite real number > 0 (or >= 0 with ``allow_zero``)."""
    return number(name, value, low=0, low_inclusive=allow_zero)


def fraction(name, value, allow_zero=True):
    """A number in [0, 1), or in (0, 1) without ``allow_zero``."""
    value = positive_float(name, value, allow_zero)
    if value >= 1:
        raise BarenetError(f"{name} must be in {'[' if allow_zero else '('}0, 1), got {value}")
    return value


def hidden_sizes(value):
    """A list of positive layer widths; an int alone means one hidden layer."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise BarenetError(f"hidden_sizes must be a list of positive integers, got {value!r}")
    return [positive_int("each hidden size", h) for h in value]


def class_names(value, n_classes):
    """A list of ``n_classes`` distinct non-empty strings; None gives ``["0", "1", ...]``."""
    if value is None:
        return [str(k) for k in range(n_classes)]
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise BarenetError(f"class_names must be a list of strings, got {value!r}")
    names = list(value)
    if len(names) != n_classes:
        raise BarenetError(f"class_names must name the {n_classes} classes, got {len(names)} names")
    if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        raise BarenetError(f"class_names must be distinct non-empty strings, got {names!r}")
    return names


def image_shape(value, n_features, required=False, what="inputs"):
    """``[height, width]`` with ``height * width == n_features``.

    None guesses a square image; when ``n_features`` is not a square number that guess is
    None, or, with ``required``, an error asking for the shape (``what`` names the features
    in the messages: "inputs", "pixels per row"...). ``False`` says the features are no image:
    None, whatever their number.
    """
    if value is False:
        return None
    if value is None:
        side = math.isqrt(n_features)
        if side * side == n_features:
            return [side, side]
        if required:
            raise DataError(
                f"{n_features} {what} are not a square image: pass image_shape=(height, width)"
            )
        return None
    shape = value if hasattr(value, "__iter__") and not isinstance(value, str) else [value]
    shape = [positive_int("each image_shape side", side) for side in shape]
    if len(shape) != 2 or shape[0] * shape[1] != n_features:
        raise DataError(
            f"image_shape must be (height, width) with height * width = {n_features} {what}, "
            f"got {value!r}"
        )
    return shape


def choice(name, value, options):
    """One of ``options`` (a name table), with the valid names in the message."""
    if value not in options:
        raise BarenetError(f"unknown {name} {value!r}; choose one of {sorted(options)}")
    return value


def input_shape(value):
    """A network's per-sample input shape: an int (features) or a tuple of positive ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise BarenetError(
            f"input_shape must be an int or a tuple such as (28, 28, 1), got {value!r}"
        )
    shape = tuple(positive_int("each input_shape size", n) for n in value)
    if not shape:
        raise BarenetError("input_shape must not be empty")
    return shape


def layer_list(layers, layer_class):
    """A non-empty list of layer objects, each used once (a layer holds its own buffers)."""
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise BarenetError(f"layers must be a list of layer objects, got {layers!r}")
    layers = list(layers)
    if not layers:
        raise BarenetError("layers must hold at least one layer")
    for i, layer in enumerate(layers):
        if not isinstance(layer, layer_class):
            raise BarenetError(
                f"layers[{i}] must be a layer from barenet.nn (Dense(10), ReLU()...), got {layer!r}"
            )
    if len({id(layer) for layer in layers}) != len(layers):
        raise BarenetError("each layer object may appear only once in a network")
    return layers


def features(X, n_features, dtype, name="X", finite=True, shape=None):
    """``X`` as a C-contiguous ``(n_samples, n_features)`` array of ``dtype``, finite, non-empty.

    With ``shape`` (a network's per-sample input shape such as ``(28, 28, 1)``), arrays
    ``(n_samples, *shape)`` are accepted too and returned flat, row-major.

    A copy is made only when the dtype or layout requires one; the caller's array is never changed.
    ``finite=False`` leaves the NaN/infinity test to the caller (prediction checks its outputs
    instead, which is cheaper, and calls :func:`require_finite` only when they are not finite).
    """
    try:
        X = np.asarray(X)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name} must be an array of numbers: {exc}") from None
    real = np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)
    if not (real or X.dtype == bool):
        raise DataError(f"{name} must hold real numbers, got dtype {X.dtype}")
    if shape is not None and len(shape) > 1 and X.shape[1:] == tuple(shape):
        X = X.reshape(len(X), -1)
    if X.ndim != 2:
        hint = f"; for a single sample use {name}.reshape(1, -1)" if X.ndim == 1 else ""
        if X.ndim == 3 and X.shape[1] * X.shape[2] == n_features:
            hint = f"; flatten images with {name}.reshape(len({name}), -1)"
        raise DataError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}{hint}")
    if X.shape[0] == 0:
        raise DataError(f"{name} is empty (0 samples)")
    if X.shape[1] != n_features:
        raise DataError(f"{name} has {X.shape[1]} features, the network expects {n_features}")
    X = np.ascontiguousarray(X, dtype=dtype)
    if finite:
        require_finite(X, name)
    return X


def require_finite(X, name="X"):
    """Raise :class:`DataError` with the count when ``X`` holds NaN or infinite values."""
    # In slices of about 1 MB: one boolean array the size of X would cost more in page faults
    # than the test itself.
    rows = max(1, 2**20 // max(X.shape[1], 1))
    if not all(np.isfinite(X[i : i + rows]).all() for i in range(0, len(X), rows)):
        bad = int(np.count_nonzero(~np.isfinite(X)))
        raise DataError(f"{name} contains {bad} NaN or infinite values")


def labels(y, n_samples, n_classes, name="y", x_name="X"):
    """Integer labels ``(n_samples,)`` in ``[0, n_classes)``, from integers or one-hot rows."""
    try:
        y = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name} must be an array of labels: {exc}") from None
    if y.ndim == 2 and y.shape[1] == n_classes and n_classes > 1:
        y = _from_one_hot(y, name)
    if y.ndim != 1:
        raise DataError(
            f"{name} must be 1-D class labels or one-hot rows (n, {n_classes}), got shape {y.shape}"
        )
    if len(y) != n_samples:
        raise DataError(f"{name} has {len(y)} labels but {x_name} has {n_samples} samples")
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise DataError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating):
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            raise DataError(f"{name} must hold whole-number class labels, found fractions or NaN")
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise DataError(
            f"{name} has labels in [{y.min():g}, {y.max():g}], expected 0..{n_classes - 1}"
        )
    return y.astype(np.intp, copy=False)


def targets(y, n_samples, n_outputs, dtype, name="y", x_name="X"):
    """Regression targets as a float array ``(n_samples, n_outputs)`` of ``dtype``; a 1-D ``y``
    is one output per sample. The caller's array is never modified."""
    try:
        y = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name} must be an array of numbers: {exc}") from None
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool) or y.dtype.kind == "c":
        raise DataError(f"{name} must hold real numbers for regression, got dtype {y.dtype}")
    given = y.shape
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[1] != n_outputs:
        shapes = f"({n_samples},) or " if n_outputs == 1 else ""
        raise DataError(
            f"{name} must have shape {shapes}({n_samples}, {n_outputs}) for a network with "
            f"{n_outputs} output(s), got shape {given}"
        )
    if len(y) != n_samples:
        raise DataError(f"{name} has {len(y)} targets but {x_name} has {n_samples} samples")
    y = np.ascontiguousarray(y, dtype=dtype)
    require_finite(y, name)
    return y


def _from_one_hot(Y, name):
    if not np.isin(Y, (0, 1)).all() or (Y.sum(axis=1) != 1).any():
        raise DataError(f"{name} looks one-hot encoded but some rows are not a single 1 among 0s")
    return Y.argmax(axis=1)


def dataset(X, y, n_features, n_classes, dtype, names=("X", "y"), finite=True):
    """Validate a pair ``(X, y)`` together."""
    X = features(X, n_features, dtype, names[0], finite)
    return X, labels(y, len(X), n_classes, names[1], names[0])


# Inputs from about 0 (a background) to more than this are almost surely 8-bit pixels that were
# not divided by 255: the first steps then blow the network up (a loss of 4e19, then 2.30).
UNSCALED_MAX = 25.0


def warn_if_unscaled(X, name="X", stacklevel=4):
    """Warn (``UserWarning``) when ``X`` looks like pixels on the 0-255 scale, or features in
    the tens or thousands: its smallest value in [0, 1] (a background) and its largest above
    :data:`UNSCALED_MAX`; the message names the range found. Returns ``(low, high)``.
    ``stacklevel`` points the warning at the caller's line (4: the line that called
    ``NeuralNetwork.train``)."""
    low, high = float(X.min()), float(X.max())
    if 0 <= low <= 1 and high > UNSCALED_MAX:
        warnings.warn(
            f"{name} ranges from {low:g} to {high:g}: inputs this large make training diverge "
            "or stall; scale pixels on the 0-255 scale to [0, 1] (divide by 255), and "
            "standardise features (mean 0, standard deviation 1 per column)",
            UserWarning,
            stacklevel=stacklevel,
        )
    return low, high


class InputRangeWarning(UserWarning):
    """Inputs far outside the range a network was trained on: its answers on them mean little
    (a network trained on pixels in [0, 1], asked about pixels on the 0-255 scale, answers
    with confidence, and wrongly)."""


# How far outside the training range inputs may reach, in widths of that range, before a
# warning: pixels times 255 reach 254 widths beyond [0, 1]; standardised columns of scikit-learn's
# digits whose training rows hardly vary reach 1.6 widths beyond theirs on held-out rows.
OUTSIDE_WIDTHS = 3.0


def warn_if_outside(X, value_range, name="X", stacklevel=2):
    """Warn (:class:`InputRangeWarning`) when the values of ``X`` reach more than
    :data:`OUTSIDE_WIDTHS` widths of ``value_range`` ``[low, high]`` (the training inputs')
    below ``low`` or above ``high``; the message names both ranges. Returns whether it warned."""
    low, high = value_range
    width = high - low if high > low else max(abs(low), 1.0)
    with np.errstate(invalid="ignore"):  # NaN is reported elsewhere, by name
        smallest, largest = float(np.min(X)), float(np.max(X))
    margin = OUTSIDE_WIDTHS * width
    if not (smallest < low - margin or largest > high + margin):
        return False
    warnings.warn(
        f"{name} ranges from {smallest:g} to {largest:g}, far outside the inputs this network "
        f"was trained on ({low:g} to {high:g}): its answers on them mean little; give inputs "
        "prepared as its training data was (pixels on the 0-255 scale: divide by 255)",
        InputRangeWarning,
        stacklevel=stacklevel,
    )
    return True


# -- memory -------------------------------------------------------------------------------------

# Copies of the parameter vector a network keeps: the parameters, their gradients, the decay
# mask, the optimizer's work buffer and up to two moments (Adam's); what is allocated at once.
PARAMETER_COPIES = 6
# Rows of the batch whose outputs and gradients each layer keeps in its work buffers.
ESTIMATE_BATCH = 128


def memory_needed(layers, dtype):
    """Bytes a network of ``layers`` (their shapes chained) needs to train: every copy of its
    parameters (:data:`PARAMETER_COPIES`) and each layer's output and its gradient for a batch
    of :data:`ESTIMATE_BATCH` rows. An estimate, from the shapes alone: nothing is allocated."""
    itemsize = np.dtype(dtype).itemsize
    parameters = sum(math.prod(shape) for layer in layers for shape, _ in
                     layer.param_shapes().values())  # fmt: skip
    outputs = sum(math.prod(layer.output_shape) for layer in layers)
    return parameters, itemsize * (PARAMETER_COPIES * parameters + 2 * ESTIMATE_BATCH * outputs)


def available_memory():
    """Bytes of memory available to a new allocation (Linux's ``MemAvailable``, else the free
    physical pages), or None when the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory_fits(layers, dtype):
    """Refuse (:class:`BarenetError`, with the figures) a network whose estimated memory
    (:func:`memory_needed`) exceeds what is available, before any of it is allocated."""
    available = available_memory()
    parameters, needed = memory_needed(layers, dtype)
    if available is not None and needed > available:
        raise BarenetError(
            f"this network needs about {_bytes(needed)} of memory to train ({parameters:,} "
            f"parameters in {np.dtype(dtype).name}, with their gradients and the optimizer's "
            f"state), more than the {_bytes(available)} available: make its layers narrower "
            "or fewer"
        )


def _bytes(count):
    """``"1.5 GB"``, ``"240 MB"``: a size in bytes, in decimal units."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"
