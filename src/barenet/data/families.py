"""IDX image families: data sets laid out like MNIST, found, downloaded and read the same way.

A family is four gzip IDX files (training images and labels, test images and labels) of
``(n, 28, 28)`` uint8 images and uint8 labels, published on some mirrors with their MD5 sums.
MNIST, Fashion-MNIST and KMNIST serve the four files themselves; EMNIST serves one ZIP archive
holding the files of all its splits, from which the four of a split are extracted.
"""

import functools
import numbers
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from barenet.data.download import download as download_file
from barenet.data.idx import read_idx
from barenet.errors import DataError, DataNotFoundError


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per family
class IdxFamily:
    """Where one IDX data set lives and what its files must contain.

    ``files`` are the training images, training labels, test images and test labels, in that
    order. ``md5`` maps each downloaded file (the four, or ``archive``) to its published MD5.
    ``transpose`` marks images stored column by column (EMNIST); ``label_offset`` is subtracted
    from the stored labels so that classes count from 0 (EMNIST letters are stored as 1-26).
    """

    name: str
    folder: str
    mirrors: tuple
    files: tuple
    md5: dict
    class_names: tuple
    archive: str | None = None
    archive_folder: str = ""
    transpose: bool = False
    label_offset: int = 0
    image_shape: tuple = (28, 28)


def cache_root():
    """``$XDG_CACHE_HOME/barenet``, or ``~/.cache/barenet`` when the variable is not set."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "barenet"


def base_folder(data_dir=None):
    """``data_dir`` if given, else ``$BARENET_DATA``, else the cache (:func:`cache_root`)."""
    if data_dir is None:
        data_dir = os.environ.get("BARENET_DATA") or cache_root()
    return Path(data_dir).expanduser()


def family_home(family, data_dir=None):
    """The folder that holds (or will hold) the files of ``family``.

    A :func:`base_folder` named after the family (``mnist``, ``fashion-mnist``...) is used as
    is; any other is a root whose sub-folder of that name is used.
    """
    folder = base_folder(data_dir)
    return folder if folder.name == family.folder else folder / family.folder


def find_file(folder, name):
    """The path of ``name`` in ``folder``, or of its uncompressed twin; None if neither exists."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def missing_files(family, folder):
    """The names of the four files of ``family`` that ``folder`` lacks."""
    return [name for name in family.files if find_file(folder, name) is None]


def download_missing(family, folder, mirrors=None, checksums=None, progress=True):
    """Fetch into ``folder`` each file of ``family`` it lacks, checking the MD5 of each download.

    ``mirrors`` (base URLs) and ``checksums`` (file name -> MD5) default to the family's own.
    """
    mirrors = family.mirrors if mirrors is None else mirrors
    checksums = family.md5 if checksums is None else checksums
    missing = missing_files(family, folder)
    if family.archive and missing:
        _extract_from_archive(family, folder, missing, mirrors, checksums, progress)
        return
    for name in missing:
        urls = [base.rstrip("/") + "/" + name for base in mirrors]
        download_file(urls, folder / name, md5=checksums.get(name), progress=progress)


