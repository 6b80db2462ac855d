"""Regression (``loss="mse"``): the loss and its gradient, training, files, ONNX; and the
core changes that came with it (each optimizer's own default rate, a side-effect-free
``loss_and_gradient``, a missing model file that is a FileNotFoundError)."""

import numpy as np
import pytest

from barenet import BarenetError, DataError, NeuralNetwork, load_model
from barenet.nn import BatchNorm, Dense, Dropout, Tanh
from barenet.nn.losses import mean_squared_error, r2_score, squared_error
from tests.nn.network_check import loss_and_gradient, numerical_gradient, relative_error


def friedman(n, seed=0):
    """A smooth nonlinear target of 5 features (Friedman #1), without noise, two outputs."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 5))
    y = 10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3]
    Y = np.stack([y, X[:, 4] - X[:, 0]], axis=1)
    return X.astype(np.float32), ((Y - Y.mean(0)) / Y.std(0)).astype(np.float32)


def test_squared_error_known_values_and_gradient():
    Z = np.array([[1.0, 2.0], [0.0, -1.0]])
    Y = np.array([[0.0, 2.0], [2.0, 1.0]])
    dZ = np.empty_like(Z)
    # 1/2 (1 + 0) + 1/2 (4 + 4) = 4.5 summed; the mean over the batch of 2 is 2.25
    assert squared_error(Z, Y, dZ) == pytest.approx(4.5)
    np.testing.assert_allclose(dZ, (Z - Y) / 2)
    assert mean_squared_error(Z, Y) == pytest.approx(2.25)


def test_r2_known_values():
    Y = np.array([[1.0], [2.0], [3.0]])
    assert r2_score(Y, Y) == 1.0
    assert r2_score(np.full_like(Y, 2.0), Y) == pytest.approx(0.0)  # the mean scores 0
    assert r2_score(np.array([[3.0], [2.0], [1.0]]), Y) == pytest.approx(-3.0)


@pytest.mark.parametrize(
    "layers",
    [
        [Dense(4), Tanh(), Dense(3)],
        [Dense(5), BatchNorm(), Tanh(), Dropout(0.3), Dense(2)],
        [Dense(1)],  # linear regression: the loss alone
    ],
    ids=["tanh", "batch-norm-dropout", "linear"],
)
def test_mse_backprop_matches_finite_differences(layers):
    rng = np.random.default_rng(0)
    net = NeuralNetwork.from_layers(layers, 4, loss="mse", l2=0.01, dtype="float64", seed=1)
    net.params[...] += rng.normal(0, 0.1, net.params.size)
    X = rng.normal(size=(7, 4))
    Y = rng.normal(size=(7, net.output_size))
    _, grad = loss_and_gradient(net, X, Y[:, 0] if net.output_size == 1 else Y)  # same mask
    numeric = numerical_gradient(net, X, Y)
    assert relative_error(grad, numeric) < 1e-6
    grad[0] += 1e-3  # the check can fail
    assert relative_error(grad, numeric) > 1e-6


def test_a_regression_network_learns_a_nonlinear_function():
    X, Y = friedman(1200)
    net = NeuralNetwork(5, [32, 32], 2, optimizer="adam", loss="mse", seed=0)
    history = net.train(X[:1000], Y[:1000], X[1000:], Y[1000:], epochs=60, verbose=False)
    scores = net.evaluate(X[1000:], Y[1000:])
    assert scores["r2"] > 0.95
    assert scores["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-5)
    assert "train_accuracy" not in history and "val_accuracy" not in history
    assert history["val_r2"][-1] == pytest.approx(scores["r2"], rel=1e-5)
    assert net.predict(X[1000:]).shape == (200, 2)
    # The scores are those of the predictions, by the formulas written out here.
    residual = net.predict(X[1000:]).astype(np.float64) - Y[1000:]
    assert scores["loss"] == pytest.approx(0.5 * np.mean(np.sum(residual**2, axis=1)), rel=1e-5)
    total = np.sum((Y[1000:] - Y[1000:].mean(axis=0)) ** 2, axis=0)
    r2 = np.mean(1 - np.sum(residual**2, axis=0) / total)  # averaged over the two outputs
    assert scores["r2"] == pytest.approx(r2, rel=1e-5)
    assert np.sqrt(np.mean(residual**2)) < 0.2  # within a fifth of a standard deviation


def test_linear_regression_reaches_the_least_squares_solution():
    """One Dense layer under the squared error is linear least squares: full-batch gradient
    descent converges to the coefficients that numpy's lstsq computes in closed form."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    y = (X @ [1.5, -2.0, 0.5] + 0.3 + rng.normal(0, 0.1, 200)).astype(np.float32)
    net = NeuralNetwork.from_layers([Dense(1)], 3, loss="mse", learning_rate=0.5, seed=0)
    net.train(X, y, epochs=100, batch_size=200, verbose=False)
    A = np.hstack([X, np.ones((200, 1), np.float32)]).astype(np.float64)
    solution = np.linalg.lstsq(A, y.astype(np.float64), rcond=None)[0]  # w1, w2, w3, b
    np.testing.assert_allclose(net.layers[0].W[:, 0], solution[:3], atol=1e-5)
    np.testing.assert_allclose(net.layers[0].b, solution[3:], atol=1e-5)
    np.testing.assert_allclose(net.predict(X)[:, 0], A @ solution, atol=1e-5)
    assert abs(solution[3] - 0.3) < 0.05  # and that is close to the line the data came from


