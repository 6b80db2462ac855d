"""load_mnist, load_and_preprocess_mnist and data_home, on the real MNIST files (BARENET_DATA)."""

import numpy as np
import pytest

import barenet.data.mnist as mnist
from barenet.data import data_home, load_and_preprocess_mnist, load_mnist, read_idx, write_idx
from barenet.errors import DataError, DataNotFoundError

needs_mnist = pytest.mark.mnist


@needs_mnist
def test_load_mnist_shapes_dtypes_and_values():
    X_train, y_train, X_test, y_test = load_mnist(download=False)
    assert X_train.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (X_train, y_train, X_test, y_test)} == {np.dtype(np.uint8)}
    assert X_train.max() == 255 and X_test.min() == 0
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    # The well-known first labels of each set.
    assert list(y_train[:5]) == [5, 0, 4, 1, 9] and list(y_test[:5]) == [7, 2, 1, 0, 4]


@needs_mnist
def test_load_mnist_returns_copies_the_caller_may_change():
    X_train, y_train, _, _ = load_mnist(download=False)
    X_train[0] = 0
    y_train[0] = 9
    X_again, y_again, _, _ = load_mnist(download=False)
    assert X_again[0].max() == 255 and y_again[0] == 5


@needs_mnist
def test_default_split_sizes_dtypes_and_ranges():
    X_train, X_val, X_test, y_train, y_val, y_test = load_and_preprocess_mnist()
    assert (X_train.shape, X_val.shape, X_test.shape) == ((50000, 784), (10000, 784), (10000, 784))
    assert (y_train.shape, y_val.shape, y_test.shape) == ((50000,), (10000,), (10000,))
    for X in (X_train, X_val, X_test):
        assert X.dtype == np.float32 and X.min() == 0.0 and X.max() == 1.0
    for y in (y_train, y_val, y_test):
        assert y.dtype == np.int64 and y.min() == 0 and y.max() == 9


@needs_mnist
def test_split_partitions_the_training_set():
    raw_images, raw_labels, raw_test, _ = load_mnist(download=False)
    X_train, X_val, X_test, y_train, y_val, _ = load_and_preprocess_mnist(validation_size=5000)
    assert len(X_train) == 55000 and len(X_val) == 5000
    np.testing.assert_array_equal(
        np.bincount(np.concatenate([y_train, y_val])), np.bincount(raw_labels)
    )
    # Every pixel ends up in exactly one of the two sets, scaled by 1/255.
    pixel_total = X_train.sum(dtype=np.float64) + X_val.sum(dtype=np.float64)
    assert pixel_total == pytest.approx(raw_images.sum(dtype=np.float64) / 255, rel=1e-6)
    assert np.array_equal(np.rint(X_test * 255), raw_test.reshape(10000, 784))
    # A validation image keeps its own label: find it among the raw images with its pixel sum.
    image = np.rint(X_val[0] * 255).astype(np.uint8)
    candidates = np.flatnonzero(raw_images.sum(axis=(1, 2)) == image.sum(dtype=np.int64))
    matches = [i for i in candidates if np.array_equal(raw_images[i].ravel(), image)]
    assert matches and all(raw_labels[i] == y_val[0] for i in matches)


@needs_mnist
def test_split_is_reproducible_with_a_seed_and_changes_with_another():
    _, X_val_a, _, _, y_val_a, _ = load_and_preprocess_mnist(seed=3)
    _, X_val_b, _, _, y_val_b, _ = load_and_preprocess_mnist(seed=3)
    _, X_val_c, _, _, y_val_c, _ = load_and_preprocess_mnist(seed=4)
    np.testing.assert_array_equal(X_val_a, X_val_b)
    np.testing.assert_array_equal(y_val_a, y_val_b)
    assert not np.array_equal(y_val_a, y_val_c)
    assert not np.array_equal(X_val_a, X_val_c)


