"""The original project's NeuralNetwork API: defaults, known answers, reproducibility, dtypes."""

import re

import numpy as np
import pytest

from barenet import BarenetError, DataError, NeuralNetwork


def test_defaults_are_the_seeds_network():
    nn = NeuralNetwork()
    assert (nn.input_size, nn.hidden_sizes, nn.output_size) == (784, [128, 64], 10)
    assert nn.learning_rate == 0.01 and nn.optimizer.name == "sgd"
    assert nn.n_parameters == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert nn.params.dtype == np.float32
    assert NeuralNetwork(hidden_sizes=[256]).n_parameters == 784 * 256 + 256 + 256 * 10 + 10
    assert NeuralNetwork(learning_rate=0.001).learning_rate == 0.001


def test_parameters_live_in_one_buffer():
    nn = NeuralNetwork(4, [3], 2)
    W = nn.named_arrays()["layers.0.W"]
    assert np.shares_memory(W, nn.params)
    nn.params[:] = 0
    assert not W.any()


def test_xavier_initialisation_has_the_documented_range():
    nn = NeuralNetwork(seed=0)
    W = nn.named_arrays()["layers.0.W"]
    bound = np.sqrt(6 / (784 + 128))
    assert np.abs(W).max() <= bound and np.abs(W).max() > 0.99 * bound
    assert not nn.named_arrays()["layers.0.b"].any()
    he = NeuralNetwork(init="he", seed=0).named_arrays()["layers.0.W"]
    assert abs(he.std() - np.sqrt(2 / 784)) < 0.002


def hand_set_network():
    """2-2-2 network: W1 = [[1, -1], [2, 0]], b1 = [0, 1], W2 = [[1, 0], [0, 1]], b2 = [0, -1]."""
    nn = NeuralNetwork(2, [2], 2, dtype="float64")
    a = nn.named_arrays()
    a["layers.0.W"][...] = [[1, -1], [2, 0]]
    a["layers.0.b"][...] = [0, 1]
    a["layers.2.W"][...] = [[1, 0], [0, 1]]
    a["layers.2.b"][...] = [0, -1]
    return nn


def test_known_answer_forward_and_gradient():
    nn = hand_set_network()
    X = np.array([[1.0, 1.0]])
    # Hidden: z = [1 + 2, -1 + 0 + 1] = [3, 0] -> relu [3, 0]; logits [3, 0 - 1] = [3, -1].
    p = np.exp([3, -1]) / np.exp([3, -1]).sum()
    np.testing.assert_allclose(nn.predict_proba(X), [p])
    assert nn.predict(X).tolist() == [0]
    loss, grad = nn.loss_and_gradient(X, np.array([1]))
    assert np.isclose(loss, -np.log(p[1]))
    d_logits = p - [0, 1]
    g = dict(zip(["W1", "b1", "W2", "b2"], np.split(grad, [4, 6, 10])))
    np.testing.assert_allclose(g["W2"].reshape(2, 2), np.outer([3, 0], d_logits))
    np.testing.assert_allclose(g["b2"], d_logits)
    d_hidden = d_logits * [1, 0]  # W2 is the identity; relu passes unit 0 only (z = 0 is off)
    np.testing.assert_allclose(g["W1"].reshape(2, 2), np.outer([1, 1], d_hidden))
    np.testing.assert_allclose(g["b1"], d_hidden)


def test_same_seed_same_weights_bit_for_bit():
    rng = np.random.default_rng(0)
    X, y = rng.random((300, 20), dtype=np.float32), rng.integers(0, 4, 300)
    runs = []
    for _ in range(2):
        nn = NeuralNetwork(20, [16, 8], 4, learning_rate=0.1, dropout=0.2, seed=7)
        nn.train(X, y, epochs=3, batch_size=32, verbose=False)
        runs.append(nn.params.copy())
    assert np.array_equal(runs[0], runs[1])
    other = NeuralNetwork(20, [16, 8], 4, learning_rate=0.1, dropout=0.2, seed=8)
    other.train(X, y, epochs=3, batch_size=32, verbose=False)
    assert not np.array_equal(runs[0], other.params)