def test_early_stopping_watches_the_validation_loss_for_regression():
    X, Y = friedman(300)
    net = NeuralNetwork(5, [8], 2, loss="mse", seed=0)
    net.train(X[:200], Y[:200], X[200:], Y[200:], epochs=3, early_stopping=2, verbose=False)
    assert net.training_info.monitor == "val_loss"


def test_one_output_takes_one_dimensional_targets():
    X, Y = friedman(200)
    net = NeuralNetwork(5, [8], 1, loss="mse", seed=0)
    net.train(X, Y[:, 0], epochs=2, verbose=False)
    assert net.predict(X).shape == (200, 1)
    # A column of the same targets is the same regression: the same weights, bit for bit.
    column = NeuralNetwork(5, [8], 1, loss="mse", seed=0)
    column.train(X, Y[:, :1], epochs=2, verbose=False)
    np.testing.assert_array_equal(column.params, net.params)
    residual = net.predict(X)[:, 0].astype(np.float64) - Y[:, 0]
    assert net.evaluate(X, Y[:, 0])["loss"] == pytest.approx(0.5 * np.mean(residual**2), rel=1e-5)


def test_regression_refuses_what_only_classifiers_do():
    X, Y = friedman(20)
    net = NeuralNetwork(5, [8], 2, loss="mse", seed=0)
    with pytest.raises(BarenetError, match="predict_proba is for classifiers.*loss='mse'"):
        net.predict_proba(X)
    with pytest.raises(BarenetError, match="calculate_accuracy is for classifiers"):
        net.calculate_accuracy(X, Y)
    with pytest.raises(DataError, match=r"y_train must have shape \(20, 2\) for a network with 2"):
        net.train(X, Y[:, :1], epochs=1, verbose=False)
    with pytest.raises(DataError, match="NaN"):
        net.train(X, np.where(Y > 1, np.nan, Y), epochs=1, verbose=False)
    with pytest.raises(BarenetError, match="unknown loss 'hinge'"):
        NeuralNetwork(5, [8], 2, loss="hinge")
    with pytest.raises(BarenetError, match="at least 2"):
        NeuralNetwork.from_layers([Dense(1)], 5)  # one output cannot be a classifier


def test_the_callers_targets_are_not_modified():
    X, Y = friedman(50)
    before = Y.copy()
    NeuralNetwork(5, [4], 2, loss="mse", seed=0).train(X, Y, epochs=1, verbose=False)
    np.testing.assert_array_equal(Y, before)


def test_model_files_and_checkpoints_keep_the_loss(tmp_path):
    X, Y = friedman(200)

    def run(epochs, **options):
        net = NeuralNetwork(5, [8], 2, optimizer="adam", loss="mse", seed=3)
        net.train(X, Y, epochs=epochs, batch_size=32, verbose=False, **options)
        return net

    reference = run(4)
    reference.save_model(tmp_path / "reg.npz")
    loaded = load_model(tmp_path / "reg.npz")
    assert loaded.loss == "mse" and loaded.is_regression
    np.testing.assert_array_equal(loaded.predict(X), reference.predict(X))

    ckpt = tmp_path / "reg.ckpt"
    run(4, checkpoint=ckpt, callbacks=[lambda epoch, logs: epoch == 1])  # stops after 2
    resumed = run(4, checkpoint=ckpt, resume=True)
    np.testing.assert_array_equal(resumed.params, reference.params)


def test_onnx_regression_has_no_softmax(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    X, Y = friedman(100)
    net = NeuralNetwork(5, [8], 2, loss="mse", seed=0)
    net.train(X, Y, epochs=2, verbose=False)
    model = net.to_onnx(tmp_path / "reg.onnx")
    assert "Softmax" not in {node.op_type for node in model.graph.node}
    session = ort.InferenceSession(str(tmp_path / "reg.onnx"))
    (out,) = session.run(["predictions"], {"input": X})
    np.testing.assert_allclose(out, net.predict(X), atol=1e-5)


@pytest.mark.parametrize(
    "optimizer, rate", [("sgd", 0.01), ("nesterov", 0.01), ("adam", 0.001), ("rmsprop", 0.001)]
)
def test_each_optimizer_brings_its_own_default_rate(optimizer, rate):
    assert NeuralNetwork(optimizer=optimizer).learning_rate == rate
    assert NeuralNetwork.from_layers([Dense(10)], 4, optimizer=optimizer).learning_rate == rate
    assert NeuralNetwork(optimizer=optimizer, learning_rate=0.5).learning_rate == 0.5
    assert NeuralNetwork(784, [8], 10, 0.01).optimizer.learning_rate == 0.01  # original signature


def test_loss_and_gradient_changes_nothing_a_later_step_sees():
    rng = np.random.default_rng(0)
    net = NeuralNetwork(6, [8], 3, batch_norm=True, dropout=0.5, seed=0)
    X, y = rng.normal(size=(16, 6)) * 3 + 1, rng.integers(0, 3, 16)
    arrays = {k: v.copy() for k, v in net.named_arrays().items()}
    state = net.rng.bit_generator.state
    first = net.loss_and_gradient(X, y)
    for name, array in net.named_arrays().items():
        np.testing.assert_array_equal(array, arrays[name], err_msg=name)  # running stats too
    assert net.rng.bit_generator.state == state
    second = net.loss_and_gradient(X, y)  # the same dropout mask again
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])


def test_a_missing_model_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_model(tmp_path / "missing.npz")
    with pytest.raises(BarenetError):  # and still the ValueError family, as before
        load_model(tmp_path / "missing.npz")