@needs_mnist
def test_float64_and_empty_validation_set():
    X_train, X_val, _, y_train, y_val, _ = load_and_preprocess_mnist(
        validation_size=0, dtype=np.float64
    )
    assert X_train.shape == (60000, 784) and X_train.dtype == np.float64
    assert X_val.shape == (0, 784) and y_val.shape == (0,)
    assert X_train.max() == 1.0


@needs_mnist
def test_results_are_fresh_arrays_each_call():
    X_train, *_ = load_and_preprocess_mnist()
    X_train[:] = -1.0
    X_again, *_ = load_and_preprocess_mnist()
    assert X_again.min() == 0.0


@needs_mnist
@pytest.mark.parametrize("size", [-1, 60000, 70000, 1.5, True, "10", None])
def test_validation_size_must_be_an_int_in_range(size):
    with pytest.raises(DataError, match="validation_size"):
        load_and_preprocess_mnist(validation_size=size)


def test_data_home_resolution_order(tmp_path, monkeypatch):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / mnist.FILES[0]).touch()
    monkeypatch.setenv("BARENET_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # The argument wins: a folder holding the files, a root, or a folder named mnist.
    assert data_home(flat) == flat
    assert data_home(tmp_path / "root") == tmp_path / "root" / "mnist"
    assert data_home(str(tmp_path / "mnist")) == tmp_path / "mnist"
    # Then BARENET_DATA, then the per-user cache folder.
    assert data_home() == tmp_path / "env" / "mnist"
    monkeypatch.delenv("BARENET_DATA")
    assert data_home() == tmp_path / "xdg" / "barenet" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data_home() == tmp_path / "home" / ".cache" / "barenet" / "mnist"


def test_missing_data_without_download_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.setenv("BARENET_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(download=False)
    message = str(info.value)
    assert str(tmp_path / "mnist") in message
    assert "BARENET_DATA" in message and "data_dir" in message and "barenet download" in message
    assert all(name in message for name in mnist.FILES)
    assert isinstance(info.value, FileNotFoundError)


def write_fake_mnist(folder, n_train=3, n_test=2, labels=None, image_shape=(28, 28)):
    """Write four small MNIST-format files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    train_labels = np.arange(n_train, dtype=np.uint8) % 10 if labels is None else labels
    arrays = [
        np.full((n_train, *image_shape), 7, np.uint8),
        train_labels,
        np.full((n_test, 28, 28), 9, np.uint8),
        np.arange(n_test, dtype=np.uint8),
    ]
    for name, array in zip(mnist.FILES, arrays, strict=True):
        write_idx(folder / name, array)


@pytest.mark.parametrize(
    ("kwargs", "bad_file", "problem"),
    [
        ({"labels": np.arange(4, dtype=np.uint8)}, "train-labels", "4 labels for the 3 images"),
        ({"labels": np.array([1, 2, 10], np.uint8)}, "train-labels", "label 10 out of range"),
        ({"labels": np.arange(3, dtype=np.int32)}, "train-labels", "got int32"),
        ({"image_shape": (28, 27)}, "train-images", r"shape \(3, 28, 27\)"),
    ],
)
def test_inconsistent_files_raise_data_error_naming_the_file(tmp_path, kwargs, bad_file, problem):
    write_fake_mnist(tmp_path, **kwargs)
    with pytest.raises(DataError, match=f"{bad_file}.*{problem}"):
        load_mnist(tmp_path, download=False)


def test_uncompressed_files_and_a_replaced_file_are_read(tmp_path):
    write_fake_mnist(tmp_path)
    for name in mnist.FILES:
        write_idx(tmp_path / name.removesuffix(".gz"), read_idx(tmp_path / name))
        (tmp_path / name).unlink()
    X_train, y_train, _, _ = load_mnist(tmp_path, download=False)
    assert X_train.shape == (3, 28, 28) and list(y_train) == [0, 1, 2]
    # A file replaced with new content is read again, not served from the cache.
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([4, 4, 4], np.uint8), compress=True)
    assert list(load_mnist(tmp_path, download=False)[1]) == [4, 4, 4]
