"""Find, download, load and split the MNIST handwritten digits.

MNIST is four gzip IDX files: 60,000 training and 10,000 test images of 28x28 grey pixels
(uint8, 0 = background) and their labels 0-9. They are looked for in :func:`data_home` and
fetched from the public mirrors below when missing.
"""

import numpy as np

from barenet.data.families import (
    IdxFamily,
    base_folder,
    download_missing,
    family_home,
    find_file,
    load_family,
    split_features,
)

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

N_CLASSES = 10

MNIST = IdxFamily(
    name="mnist",
    folder="mnist",
    mirrors=MIRRORS,
    files=FILES,
    md5=MD5,
    class_names=tuple(str(digit) for digit in range(N_CLASSES)),
)


def data_home(data_dir=None):
    """The folder that holds (or will hold) the four MNIST files.

    In order: ``data_dir`` if given, else ``$BARENET_DATA``, else the per-user cache
    ``$XDG_CACHE_HOME/barenet`` (default ``~/.cache/barenet``). A folder that holds MNIST files
    or is named ``mnist`` is used as is; any other folder is a root whose ``mnist/`` is used.
    """
    folder = base_folder(data_dir)
    if any(find_file(folder, name) for name in FILES):
        return folder
    return family_home(MNIST, folder)


def download_mnist(data_dir=None, mirrors=None, progress=True, checksums=None):
    """Download the MNIST files missing from :func:`data_home` and return that folder.

    ``mirrors`` are base URLs tried in order (default :data:`MIRRORS`); ``checksums`` maps each
    file name to the MD5 its download must have (default :data:`MD5`, the published ones).
    Files already present are kept and not checked. Raises :class:`DataNotFoundError` when a
    file cannot be fetched from any mirror.
    """
    folder = data_home(data_dir)
    mirrors = MIRRORS if mirrors is None else mirrors
    checksums = MD5 if checksums is None else checksums
    download_missing(MNIST, folder, mirrors, checksums, progress)
    return folder


def load_mnist(data_dir=None, download=True, progress=True):
    """Load MNIST as raw uint8 arrays ``X_train, y_train, X_test, y_test``.

    Shapes are ``(60000, 28, 28), (60000,), (10000, 28, 28), (10000,)`` for the real data.
    Missing files are downloaded when ``download`` is true. Raises :class:`DataNotFoundError`
    saying where it looked when the files are absent, :class:`DataError` when they are invalid.
    The arrays are fresh copies: changing them does not affect later calls.
    """
    return tuple(array.copy() for array in load_shared(data_dir, download, progress))


def load_shared(data_dir=None, download=True, progress=True):
    """The four MNIST arrays as :func:`load_mnist` gives them, but shared with the in-process
    cache rather than copied (the files are read once per process): do not modify them."""
    # The mirrors and checksums are looked up at call time so that tests can point them at a
    # local server.
    return load_family(MNIST, data_home(data_dir), download, progress, MIRRORS, MD5)


def load_and_preprocess_mnist(data_dir=None, validation_size=10000, seed=42, dtype=np.float32):
    """MNIST ready for training: ``X_train, X_val, X_test, y_train, y_val, y_test``.

    Images are flattened to ``(n, 784)`` and scaled to [0, 1] in ``dtype``; labels are int64.
    The validation set is ``validation_size`` training images drawn by a permutation from
    ``np.random.default_rng(seed)``, so the default split is 50,000 / 10,000 / 10,000.
    Missing files are downloaded as by :func:`load_mnist`.
    """
    raw = load_shared(data_dir, download=True, progress=True)
    return split_features(raw, validation_size, seed, dtype, scale=255)
