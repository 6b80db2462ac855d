"""Your own data: a folder of pictures sorted by class, an ``.npz`` of arrays, or a CSV file,
split like the built-in data sets.

``load_own_data(path)`` returns a :class:`~barenet.data.Dataset`, as ``load_dataset`` does:

- a **folder** with one sub-folder of pictures per class (torchvision's ``ImageFolder`` layout:
  ``shapes/circle/1.png``, ``shapes/square/a.jpg``...): the sub-folder names, sorted, are the
  class names, and each picture is prepared by :func:`~barenet.data.images.preprocess_image`,
  the very function ``barenet predict`` and the web page use, to ``image_shape`` (28x28 unless
  told otherwise), grey, light on dark;
- an **.npz** file with ``X`` (``(n, height, width)``, ``(n, height, width, 1)`` or
  ``(n, features)``) and ``y`` (integers or strings), and optionally ``class_names``;
- a **.csv** file with a header row, a label column (``label`` unless told otherwise) and one
  numeric column per feature.

Pictures and features are told apart by the data, never by a count: a folder and an .npz ``X``
of ``(n, height, width)`` are pictures, and so are the rows of an .npz or CSV when
``image_shape`` says which shape they have (Kaggle's MNIST CSV with ``(28, 28)``); any other
rows are **features** (a table's columns), whose ``image_shape`` is None, however many there
are. Pixels stored as whole numbers from 0 to 255 (uint8 arrays, 8-bit pixels) are divided by
255; features are kept as they are (``barenet train`` standardises them, see
:mod:`barenet.scaling`). A stratified test split and validation split are held out: each class
keeps its share in every part; data too small to leave one sample for the test and one for
training is refused, with the number of samples it takes. Labels that are all integers are
sorted as numbers (``"2"`` before ``"10"``), others as text; the class names are their text.

With ``task="regression"`` the labels are numbers to predict (for a ``loss="mse"`` network):
an .npz's ``y`` of floats, ``(n,)`` or ``(n, k)`` for ``k`` targets (named by an optional
``output_names`` array), or a CSV's one target column; they are kept as they are (neither
encoded as classes nor divided by 255), and the split is a plain random one, since there are no
classes to stratify by. The result is a :class:`RegressionDataset`.
"""

import csv
import math
from pathlib import Path

import numpy as np

from barenet.data.datasets import Dataset
from barenet.data.images import preprocess_image
from barenet.data.splits import stratified_split
from barenet.errors import DataError, DataNotFoundError

TASKS = ("classification", "regression")
PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm"}
DEFAULT_IMAGE_SHAPE = (28, 28)
_SHOWN_ERRORS = 5  # bad pictures named in one message; the count says how many more


def load_own_data(
    path,
    image_shape=None,
    validation=0.1,
    test=0.2,
    seed=42,
    dtype=np.float32,
    label_column="label",
    task="classification",
):
    """Load the data at ``path`` (a folder of class sub-folders, an ``.npz``, a ``.csv``) and
    split it: a :class:`~barenet.data.Dataset` named after the folder or file.

    ``image_shape`` ``(height, width)``: the size pictures of a folder are prepared to (default
    28x28); for arrays, the pictures their flat rows are (default: an .npz's own image shape;
    else the rows are features, no image). ``test`` and ``validation`` are the fractions (in
    [0, 1)) or counts (integers) of the samples held out, per class in proportion, drawn with
    ``seed``: the test part first, so the test split does not depend on ``validation``.

    ``task="regression"``: the labels (``y``, or the CSV's ``label_column``) are numbers to
    predict, split at random; a :class:`RegressionDataset` whose ``class_names`` name its
    outputs (the CSV column, the .npz's ``output_names``, else ``"y"`` or ``"y0"``, ``"y1"``...).
    """
    path = Path(path)
    if task not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if not path.exists():
        raise DataNotFoundError(f"{path}: no such file or folder")
    if task == "regression":
        return _load_regression(path, image_shape, validation, test, seed, dtype, label_column)
    if path.is_dir():
        X, y, class_names = _read_folder(path, image_shape or DEFAULT_IMAGE_SHAPE)
        shape = tuple(image_shape or DEFAULT_IMAGE_SHAPE)
    else:
        X, raw_labels, shape, class_names = _read_file(path, label_column)
        y, class_names = _encode(raw_labels, class_names, path)
        shape = _shape_of(X, image_shape or shape, path)
        X = _as_inputs(X.reshape(len(X), -1), shape)
    if len(class_names) < 2:
        raise DataError(f"{path}: found {len(class_names)} class, a classifier needs at least 2")
    parts = _split(path, y, validation, test, seed)
    X = np.ascontiguousarray(X, dtype=dtype)
    train, val, held_out = parts
    return Dataset(
        _name(path),
        X[train],
        X[val],
        X[held_out],
        y[train].astype(np.int64),
        y[val].astype(np.int64),
        y[held_out].astype(np.int64),
        class_names=tuple(class_names),
        image_shape=None if shape is None else tuple(shape),
    )