def test_float64_is_selectable_and_agrees_with_float32():
    rng = np.random.default_rng(0)
    X = rng.random((50, 10))
    a = NeuralNetwork(10, [8], 3, seed=3)
    b = NeuralNetwork(10, [8], 3, seed=3, dtype="float64")
    assert b.params.dtype == np.float64
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-6)


def test_prediction_outputs():
    rng = np.random.default_rng(0)
    nn = NeuralNetwork(10, [8], 3, seed=0)
    X, y = rng.random((20000, 10)), rng.integers(0, 3, 20000)  # more rows than one chunk
    P = nn.predict_proba(X)
    assert P.shape == (20000, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-5)
    assert np.array_equal(nn.predict(X), P.argmax(axis=1))
    acc = nn.calculate_accuracy(X, y)
    assert isinstance(acc, float) and acc == np.mean(P.argmax(axis=1) == y)
    result = nn.evaluate(X, y)
    assert set(result) == {"loss", "accuracy"} and result["accuracy"] == acc
    assert np.isclose(result["loss"], -np.log(P[np.arange(len(y)), y]).mean(), rtol=1e-4)


def test_training_does_not_mutate_the_callers_arrays():
    rng = np.random.default_rng(0)
    X, y = rng.random((100, 6), dtype=np.float32), rng.integers(0, 2, 100)
    X0, y0 = X.copy(), y.copy()
    nn = NeuralNetwork(6, [5], 2, seed=0, dropout=0.5)
    nn.train(X, y, X, y, epochs=2, batch_size=16, verbose=False)
    nn.predict(X)
    assert np.array_equal(X, X0) and np.array_equal(y, y0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(learning_rate=-1), "learning_rate must be > 0, got -1"),
        (dict(hidden_sizes=[128, 0]), "each hidden size must be >= 1, got 0"),
        (dict(hidden_sizes=[12.5]), "must be an integer"),
        (dict(hidden_sizes="128"), "hidden_sizes must be a list"),
        (dict(input_size=0), "input_size must be >= 1"),
        (dict(output_size=1), "output_size must be >= 2"),
        (dict(activation="relux"), "unknown activation 'relux'; choose one of"),
        (dict(optimizer="adamm"), "unknown optimizer 'adamm'; choose one of"),
        (dict(init="zeros"), "unknown init"),
        (dict(dropout=1.0), "dropout must be in [0, 1)"),
        (dict(dtype="int32"), "unknown dtype"),
    ],
)
def test_bad_hyperparameters_are_refused_clearly(kwargs, message):
    with pytest.raises(BarenetError, match=re.escape(message)):
        NeuralNetwork(**kwargs)


@pytest.mark.parametrize(
    "X, y, message",
    [
        (np.zeros((5, 7)), np.zeros(5, int), "X_train has 7 features, the network expects 6"),
        (np.full((5, 6), np.nan), np.zeros(5, int), "X_train contains 30 NaN or infinite values"),
        (np.zeros((5, 6)), np.array([0, 1, 2, 3, 9]), r"labels in \[0, 9\], expected 0..2"),
        (np.zeros((5, 6)), np.array([0, 1, -1, 0, 0]), "expected 0..2"),
        (np.zeros((0, 6)), np.zeros(0, int), "X_train is empty"),
        (np.zeros((5, 6)), np.zeros(4, int), "y_train has 4 labels but X_train has 5 samples"),
        (np.zeros(6), np.zeros(1, int), "reshape"),
        (np.zeros((5, 6)), np.array([0, 1.5, 0, 0, 0]), "whole-number"),
        (np.zeros((5, 6)), np.array([[1, 1, 0]] * 5), "one-hot"),
        (np.array([["a"] * 6] * 5), np.zeros(5, int), "must hold real numbers"),
        (np.zeros((5, 6), complex), np.zeros(5, int), "must hold real numbers, got dtype complex"),
        (np.zeros((5, 6)), np.array(["a"] * 5), "integer class labels"),
    ],
)
def test_bad_data_is_refused_clearly(X, y, message):
    nn = NeuralNetwork(6, [4], 3)
    with pytest.raises(DataError, match=message):
        nn.train(X, y, epochs=1, verbose=False)