def _extract_from_archive(family, folder, names, mirrors, checksums, progress):
    """Download ``family.archive`` (unless present) and extract ``names`` from it into ``folder``.

    Each member is written under a temporary name and renamed, so an interrupted extraction
    leaves no partial file behind.
    """
    archive = folder / family.archive
    if not archive.is_file():
        urls = [base.rstrip("/") + "/" + family.archive for base in mirrors]
        download_file(urls, archive, md5=checksums.get(family.archive), progress=progress)
    try:
        with zipfile.ZipFile(archive) as bundle:
            for name in names:
                member = f"{family.archive_folder}{name}"
                temporary = folder / f".{name}.part"
                with bundle.open(member) as source, open(temporary, "wb") as out:
                    while chunk := source.read(1 << 20):
                        out.write(chunk)
                os.replace(temporary, folder / name)
    except KeyError:
        raise DataError(f"{archive}: the archive has no member {member}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(f"{archive}: cannot extract {names}: {exc}") from exc


def load_family(family, folder, download=True, progress=True, mirrors=None, checksums=None):
    """The four arrays of ``family`` in ``folder``: ``X_train, y_train, X_test, y_test``.

    Images are ``(n, 28, 28)`` uint8 and upright, labels uint8 counting from 0; the arrays are
    read-only and shared with an in-process cache (copy before modifying). Missing files are
    downloaded (see :func:`download_missing`) when ``download`` is true. Raises
    :class:`DataNotFoundError` saying where it looked when they are absent and
    :class:`DataError` when they are invalid.
    """
    missing = missing_files(family, folder)
    if missing and not download:
        raise DataNotFoundError(not_found_message(family, folder, missing))
    if missing:
        try:
            download_missing(family, folder, mirrors, checksums, progress)
        except DataNotFoundError as exc:
            message = not_found_message(family, folder, missing)
            raise DataNotFoundError(f"{message}\n{exc}") from exc
    paths = [find_file(folder, name).resolve() for name in family.files]
    # Keyed by path, size and modification time so that a replaced file is read again.
    key = tuple((str(path), path.stat().st_size, path.stat().st_mtime_ns) for path in paths)
    return _read_checked(family, key)


def not_found_message(family, folder, missing):
    """Where a family was looked for, what is missing and the ways to provide it."""
    command = "barenet download" + ("" if family.name == "mnist" else f" --dataset {family.name}")
    return (
        f"{family.name} not found: {folder} lacks {', '.join(missing)}. Provide the data by "
        f"setting BARENET_DATA to a folder holding {family.folder}/, passing data_dir to the "
        f"folder holding the files, or running `{command}`."
    )


@functools.lru_cache(maxsize=4)
def _read_checked(family, key):
    """Read the four files named in ``key`` and check that they form a valid set of ``family``."""
    paths = [Path(path) for path, _, _ in key]
    arrays = [read_idx(path) for path in paths]
    check_pair(family, arrays[0], arrays[1], paths[0], paths[1])
    check_pair(family, arrays[2], arrays[3], paths[2], paths[3])
    X_train, y_train, X_test, y_test = arrays
    if family.transpose:
        # Stored column by column: swapping the axes stands the characters upright.
        X_train, X_test = (np.ascontiguousarray(X.transpose(0, 2, 1)) for X in (X_train, X_test))
    if family.label_offset:
        y_train, y_test = (y - np.uint8(family.label_offset) for y in (y_train, y_test))
    arrays = (X_train, y_train, X_test, y_test)
    for array in arrays:
        array.flags.writeable = False
    return arrays


def check_pair(family, images, labels, images_path, labels_path):
    """Check one images/labels pair: uint8 (n, 28, 28) images, n uint8 labels naming a class."""
    shape = family.image_shape
    if images.dtype != np.uint8 or images.shape[1:] != shape:
        raise DataError(
            f"{images_path}: expected uint8 images of shape (n, {shape[0]}, {shape[1]}), "
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
    low, high = family.label_offset, family.label_offset + len(family.class_names) - 1
    if len(labels) and not low <= labels.min() <= labels.max() <= high:
        bad = labels.min() if labels.min() < low else labels.max()
        raise DataError(f"{labels_path}: label {bad} out of range, expected {low} to {high}")


def split_features(arrays, validation_size, seed, dtype, scale):
    """``X_train, y_train, X_test, y_test`` -> ``X_train, X_val, X_test, y_train, y_val, y_test``
    ready for training.

    Images are flattened to ``(n, pixels)`` and divided by ``scale`` (their largest value) in
    ``dtype``; labels become int64. The validation set is ``validation_size`` training images
    drawn by a permutation from ``np.random.default_rng(seed)``.
    """
    if isinstance(validation_size, bool) or not isinstance(validation_size, numbers.Integral):
        raise DataError(f"validation_size must be an integer, got {validation_size!r}")
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise DataError(f"dtype must be a floating-point type, got {dtype}")
    X_train, y_train, X_test, y_test = arrays
    if not 0 <= validation_size < len(X_train):
        raise DataError(
            f"validation_size must be from 0 to {len(X_train) - 1} (there are {len(X_train)} "
            f"training images), got {validation_size}"
        )
    order = np.random.default_rng(seed).permutation(len(X_train))
    val, train = order[:validation_size], order[validation_size:]

    def features(images):
        # Computing in the target dtype writes one output array, with no float64 intermediate.
        n_pixels = int(np.prod(images.shape[1:]))
        return np.divide(images.reshape(len(images), n_pixels), dtype.type(scale), dtype=dtype)

    return (
        features(X_train[train]),
        features(X_train[val]),
        features(X_test),
        y_train[train].astype(np.int64),
        y_train[val].astype(np.int64),
        y_test.astype(np.int64),
    )