def _name(path):
    """A data set's name: its file's without the suffix, or its folder's."""
    return path.stem if path.is_file() else path.resolve().name


def _split(path, y, validation, test, seed):
    """:func:`stratified_split`, its errors (too few samples...) named by the file."""
    try:
        return stratified_split(y, validation, test, seed)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


# -- numbers to predict -------------------------------------------------------------------------


class RegressionDataset(Dataset):
    """Your own data with numbers to predict: a :class:`~barenet.data.Dataset` whose ``y_*``
    are floats, ``(n,)`` for one target or ``(n, k)`` for ``k``, and whose ``class_names`` are
    the names of the outputs (so ``n_classes`` and ``spec`` size a network of ``k`` outputs)."""

    @property
    def output_names(self):
        return self.class_names

    def __repr__(self):
        what = "samples" if self.image_shape is None else "images"
        return (
            f"RegressionDataset({self.name!r}: {len(self.y_train)} training, {len(self.y_val)} "
            f"validation, {len(self.y_test)} test {what} of {self.n_features} features, "
            f"targets {', '.join(self.output_names)})"
        )


def _load_regression(path, image_shape, validation, test, seed, dtype, label_column):
    if path.is_dir():
        raise DataError(
            f"{path}: a folder of pictures sorted by class is classification data; regression "
            "needs numbers to predict: an .npz with X and float y, or a .csv with a target column"
        )
    suffix = path.suffix.lower()
    if suffix == ".npz":
        X, y, shape, names = _read_npz(path, regression=True)
    elif suffix == ".csv":
        X, labels = _read_csv(path, label_column)
        y, shape, names = _numbers(labels, path, label_column), None, [label_column]
    else:
        raise DataError(f"{path}: expected an .npz file or a .csv file of numbers to predict")
    shape = _shape_of(X, image_shape or shape, path)
    X = np.ascontiguousarray(_as_inputs(X.reshape(len(X), -1), shape), dtype=dtype)
    y = np.ascontiguousarray(y, dtype=dtype)
    # One group for all the samples: the stratified split's draw is then a plain random split.
    train, val, held_out = _split(path, np.zeros(len(y), np.int64), validation, test, seed)
    return RegressionDataset(
        _name(path),
        X[train],
        X[val],
        X[held_out],
        y[train],
        y[val],
        y[held_out],
        class_names=tuple(names),
        image_shape=None if shape is None else tuple(shape),
    )


def _numbers(labels, path, column):
    """The targets of a CSV column as floats, or a DataError naming the first that is none."""
    values = np.empty(len(labels), dtype=np.float64)
    for row, text in enumerate(labels.tolist()):
        try:
            values[row] = float(text)
        except ValueError:
            raise DataError(
                f"{path}, line {row + 2}: {column} is {text!r}, not a number to predict"
            ) from None
    return _finite(values, path, column)


