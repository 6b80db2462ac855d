"""RNN, LSTM and GRU: backpropagation through time against finite differences (float64), their
shapes, initialisation and layer strings, and a recurrent network end to end (training, clipping,
prediction, model files)."""

import pickle

import numpy as np
import pytest

from barenet import BarenetError, NeuralNetwork, load_model
from barenet.nn import GRU, LSTM, RNN, Dense, Flatten, describe_layers, parse_layers
from barenet.nn.stack import layer_from_config
from tests.nn.layer_check import check_layer, numeric_input_gradient, standalone
from tests.nn.network_check import numerical_gradient, relative_error

KINDS = [RNN, LSTM, GRU]


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("steps", [1, 2, 5])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "seq"])
@pytest.mark.parametrize("units,features", [(3, 2), (6, 4)])
def test_backpropagation_through_time_matches_finite_differences(
    cls, steps, return_sequences, units, features
):
    layer = cls(units, return_sequences=return_sequences)
    errors = check_layer(layer, (steps, features), batch=3)
    expected = {"X", "W", "U", "b"} | ({"bn"} if cls is GRU else set())
    assert set(errors) == expected
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_the_gradient_check_catches_a_backward_that_forgets_earlier_steps(cls):
    """Truncated to one step (no dL/dh_{t-1}), backward gives wrong gradients for U and W: the
    check must say so, or it could not fail."""
    layer = cls(4)
    steps_backward = layer.backward_steps

    def one_step_only(above):
        U = layer.U
        layer.U = np.zeros_like(U)  # dL/dh_{t-1} = da_t U^T becomes 0
        try:
            return steps_backward(above)
        finally:
            layer.U = U

    layer.backward_steps = one_step_only
    errors = check_layer(layer, (4, 3))
    assert errors["W"] > 1e-3 and errors["X"] > 1e-3


STACKS = [
    pytest.param(lambda: [LSTM(4, return_sequences=True), GRU(3), Dense(3)], id="lstmseq-gru"),
    pytest.param(
        lambda: [GRU(3, return_sequences=True), RNN(4, return_sequences=True), Flatten(), Dense(3)],
        id="gruseq-rnnseq-flatten",
    ),
]


@pytest.mark.parametrize("stack", STACKS)
def test_stacked_recurrent_layers_match_finite_differences(stack):
    rng = np.random.default_rng(0)
    net = NeuralNetwork.from_layers(stack(), (5, 2), dtype="float64", seed=1)
    net.params[...] += rng.normal(0, 0.1, net.params.size)  # non-zero biases
    X, y = rng.normal(size=(4, 10)), rng.integers(0, 3, 4)
    _, grad = net.loss_and_gradient(X, y)
    assert relative_error(grad, numerical_gradient(net, X, y)) < 1e-6
    dX = net.input_gradient(X, y)
    assert relative_error(dX, numeric_input_gradient(net, X, y)) < 1e-6


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "seq"])
def test_output_shapes_and_layout(cls, return_sequences):
    layer = cls(5, return_sequences=return_sequences)
    assert layer.build((7, 3)) == ((7, 5) if return_sequences else (5,))
    shapes = layer.param_shapes()
    G = {RNN: 1, LSTM: 4, GRU: 3}[cls]
    assert shapes["W"] == ((3, G * 5), True)
    assert shapes["U"] == ((5, G * 5), True)
    assert shapes["b"] == ((G * 5,), False)
    assert ("bn" in shapes) == (cls is GRU)
    standalone(layer, (7, 3), dtype=np.float32)
    X = np.random.default_rng(0).random((2, 7, 3), dtype=np.float32)
    Y = layer.forward(X)
    assert Y.shape == (2, *layer.output_shape) and Y.dtype == np.float32


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_the_last_state_is_the_last_step_of_the_sequence(cls):
    X = np.random.default_rng(0).normal(size=(3, 6, 2))
    last, seq = standalone(cls(4), (6, 2)), standalone(cls(4, return_sequences=True), (6, 2))
    np.testing.assert_array_equal(last.forward(X), seq.forward(X)[:, -1])


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_a_step_depends_only_on_the_steps_before_it(cls):
    rng = np.random.default_rng(0)
    layer = standalone(cls(4, return_sequences=True), (6, 2))
    X = rng.normal(size=(3, 6, 2))
    before = layer.forward(X).copy()
    X[:, 4:] = rng.normal(size=(3, 2, 2))
    after = layer.forward(X)
    np.testing.assert_array_equal(before[:, :4], after[:, :4])
    assert not np.allclose(before[:, 4:], after[:, 4:])


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_buffers_follow_the_batch_size_and_the_inputs_are_not_changed(cls):
    rng = np.random.default_rng(0)
    layer = standalone(cls(4, return_sequences=True), (5, 3))
    layer.input_grad = True
    big, small = rng.normal(size=(6, 5, 3)), rng.normal(size=(2, 5, 3))
    dbig, dsmall = rng.normal(size=(6, 5, 4)), rng.normal(size=(2, 5, 4))
    kept = small.copy()
    Y = layer.forward(small).copy()
    dX = layer.backward(dsmall.copy()).copy()
    grads = {k: v.copy() for k, v in layer.grads.items()}
    layer.forward(big)
    layer.backward(dbig.copy())
    np.testing.assert_array_equal(layer.forward(small), Y)
    np.testing.assert_array_equal(layer.backward(dsmall.copy()), dX)
    for name, value in grads.items():
        np.testing.assert_array_equal(layer.grads[name], value)
    np.testing.assert_array_equal(small, kept)


