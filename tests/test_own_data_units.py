"""Numbers in the user's units: a network that standardises its inputs and targets, the range
of its training inputs, the memory it needs, and the words of its errors (issue 29)."""

import json
import warnings
import zipfile

import numpy as np
import pytest

from barenet import NeuralNetwork, load_dataset, load_model
from barenet import validation as check
from barenet.errors import BarenetError, DataError, DivergenceError
from barenet.scaling import Standardization
from barenet.validation import InputRangeWarning


def houses(n=400, seed=0):
    """Areas in the thousands and a price of about 100 per unit of area: raw table columns."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(500, 4000, n)
    rooms = rng.integers(1, 7, n).astype(float)
    X = np.column_stack([area, rooms])
    price = 100 * area + 3000 * rooms + rng.normal(0, 2000, n)
    return X, price


# -- Standardization ----------------------------------------------------------------------------


def test_standardization_centres_and_scales_each_column_and_guards_a_constant_one():
    X = np.array([[1.0, 5.0, 1e6], [3.0, 5.0, 3e6], [5.0, 5.0, 2e6]])
    before = X.copy()
    s = Standardization.fit(X)
    assert s.mean.tolist() == pytest.approx([3.0, 5.0, 2e6])
    assert s.scale[1] == 1.0  # constant: no division by zero, only centred
    Z = s.apply(X)
    assert np.array_equal(X, before)  # the caller's array is not touched
    assert Z.mean(axis=0) == pytest.approx([0, 0, 0], abs=1e-12)
    assert Z.std(axis=0) == pytest.approx([1, 0, 1])
    np.testing.assert_allclose(s.invert(Z), X)
    assert Standardization.fit(np.full(5, 7.0)).scale.tolist() == [1.0]  # one column, (n,)
    with pytest.raises(DataError, match="scale must be > 0"):
        Standardization([0.0], [0.0])


# -- a network that takes and gives the user's units --------------------------------------------


def test_a_standardizing_network_learns_raw_columns_and_answers_in_their_units():
    X, y = houses()
    net = NeuralNetwork(2, [32], 1, loss="mse", optimizer="adam", seed=0, image_shape=False)
    net.input_scaling, net.output_scaling = Standardization.fit(X), Standardization.fit(y)
    history = net.train(X[:300], y[:300], X[300:], y[300:], epochs=40, batch_size=32,
                        verbose=False)  # fmt: skip
    assert history["train_loss"][0] < 10  # standardised inside: no loss of 1e16
    predicted = net.predict(X[300:])[:, 0]
    assert abs(predicted.mean() - y[300:].mean()) < 0.05 * y.std()  # in the price's units
    scores = net.evaluate(X[300:], y[300:])
    assert scores["r2"] > 0.95
    # The loss that evaluate gives is in the price's units: half the mean squared error.
    mse = np.mean((predicted.astype(np.float64) - y[300:]) ** 2) / 2
    assert scores["loss"] == pytest.approx(mse, rel=1e-3)


def test_without_standardization_raw_columns_blow_the_network_up():
    """The bug of the issue, reproduced in Python: the same data, as it is."""
    X, y = houses()
    net = NeuralNetwork(2, [32], 1, 0.01, loss="mse", optimizer="nesterov", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "inputs this large" (the hint of it)
        with pytest.raises(DivergenceError):
            net.train(X, y, epochs=5, batch_size=32, verbose=False)


def test_standardization_is_kept_in_the_model_file_and_older_files_load_without(tmp_path):
    X, y = houses()
    net = NeuralNetwork(2, [8], 1, loss="mse", optimizer="adam", seed=0, image_shape=False)
    net.input_scaling, net.output_scaling = Standardization.fit(X), Standardization.fit(y)
    net.train(X, y, epochs=2, batch_size=64, verbose=False)
    net.save_model(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    assert again.input_scaling == net.input_scaling and again.output_scaling == net.output_scaling
    assert again.input_range == pytest.approx([X.min(), X.max()])
    assert np.array_equal(again.predict(X), net.predict(X))
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        header = json.loads(archive.read("header.json"))
        assert header["preprocessing"]["inputs"] == "standardized"
        assert "arrays/preprocessing.outputs.scale.npy" in archive.namelist()
    # A file without the section (as every file before it) takes inputs as they are.
    plain = NeuralNetwork(2, [8], 1, loss="mse", seed=0)
    plain.save_model(tmp_path / "plain.npz")
    with zipfile.ZipFile(tmp_path / "plain.npz") as archive:
        assert "preprocessing" not in json.loads(archive.read("header.json"))
    loaded = load_model(tmp_path / "plain.npz")
    assert loaded.input_scaling is None and loaded.output_scaling is None
    assert np.array_equal(loaded.predict(X), plain.predict(X))


def test_gradients_with_respect_to_the_inputs_are_in_the_users_units():
    X, y = houses(50)
    net = NeuralNetwork(2, [8], 1, loss="mse", seed=0, image_shape=False, dtype="float64")
    net.input_scaling, net.output_scaling = Standardization.fit(X), Standardization.fit(y)
    x = X[:1].copy()
    gradient = net.score_gradient(x, 0)
    for j, step in enumerate((1.0, 1e-3)):  # area in units, rooms in thousandths
        bumped = x.copy()
        bumped[0, j] += step
        numeric = (net.predict(bumped)[0, 0] - net.predict(x)[0, 0]) / step
        assert gradient[0, j] == pytest.approx(numeric, rel=1e-4)


# -- pictures or features -----------------------------------------------------------------------


def test_image_shape_false_says_the_inputs_are_features_and_the_file_keeps_it(tmp_path):
    assert NeuralNetwork(4, [3], 2).image_shape == [2, 2]  # the classic guess stays for the API
    net = NeuralNetwork(4, [3], 2, image_shape=False)
    assert net.image_shape is None and net.get_config()["image_shape"] is False
    net.save_model(tmp_path / "f.npz")
    assert load_model(tmp_path / "f.npz").image_shape is None  # not guessed again on loading
    assert load_model(tmp_path / "f.npz").get_config()["image_shape"] is False


# -- inputs far from those of training ----------------------------------------------------------


@pytest.fixture(scope="module")
def digits_net():
    data = load_dataset("digits")
    net = NeuralNetwork(64, [32], 10, 0.1, seed=0)
    net.train(data.X_train, data.y_train, epochs=3, verbose=False)
    return net, data


def test_pixels_times_255_are_named_in_a_warning_and_pixels_in_0_1_are_not(digits_net, tmp_path):
    net, data = digits_net
    assert net.input_range == [0.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the test images, in [0, 1]: not a word
        net.predict(data.X_test)
        net.predict_proba(data.X_test)
        net.evaluate(data.X_test, data.y_test)
    with pytest.warns(InputRangeWarning, match=r"ranges from 0 to 255.*trained on \(0 to 1\)") as w:
        net.predict(data.X_test * 255)
    assert w[0].filename == __file__  # points at the call, not into barenet
    with pytest.warns(InputRangeWarning):
        net.calculate_accuracy(data.X_test * 255, data.y_test)
    net.save_model(tmp_path / "d.npz")  # the range is kept with the model
    with pytest.warns(InputRangeWarning, match="divide by 255"):
        load_model(tmp_path / "d.npz").predict_proba(data.X_test * 255)


@pytest.mark.mnist
def test_mnist_test_images_raise_no_range_warning():
    data = load_dataset("mnist", validation_size=0)
    net = NeuralNetwork(784, [16], 10, 0.1, seed=0)
    net.train(data.X_train[:5000], data.y_train[:5000], epochs=1, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.predict(data.X_test)
    with pytest.warns(InputRangeWarning):
        net.predict(data.X_test[:10] * 255)


# -- memory -------------------------------------------------------------------------------------


def test_a_network_too_large_for_memory_is_refused_with_the_figure_before_allocating():
    with pytest.raises(BarenetError, match=r"needs about [\d.]+ GB of memory .* available"):
        NeuralNetwork(784, [200000, 200000], 10)
    NeuralNetwork(784, [512, 256], 10)  # an ordinary one is not


def test_the_memory_estimate_counts_parameters_and_buffers(monkeypatch):
    net = NeuralNetwork(784, [512, 256], 10)
    parameters, needed = check.memory_needed(net.layers, net.dtype)
    assert parameters == net.n_parameters
    assert needed >= check.PARAMETER_COPIES * 4 * parameters
    monkeypatch.setattr(check, "available_memory", lambda: needed - 1)
    with pytest.raises(BarenetError, match="parameters in float32"):
        NeuralNetwork(784, [512, 256], 10)
    monkeypatch.setattr(check, "available_memory", lambda: needed)
    NeuralNetwork(784, [512, 256], 10)
    monkeypatch.setattr(check, "available_memory", lambda: None)  # unknown: not refused
    NeuralNetwork(784, [512, 256], 10)


# -- files --------------------------------------------------------------------------------------


def test_saving_into_a_missing_folder_names_that_folder_not_a_temporary_file(tmp_path):
    net = NeuralNetwork(4, [3], 2)
    path = tmp_path / "missing" / "x.npz"
    with pytest.raises(FileNotFoundError) as error:
        net.save_model(path)
    message = str(error.value)
    assert str(tmp_path / "missing") in message and "no folder" in message
    assert error.value.filename == str(path) and ".tmp" not in message