def _finite(y, path, name="y"):
    if not np.all(np.isfinite(y)):
        bad = int(np.argwhere(~np.isfinite(y).reshape(len(y), -1).all(axis=1))[0][0])
        raise DataError(f"{path}: {name} holds a value that is not finite (row {bad + 1})")
    return y


def _regression_targets(arrays, X, path):
    """``(y float (n,) or (n, k), output names)`` of an .npz read for regression."""
    y = arrays["y"]
    if "class_names" in arrays:
        raise DataError(
            f"{path}: holds class_names, the labels of a classifier; regression needs numbers "
            "to predict (name them with output_names, if you like)"
        )
    if not np.issubdtype(y.dtype, np.number) or y.dtype.kind == "c":
        raise DataError(f"{path}: y must hold real numbers to predict, got dtype {y.dtype}")
    if y.ndim not in (1, 2) or len(y) != len(X) or (y.ndim == 2 and y.shape[1] == 0):
        raise DataError(
            f"{path}: y must be (n,) or (n, outputs) with one row per row of X ({len(X)}), "
            f"got shape {y.shape}"
        )
    k = 1 if y.ndim == 1 else y.shape[1]
    if "output_names" in arrays:
        names = [str(n) for n in np.ravel(arrays["output_names"])]
        if len(names) != k or len(set(names)) != k or not all(names):
            raise DataError(
                f"{path}: output_names must be {k} distinct names, one per column of y, got {names}"
            )
    else:
        names = ["y"] if y.ndim == 1 else [f"y{j}" for j in range(k)]
    return _finite(y.astype(np.float64), path), names


# -- folders of pictures ------------------------------------------------------------------------


def _class_folders(path):
    """``{class name: sorted picture paths}`` of the sub-folders of ``path``."""
    folders = {}
    for sub in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        pictures = sorted(
            p
            for p in sub.rglob("*")
            if p.suffix.lower() in PICTURE_SUFFIXES and not p.name.startswith(".") and p.is_file()
        )
        folders[sub.name] = pictures
    return folders


def _read_folder(path, shape):
    """Every picture prepared to ``shape``: ``(X (n, h*w), y (n,), class names)``."""
    folders = _class_folders(path)
    if not folders:
        raise DataError(
            f"{path}: no sub-folders; put the pictures of each class in a folder of its own "
            f"({path}/cat/1.png, {path}/dog/2.png...)"
        )
    empty = [name for name, pictures in folders.items() if not pictures]
    if empty:
        raise DataError(
            f"{path}: no pictures in {', '.join(empty)} (looked for "
            f"{', '.join(sorted(PICTURE_SUFFIXES))})"
        )
    rows, labels, errors = [], [], []
    for k, pictures in enumerate(folders.values()):
        for picture in pictures:
            try:
                rows.append(preprocess_image(picture, shape))
                labels.append(k)
            except DataError as exc:  # named by its file, which some messages leave out
                message = str(exc)
                errors.append(message if str(picture) in message else f"{picture}: {message}")
    if errors:
        more = len(errors) - _SHOWN_ERRORS
        raise DataError(
            f"{path}: {len(errors)} picture(s) cannot be used: "
            + "; ".join(errors[:_SHOWN_ERRORS])
            + (f"; and {more} more" if more > 0 else "")
            + ". Remove or fix them."
        )
    return np.stack(rows), np.array(labels, dtype=np.int64), list(folders)


# -- files of arrays ----------------------------------------------------------------------------


def _read_file(path, label_column):
    """``(X, labels, image shape or None, class names or None)`` of an .npz or .csv file."""
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _read_npz(path)
    if suffix == ".csv":
        X, labels = _read_csv(path, label_column)
        return X, labels, None, None
    raise DataError(f"{path}: expected a folder of class sub-folders, an .npz file or a .csv file")