def test_initialisation_is_seeded_with_the_forget_gate_open():
    n, F = 8, 5
    lstm = standalone(LSTM(n), (3, F), dtype=np.float32)
    lstm.initialize(np.random.default_rng(4))
    b = lstm.b.reshape(4, n)
    np.testing.assert_array_equal(b, np.repeat([[0], [1], [0], [0]], n, axis=1))
    r = np.sqrt(6 / (F + n))  # Xavier uniform, per gate
    assert np.abs(lstm.W).max() <= r and np.abs(lstm.W).max() > 0.5 * r
    for gate in range(4):  # each gate's recurrent block is orthogonal
        U = lstm.U[:, gate * n : (gate + 1) * n].astype(np.float64)
        np.testing.assert_allclose(U.T @ U, np.eye(n), atol=1e-6)
    again = standalone(LSTM(n), (3, F), dtype=np.float32)
    again.initialize(np.random.default_rng(4))
    assert lstm.W.tobytes() == again.W.tobytes() and lstm.U.tobytes() == again.U.tobytes()
    gru = standalone(GRU(n), (3, F))
    gru.initialize(np.random.default_rng(4))
    assert not gru.b.any() and not gru.bn.any()


@pytest.mark.parametrize(
    "make, shape, message",
    [
        (lambda: LSTM(8), (784,), r"sequences \(steps, features\).*\(28, 28\) to read a digit"),
        (lambda: GRU(8), (28, 28, 1), r"GRU reads sequences"),
    ],
)
def test_inputs_that_are_no_sequences_are_refused_clearly(make, shape, message):
    with pytest.raises(BarenetError, match=message):
        NeuralNetwork.from_layers([make(), Dense(10)], shape)


def test_a_recurrent_layer_over_a_last_state_asks_for_return_sequences():
    with pytest.raises(BarenetError, match="return_sequences=True"):
        NeuralNetwork.from_layers([LSTM(8), GRU(4), Dense(3)], (5, 2))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: LSTM(0), "units must be >= 1"),
        (lambda: RNN(2.5), "units must be an integer"),
        (lambda: GRU(4, return_sequences="yes"), "return_sequences must be True or False"),
    ],
)
def test_bad_settings_are_named(make, message):
    with pytest.raises(BarenetError, match=message):
        make()


def test_a_batch_of_the_wrong_width_is_named():
    layer = standalone(LSTM(3), (4, 2))
    with pytest.raises(BarenetError, match=r"LSTM expects sequences \(batch, steps, 2\)"):
        layer.forward(np.zeros((5, 4, 3)))


LINES = [
    "rnn64 dense10",
    "lstm128 dense10",
    "gru64 dense10",
    "lstm128seq gru64 dense10",
    "rnn32seq dropout0.2 lstm16seq flatten dense10",
]


@pytest.mark.parametrize("line", LINES)
def test_layer_strings_read_back_as_written(line):
    layers = parse_layers(line)
    assert describe_layers(layers) == line
    rebuilt = [layer_from_config(layer.config()) for layer in layers]
    assert [la.config() for la in rebuilt] == [la.config() for la in layers]


def test_layer_strings_make_the_layers_they_name():
    lstm, gru, rnn = parse_layers("lstm128seq, GRU64 rnn8")
    assert (type(lstm), lstm.units, lstm.return_sequences) == (LSTM, 128, True)
    assert (type(gru), gru.units, gru.return_sequences) == (GRU, 64, False)
    assert (type(rnn), rnn.units) == (RNN, 8)
    assert lstm.config() == {"kind": "lstm", "units": 128, "return_sequences": True}


