"""Find, download, load and split the MNIST handwritten digits.

MNIST is four gzip IDX files: 60,000 training and 10,000 test images of 28x28 grey pixels
(uint8, 0 = background) and their labels 0-9. They are looked for in :func:`data_home` and
fetched from the public mirrors below when missing.
"""

import functools
import numbers
import os
from pathlib import Path

import numpy as np

from barenet.data.download import download as download_file
from barenet.data.idx import read_idx
from barenet.errors import DataError, DataNotFoundError

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# The four files in the order load_mnist returns them, with the published MD5 of each .gz.
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

IMAGE_SHAPE = (28, 28)
N_PIXELS = 28 * 28
N_CLASSES = 10


def data_home(data_dir=None):
    """The folder that holds (or will hold) the four MNIST files.

    In order: ``data_dir`` if given, else ``$BARENET_DATA``, else the per-user cache
    ``$XDG_CACHE_HOME/barenet`` (default ``~/.cache/barenet``). A folder that holds MNIST files
    or is named ``mnist`` is used as is; any other folder is a root whose ``mnist/`` is used.
    """
    if data_dir is None:
        data_dir = os.environ.get("BARENET_DATA") or _cache_root()
    folder = Path(data_dir).expanduser()
    if folder.name == "mnist" or any(_find(folder, name) for name in FILES):
        return folder
    return folder / "mnist"


def _cache_root():
    """``$XDG_CACHE_HOME/barenet``, or ``~/.cache/barenet`` when the variable is not set."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "barenet"


def _find(folder, name):
    """The path of ``name`` in ``folder``, or of its uncompressed twin; None if neither exists."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def download_mnist(data_dir=None, mirrors=None, progress=True, checksums=None):
    """Download the MNIST files missing from :func:`data_home` and return that folder.

    ``mirrors`` are base URLs tried in order (default :data:`MIRRORS`); ``checksums`` maps each
    file name to the MD5 its download must have (default :data:`MD5`, the published ones).
    Files already present are kept and not checked. Raises :class:`DataNotFoundError` when a
    file cannot be fetched from any mirror.
    """
    folder = data_home(data_dir)
    _download_missing(folder, mirrors, checksums, progress)
    return folder


def _download_missing(folder, mirrors, checksums, progress):
    """Fetch into ``folder`` each MNIST file it lacks, checking the MD5 of what is fetched."""
    # The defaults are looked up at call time so that tests can point them at a local server.
    mirrors = MIRRORS if mirrors is None else mirrors
    checksums = MD5 if checksums is None else checksums
    for name in FILES:
        if _find(folder, name) is None:
            urls = [base.rstrip("/") + "/" + name for base in mirrors]
            download_file(urls, folder / name, md5=checksums.get(name), progress=progress)


def load_mnist(data_dir=None, download=True, progress=True):
    """Load MNIST as raw uint8 arrays ``X_train, y_train, X_test, y_test``.

    Shapes are ``(60000, 28, 28), (60000,), (10000, 28, 28), (10000,)`` for the real data.
    Missing files are downloaded when ``download`` is true. Raises :class:`DataNotFoundError`
    saying where it looked when the files are absent, :class:`DataError` when they are invalid.
    The arrays are fresh copies: changing them does not affect later calls.
    """
    return tuple(array.copy() for array in _load_raw(data_dir, download, progress))


def _load_raw(data_dir, download, progress):
    """The four MNIST arrays, shared with the in-process cache: callers must not modify them."""
    folder = data_home(data_dir)
    missing = [name for name in FILES if _find(folder, name) is None]
    if missing and not download:
        raise DataNotFoundError(_not_found_message(folder, missing))
    if missing:
        try:
            _download_missing(folder, None, None, progress)
        except DataNotFoundError as exc:
            raise DataNotFoundError(f"{_not_found_message(folder, missing)}\n{exc}") from exc
    paths = [_find(folder, name).resolve() for name in FILES]
    # Keyed by path, size and modification time so that a replaced file is read again.
    key = tuple((str(path), path.stat().st_size, path.stat().st_mtime_ns) for path in paths)
    return _read_checked(key)


def _not_found_message(folder, missing):
    """Where MNIST was looked for, what is missing and the three ways to provide it."""
    return (
        f"MNIST not found: {folder} lacks {', '.join(missing)}. Provide the data by setting "
        "BARENET_DATA to a folder holding mnist/, passing data_dir to the folder holding the "
        "four .gz files, or running `barenet download`."
    )


@functools.lru_cache(maxsize=2)
def _read_checked(key):
    """Read the four files named in ``key`` and check that they form a valid MNIST set."""
    paths = [Path(path) for path, _, _ in key]
    arrays = [read_idx(path) for path in paths]
    _check_pair(arrays[0], arrays[1], paths[0], paths[1])
    _check_pair(arrays[2], arrays[3], paths[2], paths[3])
    for array in arrays:
        array.flags.writeable = False
    return tuple(arrays)


def _check_pair(images, labels, images_path, labels_path):
    """Check one images/labels pair: uint8 (n, 28, 28) images, n uint8 labels in 0-9."""
    if images.dtype != np.uint8 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(
            f"{images_path}: expected uint8 images of shape (n, 28, 28), "
            f"got {images.dtype} array of shape {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(
            f"{labels_path}: expected a uint8 vector of labels, "
            f"got {labels.dtype} array of shape {labels.shape}"
        )
    if len(labels) != len(images):
        raise DataError(
            f"{labels_path}: {len(labels)} labels for the {len(images)} images of {images_path}"
        )
    if len(labels) and labels.max() >= N_CLASSES:
        raise DataError(f"{labels_path}: label {labels.max()} out of range, expected 0 to 9")


def load_and_preprocess_mnist(data_dir=None, validation_size=10000, seed=42, dtype=np.float32):
    """MNIST ready for training: ``X_train, X_val, X_test, y_train, y_val, y_test``.

    Images are flattened to ``(n, 784)`` and scaled to [0, 1] in ``dtype``; labels are int64.
    The validation set is ``validation_size`` training images drawn by a permutation from
    ``np.random.default_rng(seed)``, so the default split is 50,000 / 10,000 / 10,000.
    Missing files are downloaded as by :func:`load_mnist`.
    """
    if isinstance(validation_size, bool) or not isinstance(validation_size, numbers.Integral):
        raise DataError(f"validation_size must be an integer, got {validation_size!r}")
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise DataError(f"dtype must be a floating-point type, got {dtype}")
    X_train, y_train, X_test, y_test = _load_raw(data_dir, download=True, progress=True)
    if not 0 <= validation_size < len(X_train):
        raise DataError(
            f"validation_size must be from 0 to {len(X_train) - 1} (there are {len(X_train)} "
            f"training images), got {validation_size}"
        )
    order = np.random.default_rng(seed).permutation(len(X_train))
    val, train = order[:validation_size], order[validation_size:]
    return (
        _to_features(X_train[train], dtype),
        _to_features(X_train[val], dtype),
        _to_features(X_test, dtype),
        y_train[train].astype(np.int64),
        y_train[val].astype(np.int64),
        y_test.astype(np.int64),
    )


def _to_features(images, dtype):
    """uint8 images ``(n, 28, 28)`` -> a new ``(n, 784)`` array in [0, 1] of ``dtype``."""
    # Computing in the target dtype writes one output array, with no float64 intermediate.
    return np.divide(images.reshape(-1, N_PIXELS), dtype.type(255), dtype=dtype)
