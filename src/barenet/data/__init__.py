"""Data for barenet: IDX files, the MNIST set and MNIST-style preprocessing of pictures.

This package knows arrays and files only; it never imports the network or training code.
"""

from barenet.data.idx import read_idx, write_idx
from barenet.data.images import load_image, preprocess_digit, preprocess_image
from barenet.data.mnist import data_home, download_mnist, load_and_preprocess_mnist, load_mnist

__all__ = [
    "data_home",
    "download_mnist",
    "load_and_preprocess_mnist",
    "load_image",
    "load_mnist",
    "preprocess_digit",
    "preprocess_image",
    "read_idx",
    "write_idx",
]