def test_bad_training_arguments():
    nn = NeuralNetwork(6, [4], 3)
    X, y = np.zeros((5, 6)), np.zeros(5, int)
    for kwargs, message in [
        (dict(epochs=0), "epochs must be >= 1"),
        (dict(batch_size=0), "batch_size must be >= 1"),
        (dict(batch_size=2.5), "batch_size must be an integer"),
        (dict(X_val=X), "give both X_val and y_val"),
    ]:
        with pytest.raises(BarenetError, match=message):
            nn.train(X, y, verbose=False, **kwargs)


def test_save_load_round_trip_gives_identical_predictions(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 12), dtype=np.float32), rng.integers(0, 3, 200)
    nn = NeuralNetwork(
        12,
        [10, 6],
        3,
        activation="tanh",
        batch_norm=True,
        dropout=0.1,
        optimizer="adam",
        learning_rate=0.01,
        seed=0,
    )
    nn.train(X, y, X, y, epochs=2, batch_size=32, verbose=False)
    path = tmp_path / "my_model.pkl"  # the extension does not make it a pickle
    nn.save_model(path)
    loaded = NeuralNetwork()
    loaded.load_model(path)  # a default instance takes on the saved architecture
    assert loaded.hidden_sizes == [10, 6] and loaded.activation == "tanh" and loaded.batch_norm
    assert np.array_equal(loaded.predict_proba(X), nn.predict_proba(X))
    assert loaded.history == nn.history and loaded.training_info == nn.training_info
    assert path.read_bytes()[:2] == b"PK"


def test_a_pickle_is_refused_and_never_run(tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(Evil()))
    from barenet import ModelFileError

    with pytest.raises(ModelFileError, match="pickle"):
        NeuralNetwork().load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize("method", ["predict", "predict_proba", "calculate_accuracy", "evaluate"])
def test_prediction_refuses_nan_inf_and_overflowing_inputs(method):
    nn = NeuralNetwork(6, [4], 3, seed=0)
    nn.params[:] = 1  # so that six inputs of 1e38 add up past float32's largest, 3.4e38
    y = np.zeros(5, int)
    call = getattr(nn, method)
    for bad, message in [
        (np.nan, "X contains 1 NaN or infinite values"),
        (np.inf, "X contains 1 NaN or infinite values"),
        (1e38, "too large for this network"),
    ]:
        X = np.zeros((5, 6))
        X[2, :] = 1e38 if bad == 1e38 else 0
        X[2, 3] = bad
        with pytest.raises(DataError, match=message):
            call(X, y) if method in ("calculate_accuracy", "evaluate") else call(X)


def test_a_pickled_network_keeps_training_like_the_original():
    """Pickle (used by multiprocessing and scikit-learn) must keep the one shared buffer."""
    import pickle

    rng = np.random.default_rng(0)
    X, y = rng.random((120, 8), dtype=np.float32), rng.integers(0, 3, 120)
    nn = NeuralNetwork(8, [6], 3, optimizer="adam", batch_norm=True, seed=0)
    nn.train(X, y, epochs=1, verbose=False)
    copy = pickle.loads(pickle.dumps(nn))
    assert np.shares_memory(copy.named_arrays()["layers.0.W"], copy.params)
    for net in (nn, copy):
        net.train(X, y, epochs=2, verbose=False)
    assert np.array_equal(copy.params, nn.params)


def test_model_file_with_wrong_or_missing_arrays_is_refused_by_name(tmp_path):
    """A well-formed file whose arrays do not fit its architecture: the error says which."""
    from barenet import ModelFileError
    from barenet.files.archive import save_arrays
    from barenet.files.modelfile import file_header

    nn = NeuralNetwork(6, [4], 3, seed=0)
    arrays = dict(nn.named_arrays())
    arrays["layers.0.W"] = np.zeros((6, 5), np.float32)
    save_arrays(tmp_path / "shape.npz", file_header(nn), arrays)
    with pytest.raises(ModelFileError, match=r"layers.0.W has shape \(6, 5\).*needs \(6, 4\)"):
        NeuralNetwork().load_model(tmp_path / "shape.npz")
    del arrays["layers.0.W"]
    save_arrays(tmp_path / "missing.npz", file_header(nn), arrays)
    with pytest.raises(ModelFileError, match=r"missing \['layers.0.W'\]"):
        NeuralNetwork().load_model(tmp_path / "missing.npz")
