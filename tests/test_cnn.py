"""Convolutional networks end to end: MNIST, files, checkpoints, ONNX, the public spine."""

import numpy as np
import pytest

from barenet import NeuralNetwork, load_and_preprocess_mnist, load_model
from barenet.nn import parse_layers
from tests.nn.layer_check import numeric_input_gradient

SMALL_CNN = "conv8x3 relu pool2 conv16x3 relu pool2 flatten dense32 relu dense10"


def small_cnn(line=SMALL_CNN, **keywords):
    keywords = {"optimizer": "nesterov", "learning_rate": 0.05, "seed": 0, **keywords}
    return NeuralNetwork.from_layers(parse_layers(line), (28, 28, 1), **keywords)


@pytest.fixture(scope="module")
def mnist():
    return load_and_preprocess_mnist()


@pytest.mark.mnist
def test_a_small_cnn_learns_mnist_in_seconds(mnist):
    X_train, _, X_test, y_train, _, y_test = mnist
    net = small_cnn()
    net.train(X_train[:6000], y_train[:6000], epochs=2, batch_size=32, verbose=False)
    # Measured 0.936, 0.943, 0.943 for seeds 0, 1, 2 (about 2 s each).
    assert net.calculate_accuracy(X_test[:2000], y_test[:2000]) >= 0.92


def toy(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)


def test_a_cnn_round_trips_through_its_model_file(tmp_path):
    X, y = toy()
    net = small_cnn("conv4x3same batchnorm relu pool2 conv6x3s2 gelu gap dropout0.2 dense10")
    net.train(X, y, epochs=2, batch_size=16, verbose=False)
    net.save_model(tmp_path / "cnn.npz")
    loaded = load_model(tmp_path / "cnn.npz")
    assert loaded.describe() == net.describe() and loaded.input_shape == (28, 28, 1)
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_a_cnn_checkpoint_resumes_to_the_same_weights_bit_for_bit(tmp_path):
    X, y = toy(64)
    options = dict(epochs=3, batch_size=16, verbose=False, schedule="cosine", augment="shift")
    straight = small_cnn()
    straight.train(X, y, **options)

    def stop(epoch, logs):
        if epoch == 1:
            raise KeyboardInterrupt

    first = small_cnn()
    with pytest.raises(KeyboardInterrupt):
        first.train(X, y, checkpoint=tmp_path / "run.ckpt", callbacks=[stop], **options)
    resumed = small_cnn()
    resumed.train(X, y, checkpoint=tmp_path / "run.ckpt", resume=True, **options)
    assert resumed.params.tobytes() == straight.params.tobytes()


def test_a_cnn_exports_to_onnx(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    X, y = toy()
    net = small_cnn("conv6x5p2 batchnorm relu pool3s2 conv8x3 tanh avgpool2 flatten dense10")
    net.train(X, y, epochs=1, batch_size=16, verbose=False)
    net.to_onnx(tmp_path / "cnn.onnx")
    session = ort.InferenceSession(str(tmp_path / "cnn.onnx"), providers=["CPUExecutionProvider"])
    probabilities = session.run(None, {"input": X})[0]
    np.testing.assert_allclose(probabilities, net.predict_proba(X), atol=1e-5)


def test_every_layer_of_a_cnn_shows_its_feature_maps():
    X, _ = toy(3)
    outputs = small_cnn().activations(X)
    shapes = {name: a.shape for name, a in outputs.items()}
    assert shapes["conv2d_0"] == (3, 26, 26, 8) and shapes["max_pool2d_2"] == (3, 13, 13, 8)
    assert shapes["flatten_6"] == (3, 400) and shapes["dense_9"] == (3, 10)


def test_the_input_gradient_of_a_cnn_matches_finite_differences():
    net = NeuralNetwork.from_layers(
        parse_layers("conv3x3 tanh pool2 flatten dense4"), (6, 6, 1), dtype="float64", seed=1
    )
    rng = np.random.default_rng(0)
    x, y = rng.random((2, 36)), np.array([1, 3])
    gradient, numeric = net.input_gradient(x, y), numeric_input_gradient(net, x, y)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-10)


def test_a_whole_cnn_backpropagates_like_finite_differences():
    net = NeuralNetwork.from_layers(
        parse_layers("conv2x3same batchnorm relu pool2 conv3x2 gelu gap dense3"),
        (6, 5, 2),
        dtype="float64",
        seed=2,
    )
    rng = np.random.default_rng(1)
    net.params += rng.normal(0, 0.1, net.params.size)
    X, y = rng.normal(size=(4, 60)), rng.integers(0, 3, 4)
    _, gradient = net.loss_and_gradient(X, y)
    numeric, eps = np.zeros_like(net.params), 1e-6
    for i in range(net.params.size):
        old = net.params[i]
        net.params[i] = old + eps
        plus = net.loss_and_gradient(X, y)[0]
        net.params[i] = old - eps
        minus = net.loss_and_gradient(X, y)[0]
        net.params[i] = old
        numeric[i] = (plus - minus) / (2 * eps)
    error = np.linalg.norm(gradient - numeric) / np.linalg.norm(gradient + numeric)
    assert error < 1e-6
