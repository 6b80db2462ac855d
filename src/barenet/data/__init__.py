"""Data for barenet: IDX files, MNIST and its kin by name, your own data (a folder of pictures per
class, an .npz, a CSV), MNIST-style preprocessing of pictures.

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
from barenet.data.own import load_own_data

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
    "load_own_data",
    "preprocess_digit",
    "preprocess_image",
    "read_idx",
    "write_idx",
]
