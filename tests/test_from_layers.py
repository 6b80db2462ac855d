"""A network made of a list of layers: the same path as the original signature, and the public
training spine (forward, backward, backprop, activations, input gradients)."""

import numpy as np
import pytest

from barenet import BarenetError, NeuralNetwork, load_model
from barenet.nn import GELU, BatchNorm, Dense, Dropout, Flatten, ReLU, Tanh
from barenet.train.trainer import Trainer
from tests.nn.layer_check import numeric_input_gradient

RNG = np.random.default_rng(0)
X = RNG.random((64, 12), dtype=np.float32)
Y = RNG.integers(0, 3, 64)


def test_the_original_signature_and_from_layers_give_the_same_network_bit_for_bit():
    a = NeuralNetwork(12, [8, 6], 3, 0.1, batch_norm=True, dropout=0.2, seed=4)
    layers = [
        Dense(8),
        BatchNorm(),
        ReLU(),
        Dropout(0.2),
        Dense(6),
        BatchNorm(),
        ReLU(),
        Dropout(0.2),
        Dense(3),
    ]
    b = NeuralNetwork.from_layers(layers, 12, learning_rate=0.1, seed=4)
    for net in (a, b):
        net.train(X, Y, epochs=2, batch_size=16, verbose=False)
    assert a.get_config() == b.get_config()
    assert a.params.tobytes() == b.params.tobytes()


def test_every_keyword_of_the_original_constructor_is_accepted():
    net = NeuralNetwork.from_layers(
        [Dense(5), Tanh(), Dense(3)],
        (12,),
        learning_rate=0.2,
        optimizer="adam",
        l2=1e-3,
        l1=1e-4,
        dtype="float64",
        seed=1,
        class_names=["a", "b", "c"],
        image_shape=(3, 4),
    )
    assert (net.optimizer.name, net.learning_rate, net.l2, net.l1) == ("adam", 0.2, 1e-3, 1e-4)
    assert (net.dtype, net.class_names, net.image_shape) == (np.float64, ["a", "b", "c"], [3, 4])
    assert (net.input_size, net.hidden_sizes, net.output_size, net.activation) == (
        12,
        [5],
        3,
        "tanh",
    )


def test_image_inputs_come_flat_or_shaped():
    net = NeuralNetwork.from_layers([Flatten(), Dense(3)], (2, 3, 2), seed=0)
    flat = RNG.random((5, 12), dtype=np.float32)
    assert net.image_shape == [2, 3] or net.image_shape is None
    np.testing.assert_array_equal(
        net.predict_proba(flat), net.predict_proba(flat.reshape(5, 2, 3, 2))
    )
    assert net.input_size == 12 and repr(net).startswith("NeuralNetwork(2x3x2: flatten dense3")


def test_backprop_is_forward_loss_gradient_backward_and_train_batch_steps():
    net = NeuralNetwork(12, [7], 3, 0.5, seed=2)
    loss, gradient = net.loss_and_gradient(X, Y)
    assert loss == pytest.approx(net.evaluate(X, Y)["loss"], rel=1e-6)
    before = net.params.copy()
    assert net.backprop(X, Y) == pytest.approx(loss, rel=1e-6)
    np.testing.assert_array_equal(net.grads, gradient)
    np.testing.assert_array_equal(net.params, before)  # backward never steps
    batch_loss, hits = Trainer(net, batch_size=64).train_batch(X, Y)
    assert batch_loss == pytest.approx(loss, rel=1e-6) and 0 <= hits <= 64
    np.testing.assert_allclose(net.params, before - 0.5 * gradient, rtol=1e-5, atol=1e-7)


def test_forward_and_backward_are_the_two_halves_of_backprop():
    net = NeuralNetwork(12, [7], 3, seed=2, dtype="float64")
    logits = net.forward(X.astype(np.float64), training=True).copy()
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    dZ = (P - np.eye(3)[Y]) / len(Y)
    net.backward(dZ)
    np.testing.assert_allclose(net.grads, net.loss_and_gradient(X, Y)[1], rtol=1e-10)


def test_activations_give_every_layers_output():
    net = NeuralNetwork(12, [7, 5], 3, seed=0)
    outputs = net.activations(X[:4])
    assert list(outputs) == ["dense_0", "relu_1", "dense_2", "relu_3", "dense_4"]
    assert [a.shape for a in outputs.values()] == [(4, 7), (4, 7), (4, 5), (4, 5), (4, 3)]
    assert (outputs["relu_1"] >= 0).all()
    np.testing.assert_allclose(outputs["dense_4"], net.forward(X[:4]), rtol=1e-6)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_input_gradient_matches_finite_differences(batch_norm):
    net = NeuralNetwork.from_layers(
        [Dense(6), *([BatchNorm()] if batch_norm else []), GELU(), Dense(3)],
        12,
        dtype="float64",
        seed=3,
    )
    net.train(X, Y, epochs=1, batch_size=8, verbose=False)  # running statistics move
    x, y = X[:2].astype(np.float64), Y[:2]
    gradient, numeric = net.input_gradient(x, y), numeric_input_gradient(net, x, y)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-9)


def test_parameter_slices_name_every_part_of_the_flat_buffer():
    net = NeuralNetwork(12, [7], 3, batch_norm=True)
    slices, arrays = net.parameter_slices(), net.named_arrays()
    assert sum(s.stop - s.start for s in slices.values()) == net.params.size
    for name, part in slices.items():
        assert np.shares_memory(arrays[name], net.params[part])


def test_a_layer_list_network_round_trips_through_its_file(tmp_path):
    net = NeuralNetwork.from_layers(
        [Dense(9), GELU(), Dropout(0.1), Dense(3)],
        12,
        seed=0,
        optimizer="nesterov",
        learning_rate=0.05,
    )
    net.train(X, Y, epochs=2, batch_size=16, verbose=False)
    net.save_model(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.describe() == "dense9 gelu dropout0.1 dense3"
    assert loaded.get_config() == net.get_config()
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


@pytest.mark.parametrize(
    "layers, shape, message",
    [
        ([], 12, "at least one layer"),
        ([Dense(3), "relu"], 12, r"layers\[1\] must be a layer from barenet.nn"),
        ([ReLU()], (4, 3, 1), r"the last layer must give one score per class"),
        ([Dense(1)], 12, r"at least 2"),
        ([Dense(3)], (4, 3, 1), r"put Flatten\(\) before it"),
        ([Dense(3)], "12", "input_shape must be an int or a tuple"),
        ([Dense(3)], (12, 0), "each input_shape size must be >= 1"),
    ],
)
def test_bad_layer_lists_are_refused_clearly(layers, shape, message):
    with pytest.raises(BarenetError, match=message):
        NeuralNetwork.from_layers(layers, shape)


def test_a_layer_object_serves_one_network_only():
    relu = ReLU()
    with pytest.raises(BarenetError, match="only once"):
        NeuralNetwork.from_layers([Dense(5), relu, Dense(5), relu, Dense(3)], 12)
