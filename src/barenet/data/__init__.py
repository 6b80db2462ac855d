"""Data for barenet: IDX files, MNIST and its kin by name, MNIST-style preprocessing of pictures.

This package knows arrays and files only; it never imports the network or training code.
"""

from barenet.data.datasets import (
    DATASETS,
    Dataset,
    DatasetInfo,
    dataset_info,
    download_dataset,
    load_dataset,
)
from barenet.data.idx import read_idx, write_idx
from barenet.data.images import load_image, preprocess_digit, preprocess_image
from barenet.data.mnist import data_home, download_mnist, load_and_preprocess_mnist, load_mnist

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetInfo",
    "dataset_info",
    "download_dataset",
    "load_dataset",
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
