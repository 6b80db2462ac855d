"""load_dataset: the IDX families served from 127.0.0.1, scikit-learn's digits, class names.

Only MNIST exists as real files here; Fashion-MNIST, KMNIST and EMNIST are checked with small
files in their exact layout (names, archive, orientation, label range) made by the tests.
"""

import hashlib
import json
import socket
import zipfile

import numpy as np
import pytest
from PIL import Image

import barenet
from barenet import DATASETS, NeuralNetwork, download_dataset, load_dataset
from barenet.cli.main import main
from barenet.data.datasets import IDX_FAMILIES
from barenet.errors import BarenetError, DataError, DataNotFoundError

IDX_SETS = ["fashion-mnist", "kmnist"]
EMNIST_SETS = ["emnist-digits", "emnist-letters", "emnist-balanced"]


def fake_arrays(family, seed=0, n_train=12, n_test=5):
    """Four arrays as a family stores them: uint8 images and labels in its stored range."""
    rng = np.random.default_rng(seed)
    low = family.label_offset
    high = low + len(family.class_names)
    return [
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        rng.integers(low, high, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(low, high, n_test, dtype=np.uint8),
    ]


def serve_idx(root, family, arrays):
    """Write the family's four files into the served folder; returns their MD5s."""
    checksums = {}
    for name, array in zip(family.files, arrays, strict=True):
        path = barenet.write_idx(root / name, array)
        checksums[name] = hashlib.md5(path.read_bytes()).hexdigest()
    return checksums


def serve_emnist(root, splits):
    """EMNIST's one archive, gzip.zip, holding the files of ``splits`` under gzip/."""
    stored = {}
    archive = root / "gzip.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for split in splits:
            family = IDX_FAMILIES[split]
            stored[split] = fake_arrays(family, seed=len(stored))
            for name, array in zip(family.files, stored[split], strict=True):
                path = barenet.write_idx(root / name, array)
                bundle.write(path, f"gzip/{name}")
                path.unlink()
    return stored, {"gzip.zip": hashlib.md5(archive.read_bytes()).hexdigest()}


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


def assert_loaded_as_stored(data, family, stored, validation_size):
    """The loaded split holds exactly the stored images (upright) and labels (from 0)."""
    X_train, y_train, X_test, y_test = stored
    if family.transpose:
        X_train, X_test = X_train.transpose(0, 2, 1), X_test.transpose(0, 2, 1)
    y_train, y_test = y_train - family.label_offset, y_test - family.label_offset
    np.testing.assert_array_equal(data.X_test, X_test.reshape(len(X_test), -1) / np.float32(255))
    np.testing.assert_array_equal(data.y_test, y_test)
    # The validation and training parts together are the training images, reordered.
    images = np.concatenate([data.X_val, data.X_train])
    labels = np.concatenate([data.y_val, data.y_train])
    order = np.lexsort(images.T)
    expected = X_train.reshape(len(X_train), -1) / np.float32(255)
    expected_order = np.lexsort(expected.T)
    np.testing.assert_array_equal(images[order], expected[expected_order])
    np.testing.assert_array_equal(labels[order], y_train[expected_order])
    assert len(data.y_val) == validation_size
    assert data.class_names == family.class_names and data.image_shape == (28, 28)


@pytest.mark.parametrize("name", IDX_SETS)
def test_idx_family_downloads_into_its_folder_and_loads(name, server, tmp_path, closed_port):
    root, base = server
    family = IDX_FAMILIES[name]
    stored = fake_arrays(family)
    checksums = serve_idx(root, family, stored)
    folder = download_dataset(
        name, tmp_path / "data", mirrors=[closed_port, base], checksums=checksums, progress=False
    )
    assert folder == tmp_path / "data" / name
    assert sorted(p.name for p in folder.iterdir()) == sorted(family.files)
    data = load_dataset(name, tmp_path / "data", validation_size=3, download=False)
    assert_loaded_as_stored(data, family, stored, validation_size=3)


@pytest.mark.parametrize("name", [*IDX_SETS, "emnist-letters"])
def test_downloads_are_checked_against_the_published_md5(name, server, tmp_path):
    root, base = server
    family = IDX_FAMILIES[name]
    if family.archive:
        serve_emnist(root, [name])
    else:
        serve_idx(root, family, fake_arrays(family))
    first = family.archive or family.files[0]
    with pytest.raises(DataNotFoundError, match=f"expected {family.md5[first]}"):
        download_dataset(name, tmp_path, mirrors=[base], progress=False)
    assert not (tmp_path / family.folder).exists()  # no file, and no empty folder (issue 18)


def test_emnist_splits_come_from_one_archive_upright_and_counting_from_zero(
    server, tmp_path, closed_port
):
    root, base = server
    stored, checksums = serve_emnist(root, EMNIST_SETS)
    for i, name in enumerate(EMNIST_SETS):
        # The first split downloads the archive; the others find it and never go online.
        mirrors = [base] if i == 0 else [closed_port]
        folder = download_dataset(name, tmp_path, mirrors, checksums, progress=False)
        assert folder == tmp_path / "emnist"
        family = IDX_FAMILIES[name]
        data = load_dataset(name, tmp_path, validation_size=2, download=False)
        assert_loaded_as_stored(data, family, stored[name], validation_size=2)
    assert len(IDX_FAMILIES["emnist-balanced"].class_names) == 47
    assert IDX_FAMILIES["emnist-letters"].class_names[0] == "A"


def test_load_dataset_downloads_what_is_missing_through_the_family_mirrors(
    server, tmp_path, monkeypatch
):
    import dataclasses

    root, base = server
    family = IDX_FAMILIES["kmnist"]
    stored = fake_arrays(family)
    checksums = serve_idx(root, family, stored)
    local = dataclasses.replace(family, mirrors=(base,), md5=checksums)
    monkeypatch.setitem(IDX_FAMILIES, "kmnist", local)
    data = load_dataset("kmnist", tmp_path, validation_size=0, progress=False)
    assert_loaded_as_stored(data, local, stored, validation_size=0)
    assert data.class_names[0] == "お o"


def test_missing_files_without_download_say_how_to_get_them(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_dataset("fashion-mnist", tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path / "fashion-mnist") in message
    assert "barenet download --dataset fashion-mnist" in message


def test_labels_outside_the_class_range_are_refused(tmp_path):
    family = IDX_FAMILIES["emnist-letters"]
    arrays = fake_arrays(family)
    arrays[1][0] = 0  # letters are stored 1-26: 0 names no class
    (tmp_path / "emnist").mkdir()
    for name, array in zip(family.files, arrays, strict=True):
        barenet.write_idx(tmp_path / "emnist" / name, array)
    with pytest.raises(DataError, match="label 0 out of range, expected 1 to 26"):
        load_dataset("emnist-letters", tmp_path, download=False)


def test_unknown_names_list_the_data_sets():
    with pytest.raises(DataError, match="unknown data set 'cifar'.*fashion-mnist.*digits"):
        load_dataset("cifar")
    with pytest.raises(DataError, match="nothing to download"):
        download_dataset("digits")


# -- scikit-learn's 8x8 digits ------------------------------------------------------------------


def test_digits_split_shapes_scale_and_fixed_test_set():
    data = load_dataset("digits")
    X_train, X_val, X_test, y_train, y_val, y_test = data
    assert (X_train.shape, X_val.shape, X_test.shape) == ((1137, 64), (300, 64), (360, 64))
    assert X_train.dtype == np.float32 and X_train.min() == 0 and X_train.max() == 1
    assert data.class_names == tuple("0123456789") and data.image_shape == (8, 8)
    assert (data.n_features, data.n_classes) == (64, 10)
    assert repr(data) == (
        "Dataset('digits': 1137 training, 300 validation, 360 test images of 8x8 pixels, "
        "10 classes)"
    )
    other = load_dataset("digits", seed=7, validation_size=100)
    np.testing.assert_array_equal(other.X_test, X_test)  # the seed moves validation only
    assert len(other.y_val) == 100 and not np.array_equal(other.X_val, X_val[:100])


def test_a_network_learns_the_digits():
    X_train, X_val, X_test, y_train, y_val, y_test = load_dataset("digits", validation_size=0)
    net = NeuralNetwork(64, [64], 10, 0.1, optimizer="nesterov", init="he", seed=0)
    net.train(X_train, y_train, epochs=30, batch_size=32)
    assert net.calculate_accuracy(X_test, y_test) >= 0.95  # measured 0.97


def test_every_name_is_listed_once():
    assert DATASETS == (
        "mnist",
        "fashion-mnist",
        "kmnist",
        "emnist-digits",
        "emnist-letters",
        "emnist-balanced",
        "digits",
    )


# -- class names and image shapes flow through the network and the CLI ---------------------------

FASHION = IDX_FAMILIES["fashion-mnist"].class_names


def test_class_names_and_image_shape_are_checked_and_saved(tmp_path):
    net = NeuralNetwork(784, [8], 10, class_names=FASHION, seed=0)
    assert net.class_names == list(FASHION) and net.image_shape == [28, 28]
    net.save_model(tmp_path / "fashion.npz")
    loaded = barenet.load_model(tmp_path / "fashion.npz")
    assert loaded.class_names == list(FASHION) and loaded.image_shape == [28, 28]
    assert NeuralNetwork(64, [8], 10).class_names == [str(k) for k in range(10)]
    assert NeuralNetwork(10, [8], 2).image_shape is None  # 10 pixels make no square
    with pytest.raises(BarenetError, match="class_names must name the 10 classes, got 2 names"):
        NeuralNetwork(784, [8], 10, class_names=["a", "b"])
    with pytest.raises(BarenetError, match="distinct non-empty strings"):
        NeuralNetwork(784, [8], 2, class_names=["a", "a"])
    with pytest.raises(BarenetError, match=r"height \* width = 784 inputs, got \(28, 27\)"):
        NeuralNetwork(784, [8], 10, image_shape=(28, 27))


def test_predict_names_the_class_of_a_fashion_model(tmp_path, capsys):
    net = NeuralNetwork(784, [8], 10, class_names=FASHION, seed=0)
    net.save_model(tmp_path / "fashion.npz")
    picture = np.zeros((40, 40), np.uint8)
    picture[10:30, 5:35] = 255
    Image.fromarray(picture).save(tmp_path / "shoe.png")
    assert (
        main(["predict", str(tmp_path / "fashion.npz"), str(tmp_path / "shoe.png"), "--json"]) == 0
    )
    result = json.loads(capsys.readouterr().out)["predictions"][0]
    assert result["name"] == FASHION[result["class"]]
    probabilities = net.predict_proba(barenet.preprocess_image(tmp_path / "shoe.png")[None])
    assert result["class"] == int(probabilities.argmax())


def test_cli_trains_evaluates_and_predicts_on_digits(tmp_path, capsys):
    model = str(tmp_path / "digits.npz")
    args = ["train", "--dataset", "digits", "--hidden", "32", "--epochs", "12", "-q", "-o", model]
    assert main(args) == 0
    assert "test accuracy" in capsys.readouterr().out
    net = barenet.load_model(model)
    assert (net.input_size, net.image_shape, net.training_info.dataset) == (64, [8, 8], "digits")
    assert net.training_info.augment is None  # 8x8 images are not distorted by default
    assert net.training_info.test_accuracy >= 0.9  # measured 0.96
    assert main(["evaluate", model, "--json"]) == 0  # the model says which test set is its own
    report = json.loads(capsys.readouterr().out)
    assert report["dataset"] == "digits" and report["accuracy"] == net.training_info.test_accuracy
    # A digits image, drawn big, read back through the 8x8 preprocessing.
    X_test = load_dataset("digits").X_test
    big = np.kron(X_test[0].reshape(8, 8), np.ones((6, 6))) * 255
    Image.fromarray(np.pad(big, 8).astype(np.uint8)).save(tmp_path / "digit.png")
    assert main(["predict", model, str(tmp_path / "digit.png"), "--json"]) == 0
    prediction = json.loads(capsys.readouterr().out)["predictions"][0]
    assert prediction["name"] == str(prediction["class"])
    assert main(["evaluate", model, "--dataset", "mnist"]) == 2  # 64 inputs cannot read MNIST
    assert "takes 64 inputs and 10 classes; mnist has 784" in capsys.readouterr().err


def test_preprocess_digit_to_another_shape_centres_the_ink():
    picture = np.zeros((50, 50), np.float32)
    picture[5:45, 20:30] = 1.0
    small = barenet.preprocess_digit(picture, shape=(8, 8)).reshape(8, 8)
    rows, cols = np.indices(small.shape)
    centre = ((rows * small).sum() / small.sum(), (cols * small).sum() / small.sum())
    assert np.allclose(centre, (4, 4), atol=0.75) and small.max() == pytest.approx(1, abs=0.05)
    with pytest.raises(DataError, match="shape must be"):
        barenet.preprocess_digit(picture, shape=(8,))


def test_predict_refuses_a_model_whose_inputs_are_no_image(tmp_path, capsys):
    NeuralNetwork(10, [4], 2, seed=0).save_model(tmp_path / "flat.npz")  # 10 inputs: no square
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "x.png")
    assert main(["predict", str(tmp_path / "flat.npz"), str(tmp_path / "x.png")]) == 2
    assert "its 10 inputs are not an image" in capsys.readouterr().err
