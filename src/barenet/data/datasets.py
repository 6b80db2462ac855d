"""Data sets by name: the IDX families that share MNIST's layout, and scikit-learn's 8x8 digits.

``load_dataset("fashion-mnist")`` returns the training, validation and test arrays ready for a
network, with the names of the classes and the shape of the images. Only MNIST is read from
real files on the development machines; the other IDX families follow the same code path and
are tested against files served from 127.0.0.1.
"""

import string
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from barenet.data import mnist
from barenet.data.families import (
    IdxFamily,
    download_missing,
    family_home,
    load_family,
    split_features,
)
from barenet.errors import DataError

_IDX_FILES = mnist.FILES

FASHION_MNIST = IdxFamily(
    name="fashion-mnist",
    folder="fashion-mnist",
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    files=_IDX_FILES,
    md5={
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
)

KMNIST = IdxFamily(
    name="kmnist",
    folder="kmnist",
    mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
    files=_IDX_FILES,
    md5={
        "train-images-idx3-ubyte.gz": "bdb82020997e1d708af4cf47b453dcf7",
        "train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
        "t10k-images-idx3-ubyte.gz": "5c965bf0a639b31b8f53240b1b52f4d7",
        "t10k-labels-idx1-ubyte.gz": "7320c461ea6c1c855c0b718fb2a4b134",
    },
    # Ten cursive hiragana, with their romanisation.
    class_names=tuple("お o,き ki,す su,つ tsu,な na,は ha,ま ma,や ya,れ re,を wo".split(",")),
)


def _emnist(split, class_names, label_offset=0):
    """One EMNIST split: four files extracted from the archive that holds all the splits."""
    return IdxFamily(
        name=f"emnist-{split}",
        folder="emnist",  # one folder and one archive serve every split
        mirrors=("https://biometrics.nist.gov/cs_links/EMNIST/",),
        files=tuple(
            f"emnist-{split}-{part}-idx{dims}-ubyte.gz"
            for part, dims in (
                ("train-images", 3),
                ("train-labels", 1),
                ("test-images", 3),
                ("test-labels", 1),
            )
        ),
        md5={"gzip.zip": "58c8d27c78d21e728a6bc7b3cc06412e"},
        class_names=tuple(class_names),
        archive="gzip.zip",
        archive_folder="gzip/",
        transpose=True,  # EMNIST stores each image column by column
        label_offset=label_offset,
    )


# Balanced EMNIST merges the lower-case letters that look like their capitals (c, i, j, k, l, m,
# o, p, s, u, v, w, x, y, z) and keeps 11 lower-case classes of its own.
_BALANCED = string.digits + string.ascii_uppercase + "abdefghnqrt"

IDX_FAMILIES = {
    family.name: family
    for family in (
        mnist.MNIST,
        FASHION_MNIST,
        KMNIST,
        _emnist("digits", string.digits),
        # Letters are stored as 1-26 (upper and lower case merged); barenet counts from 0.
        _emnist("letters", string.ascii_uppercase, label_offset=1),
        _emnist("balanced", _BALANCED),
    )
}

DIGITS_SHAPE = (8, 8)
DIGITS_TEST_SIZE = 360  # a fifth of the 1,797 images, drawn once with a fixed seed
DEFAULT_VALIDATION_SIZE = {"digits": 300}  # IDX families hold out 10,000 training images

DATASETS = (*IDX_FAMILIES, "digits")


class DatasetInfo(NamedTuple):
    """What a network for a data set needs, known without loading its images: the names of its
    classes and the ``(height, width)`` of its images. It unpacks as
    ``class_names, image_shape = dataset_info("mnist")``."""

    class_names: tuple
    image_shape: tuple

    @property
    def n_features(self):
        """Inputs of a network for this data set: the pixels of one image."""
        height, width = self.image_shape
        return height * width

    @property
    def n_classes(self):
        """Outputs of a network for this data set."""
        return len(self.class_names)

    def as_dict(self):
        """``{"n_features", "n_classes", "class_names", "image_shape"}`` in plain ints, strings
        and lists (JSON-able): MNIST's is 784, 10, ``["0", ..., "9"]``, ``[28, 28]``."""
        return {
            "n_features": int(self.n_features),
            "n_classes": self.n_classes,
            "class_names": [str(name) for name in self.class_names],
            "image_shape": [int(side) for side in self.image_shape],
        }


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set split for training, with what is needed to show its classes and images.

    It unpacks like :func:`~barenet.load_and_preprocess_mnist`'s result::

        X_train, X_val, X_test, y_train, y_val, y_test = load_dataset("digits")

    ``X_*`` are ``(n, n_features)`` arrays in [0, 1]; ``y_*`` int64 class indices;
    ``class_names[k]`` is the name of class ``k``; each row of ``X`` is an image of
    ``image_shape`` flattened row by row.
    """

    name: str
    X_train: np.ndarray
    X_val: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    image_shape: tuple

    def __iter__(self):
        yield from (self.X_train, self.X_val, self.X_test, self.y_train, self.y_val, self.y_test)

    @property
    def info(self):
        """The :class:`DatasetInfo` of this data set: its class names and image shape."""
        return DatasetInfo(self.class_names, self.image_shape)

    @property
    def n_features(self):
        """Inputs of a network for this data set: the pixels of one image (the features of a
        row, for your own data that is no image)."""
        return int(self.X_train.shape[1])

    @property
    def n_classes(self):
        """Outputs of a network for this data set."""
        return len(self.class_names)

    @property
    def spec(self):
        """``{"n_features", "n_classes", "class_names", "image_shape"}`` in plain values: what
        a network for this data needs (``image_shape`` None for features that are no image)."""
        shape = None if self.image_shape is None else [int(s) for s in self.image_shape]
        names = [str(name) for name in self.class_names]
        return {"n_features": self.n_features, "n_classes": self.n_classes,
                "class_names": names, "image_shape": shape}  # fmt: skip

    def __repr__(self):
        if self.image_shape is None:
            what = f"samples of {self.n_features} features"
        else:
            what = "images of {}x{} pixels".format(*self.image_shape)
        return (
            f"Dataset({self.name!r}: {len(self.y_train)} training, {len(self.y_val)} validation, "
            f"{len(self.y_test)} test {what}, {self.n_classes} classes)"
        )


def load_dataset(
    name="mnist",
    data_dir=None,
    validation_size=None,
    seed=42,
    dtype=np.float32,
    download=True,
    progress=True,
):
    """Load the data set ``name`` (see :data:`DATASETS`) split and scaled for training.

    IDX families (``mnist``, ``fashion-mnist``, ``kmnist``, ``emnist-digits``,
    ``emnist-letters``, ``emnist-balanced``) are read from ``data_dir`` like MNIST (see
    :func:`~barenet.data.data_home`), in a sub-folder named after the family (``emnist`` for
    every EMNIST split), and downloaded there when missing and ``download`` is true. ``digits``
    is scikit-learn's 1,797 8x8 digits (no download; needs the ``sklearn`` extra), of which
    360 are the test set. ``validation_size`` training images (default 10,000; 300 for
    ``digits``) are held out, drawn with ``seed``. Returns a :class:`Dataset`.
    """
    family = _family(name)
    if validation_size is None:
        validation_size = DEFAULT_VALIDATION_SIZE.get(name, 10000)
    if family is None:
        raw, scale = _digits(), 16
    else:
        raw, scale = _load_raw(family, data_dir, download, progress), 255
    class_names, image_shape = dataset_info(name)
    arrays = split_features(raw, validation_size, seed, dtype, scale)
    return Dataset(name, *arrays, class_names=class_names, image_shape=image_shape)


def dataset_info(name):
    """The :class:`DatasetInfo` ``(class_names, image_shape)`` of the data set ``name``, known
    without loading it."""
    family = _family(name)
    if family is None:
        return DatasetInfo(tuple(string.digits), DIGITS_SHAPE)
    return DatasetInfo(family.class_names, tuple(family.image_shape))


def check_fits(name, n_inputs, n_classes, model="the model", hint=""):
    """A :class:`DataError` unless a network of ``n_inputs`` inputs and ``n_classes`` outputs
    fits the data set ``name``; known without loading the data. ``hint`` ends the message."""
    info = dataset_info(name)
    if (info.n_features, info.n_classes) != (n_inputs, n_classes):
        raise DataError(
            f"{model} takes {n_inputs} inputs and {n_classes} classes; "
            f"{name} has {info.n_features} and {info.n_classes}{hint}"
        )


def download_dataset(name="mnist", data_dir=None, mirrors=None, checksums=None, progress=True):
    """Download the files of the IDX data set ``name`` missing from its folder; return that folder.

    ``mirrors`` (base URLs tried in order) and ``checksums`` (file name -> MD5) default to the
    data set's published ones. Files already present are kept.
    """
    family = _family(name)
    if family is None:
        raise DataError("the digits data set ships with scikit-learn: there is nothing to download")
    if family is mnist.MNIST:
        return mnist.download_mnist(data_dir, mirrors, progress, checksums)
    folder = family_home(family, data_dir)
    download_missing(family, folder, mirrors, checksums, progress)
    return folder


def _family(name):
    """The :class:`IdxFamily` called ``name``; None for ``digits``; DataError for others."""
    if name == "digits":
        return None
    if name not in IDX_FAMILIES:
        raise DataError(f"unknown data set {name!r}; expected one of {', '.join(DATASETS)}")
    return IDX_FAMILIES[name]


def _load_raw(family, data_dir, download, progress):
    """The four uint8 arrays of an IDX family (MNIST keeps its own folder rules)."""
    if family is mnist.MNIST:
        return mnist.load_shared(data_dir, download, progress)
    return load_family(family, family_home(family, data_dir), download, progress)


def _digits():
    """scikit-learn's 8x8 digits as ``X_train, y_train, X_test, y_test``: uint8 images 0-16."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError(
            "the digits data set comes with scikit-learn: pip install 'barenet[sklearn]'"
        ) from None
    digits = load_digits()
    images = digits.images.astype(np.uint8)  # whole numbers 0-16
    labels = digits.target.astype(np.uint8)
    # A fixed test set, the same whatever the seed of the validation split.
    order = np.random.default_rng(0).permutation(len(labels))
    test, train = order[:DIGITS_TEST_SIZE], order[DIGITS_TEST_SIZE:]
    return images[train], labels[train], images[test], labels[test]