@pytest.mark.parametrize("word", ["lstm", "gru", "rnn", "lstmseq", "lstm12x", "gru8sequence"])
def test_a_recurrent_word_without_its_width_is_unknown(word):
    with pytest.raises(BarenetError, match="unknown layer.*lstm128seq"):
        parse_layers(word)


# -- a recurrent network end to end ------------------------------------------------------------

RNG = np.random.default_rng(0)
ROWS = RNG.random((48, 28 * 28), dtype=np.float32)  # flat MNIST-like rows
LABELS = RNG.integers(0, 10, 48)


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_an_image_is_read_row_by_row_and_survives_its_model_file(cls, tmp_path):
    net = NeuralNetwork.from_layers([cls(12), Dense(10)], input_shape=(28, 28), seed=0)
    assert net.describe() == f"{cls.kind}12 dense10"
    assert net.forward(ROWS[:5]).shape == (5, 10) and net.params.dtype == np.float32
    before = net.params.copy()
    net.train(ROWS, LABELS, epochs=1, batch_size=16, verbose=False)
    assert np.isfinite(net.params).all() and not np.array_equal(net.params, before)
    predicted = net.predict(ROWS)
    np.testing.assert_array_equal(net.predict(ROWS.reshape(-1, 28, 28)), predicted)
    net.save_model(tmp_path / "rnn.npz")
    loaded = load_model(tmp_path / "rnn.npz")
    assert loaded.predict_proba(ROWS).tobytes() == net.predict_proba(ROWS).tobytes()
    copied = pickle.loads(pickle.dumps(net))
    assert copied.predict_proba(ROWS).tobytes() == net.predict_proba(ROWS).tobytes()


def test_gradient_clipping_works_with_a_recurrent_network():
    net = NeuralNetwork.from_layers(
        [LSTM(8, return_sequences=True), GRU(8), Dense(10)], (28, 28), optimizer="adam", seed=0
    )
    history = net.train(ROWS, LABELS, epochs=2, batch_size=16, verbose=False, clip_norm=1.0)
    assert np.isfinite(history["train_loss"]).all() and np.isfinite(net.params).all()


def _digit_rows():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    return (X[:600] / 16).astype(np.float32), y[:600]  # 8 rows of 8 pixels


def _train_on_digit_rows(cls, X, y, seed):
    net = NeuralNetwork.from_layers(
        [cls(32), Dense(10)], (8, 8), optimizer="adam", learning_rate=0.01, seed=seed
    )
    history = net.train(X, y, epochs=5, batch_size=32, verbose=False, clip_norm=5.0)
    return net, history


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_a_recurrent_network_learns_to_read_digits_row_by_row_and_repeats_itself(cls):
    X, y = _digit_rows()
    net, history = _train_on_digit_rows(cls, X, y, seed=3)
    losses = history["train_loss"]
    assert losses[-1] < 0.3 * losses[0], losses
    assert net.evaluate(X, y)["accuracy"] > 0.85
    again, _ = _train_on_digit_rows(cls, X, y, seed=3)
    assert again.params.tobytes() == net.params.tobytes()


@pytest.mark.parametrize("line", ["lstm8seq gru6", "rnn8 dropout0.2 dense5"])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_resumed_recurrent_run_ends_with_the_uninterrupted_weights(tmp_path, line, workers):
    """Stopped after 2 of 4 epochs (clipping, a schedule, one or two threads per step) and
    resumed from its checkpoint, a recurrent network ends bit for bit where an uninterrupted
    run does."""
    from barenet import NeuralNetwork
    from barenet.nn import parse_layers

    rng = np.random.default_rng(0)
    X, y = rng.random((96, 6 * 5), dtype=np.float32), rng.integers(0, 3, 96)

    def run(**kwargs):
        net = NeuralNetwork.from_layers(parse_layers(line + " dense3"), (6, 5),
                                        optimizer="adam", learning_rate=3e-3, seed=2)  # fmt: skip
        net.train(X, y, epochs=4, batch_size=16, verbose=False, schedule="cosine",
                  clip_norm=1.0, workers=workers, **kwargs)  # fmt: skip
        return net

    reference = run()
    path = tmp_path / "run.ckpt"
    stopped = run(checkpoint=path, callbacks=[lambda epoch, logs: epoch == 1])
    assert len(stopped.history["train_loss"]) == 2
    resumed = run(checkpoint=path, resume=True)
    assert resumed.training_info.workers == workers
    assert resumed.params.tobytes() == reference.params.tobytes()
    assert not np.array_equal(reference.params, NeuralNetwork.from_layers(
        parse_layers(line + " dense3"), (6, 5), seed=2).params)  # fmt: skip