def _read_npz(path, regression=False):
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz file: {exc}") from None
    missing = [name for name in ("X", "y") if name not in arrays]
    if missing:
        raise DataError(
            f"{path}: expected arrays X and y, missing {', '.join(missing)} "
            f"(it holds {', '.join(sorted(arrays)) or 'nothing'})"
        )
    X, y = arrays["X"], arrays["y"]
    if X.ndim == 4 and X.shape[-1] == 1:
        X = X[..., 0]
    if X.ndim not in (2, 3) or len(X) == 0:
        raise DataError(
            f"{path}: X must be (n, height, width) or (n, features), got shape {X.shape}"
        )
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise DataError(f"{path}: X must hold numbers, got dtype {X.dtype}")
    shape = X.shape[1:] if X.ndim == 3 else None
    if regression:
        y, names = _regression_targets(arrays, X, path)
        return X, y, shape, names
    if y.ndim != 1 or len(y) != len(X):
        raise DataError(f"{path}: y must hold one label per row of X ({len(X)}), got {y.shape}")
    names = [str(n) for n in arrays["class_names"]] if "class_names" in arrays else None
    return X, y, shape, names


def _read_csv(path, label_column):
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if not header:
            raise DataError(f"{path}: empty CSV file; expected a header row and one row a sample")
        header = [name.strip() for name in header]
        if label_column not in header:
            raise DataError(
                f"{path}: no column {label_column!r}; the columns are "
                f"{', '.join(header[:8])}{'...' if len(header) > 8 else ''}: name the one of the "
                "labels (or of the numbers to predict) with label_column"
            )
        where = header.index(label_column)
        labels, rows = [], []
        for number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise DataError(
                    f"{path}, line {number}: {len(row)} values, the header names {len(header)}"
                )
            labels.append(row[where].strip())
            try:
                rows.append([float(v) for i, v in enumerate(row) if i != where])
            except ValueError as exc:
                raise DataError(f"{path}, line {number}: {exc}") from None
    if not rows:
        raise DataError(f"{path}: no rows of data under the header")
    return np.array(rows), np.array(labels)


def _encode(labels, class_names, path):
    """Class indices from any labels, and the name of each class."""
    labels = np.asarray(labels)
    if class_names is not None:
        if not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"{path}: with class_names, y must hold integer class indices")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(class_names)):
            raise DataError(
                f"{path}: y has labels from {labels.min()} to {labels.max()} for "
                f"{len(class_names)} class names"
            )
        return labels.astype(np.int64), class_names
    text = labels.astype(str)
    values = sorted(set(text.tolist()))
    try:
        values.sort(key=lambda v: float(v))
        values = [_number_text(v) for v in values]
        text = np.array([_number_text(v) for v in text.tolist()])
    except ValueError:
        pass  # labels that are words sort as text
    index = {name: k for k, name in enumerate(values)}
    return np.array([index[v] for v in text.tolist()], dtype=np.int64), values


def _number_text(text):
    """``"3.0"`` and ``"3"`` both as ``"3"``; other numbers as written."""
    value = float(text)
    return str(int(value)) if value.is_integer() else text


def _shape_of(X, shape, path):
    """The image shape of a row of ``X``: ``shape``, checked, or None (features, no image:
    never guessed from their number)."""
    n_features = math.prod(X.shape[1:])
    if shape is None:
        return None
    shape = tuple(int(s) for s in shape)
    if math.prod(shape) != n_features:
        raise DataError(f"{path}: image shape {shape} does not hold {n_features} features a row")
    return shape


def _as_inputs(X, image_shape):
    """The rows ``X`` as a network's inputs: pixels (an ``image_shape``) as :func:`_scaled`
    makes them; features as they are (as numbers)."""
    if image_shape is None:
        return X.astype(np.float32) if X.dtype == bool else X
    return _scaled(X)


def _scaled(X):
    """8-bit pixels (whole numbers 0-255, at least one above 1) divided by 255; others as given."""
    if X.dtype == bool:
        return X.astype(np.float32)
    low, high = X.min(), X.max()
    whole = np.issubdtype(X.dtype, np.integer) or bool(np.all(X == np.round(X)))
    if whole and low >= 0 and 1 < high <= 255:
        return X.astype(np.float32) / np.float32(255)
    return X
