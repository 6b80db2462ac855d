"""The checkers' references are right: each equals centred finite differences of a forward pass
written here in plain NumPy, independently of barenet's layers; the NumPy formulas the checkers
compute their mistakes from equal barenet's layers when no mistake is asked for; and the cases
are never square."""

import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from barenet.exercises.attention import ATTENTION_SETTINGS, attention_case, attention_gradients
from barenet.exercises.checking import layer_pass, numeric_gradient, relative_error
from barenet.exercises.convolution import (
    CONV_SETTINGS,
    conv2d_case,
    conv2d_gradients,
    maxpool_case,
    maxpool_gradient,
)
from barenet.exercises.elementwise import activation_case, dropout_case
from barenet.exercises.normalization import (
    batchnorm_case,
    layernorm_case,
    normalization_gradients,
)
from barenet.exercises.optimizers import adam_case, adam_formula, momentum_case
from barenet.exercises.recurrent import rnn_step_case, rnn_step_gradients
from barenet.nn.activations import Sigmoid, Tanh
from barenet.nn.recurrent import RNN
from barenet.optim.optimizers import SGD, Adam

FINITE_DIFFERENCES = 1e-8  # float64 with h = 1e-5: about 1e-10 on these sizes


def agree_with_finite_differences(forward, case, h=1e-5):
    """Each reference of ``case`` (``dX``...) is the derivative of the loss ``forward[name]()``
    with respect to the array ``forward["inputs"][name]``, by centred differences of step h."""
    for name, reference in case.references.items():
        numeric = numeric_gradient(forward[name], forward["inputs"][name], h=h)
        assert relative_error(numeric, reference) < FINITE_DIFFERENCES, (name, case.description)


def conv_forward(X, W, b, stride, padding):
    Xp = np.pad(X, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    windows = sliding_window_view(Xp, W.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("bpqcij,ijcf->bpqf", windows, W) + b


@pytest.mark.parametrize("k", range(len(CONV_SETTINGS)))
def test_the_convolution_references_are_the_derivatives(k):
    case = conv2d_case(3, k, *CONV_SETTINGS[k])
    X, W, b, dY, s, p = (a.copy() if isinstance(a, np.ndarray) else a for a in case.args)

    def loss():
        return np.sum(conv_forward(X, W, b, s, p) * dY)

    forward = {"dX": loss, "dW": loss, "db": loss, "inputs": {"dX": X, "dW": W, "db": b}}
    agree_with_finite_differences(forward, case)
    dXp, dW, db = conv2d_gradients(X, W, dY, s, p)  # the mistakes' formula, without a mistake
    H, Wd = X.shape[1:3]
    np.testing.assert_allclose(dXp[:, p : p + H, p : p + Wd], case.references["dX"], atol=1e-12)
    np.testing.assert_allclose(dW, case.references["dW"], atol=1e-12)
    np.testing.assert_allclose(db, case.references["db"], atol=1e-12)
    assert X.shape[1] != X.shape[2] and W.shape[0] != W.shape[1] and W.shape[2] != W.shape[3]


@pytest.mark.parametrize("k, pool", [(0, 2), (1, 3)])
def test_the_max_pool_references_are_the_derivatives(k, pool):
    case = maxpool_case(3, k, pool, ties=False)
    X, dY, _ = (a.copy() if isinstance(a, np.ndarray) else a for a in case.args)
    B, H, W, C = X.shape

    def loss():
        windows = X[:, : H // pool * pool, : W // pool * pool]
        windows = windows.reshape(B, H // pool, pool, W // pool, pool, C)
        return np.sum(windows.max(axis=(2, 4)) * dY)

    agree_with_finite_differences({"dX": loss, "inputs": {"dX": X}}, case)
    np.testing.assert_array_equal(maxpool_gradient(X, dY, pool), case.references["dX"])
    assert H != W and (H % pool or W % pool)  # a row or column no window reaches


def test_the_max_pool_gives_a_tie_to_the_first_maximum_in_row_major_order():
    case = maxpool_case(0, 2, 2, ties=True)
    X, dY, pool = case.args
    np.testing.assert_array_equal(maxpool_gradient(X, dY, pool, "first"), case.references["dX"])
    windows = sliding_window_view(X, (2, 2), axis=(1, 2))[:, ::2, ::2]
    tied = (windows == windows.max(axis=(-2, -1), keepdims=True)).sum(axis=(-2, -1)) > 1
    assert tied.sum() >= 5  # the case has ties to route
    assert not np.array_equal(maxpool_gradient(X, dY, pool, "last"), case.references["dX"])


def norm_forward(X, gamma, beta, eps, axis):
    mean, var = X.mean(axis=axis, keepdims=True), X.var(axis=axis, keepdims=True)
    return gamma * (X - mean) / np.sqrt(var + eps) + beta


@pytest.mark.parametrize("k, eps", [(0, 1e-5), (1, 1e-3)])
def test_the_batch_norm_references_are_the_derivatives(k, eps):
    case = batchnorm_case(3, k, eps)
    X, gamma, dY, _ = (a.copy() if isinstance(a, np.ndarray) else a for a in case.args)
    beta = np.zeros_like(gamma)

    def loss():
        return np.sum(norm_forward(X, gamma, beta, eps, 0) * dY)

    inputs = {"dX": X, "dgamma": gamma, "dbeta": beta}
    # a step well below the small-variance values' spread (0.003)
    agree_with_finite_differences(dict.fromkeys(inputs, loss) | {"inputs": inputs}, case, h=1e-7)
    for got, want in zip(normalization_gradients(X, gamma, dY, eps, 0), case.references.values()):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert X.shape[0] != X.shape[1] and X.var(axis=0).min() < 3 * eps + 1e-4


@pytest.mark.parametrize("k, eps, tokens", [(0, 1e-5, True), (2, 1e-5, False)])
def test_the_layer_norm_references_are_the_derivatives(k, eps, tokens):
    case = layernorm_case(3, k, eps, tokens)
    X, gamma, dY, _ = (a.copy() if isinstance(a, np.ndarray) else a for a in case.args)
    beta = np.zeros_like(gamma)

    def loss():
        return np.sum(norm_forward(X, gamma, beta, eps, -1) * dY)

    inputs = {"dX": X, "dgamma": gamma, "dbeta": beta}
    # a step well below the small-variance values' spread (0.003)
    agree_with_finite_differences(dict.fromkeys(inputs, loss) | {"inputs": inputs}, case, h=1e-7)
    D = X.shape[-1]
    rows = normalization_gradients(X.reshape(-1, D), gamma, dY.reshape(-1, D), eps, 1)
    np.testing.assert_allclose(rows[0].reshape(X.shape), case.references["dX"], rtol=1e-10)
    assert len(set(X.shape)) == X.ndim  # B, T, D all different
    assert X.reshape(-1, D).var(axis=1).min() < 1e-4  # a row where eps matters


def attention_forward(X, Wq, Wk, Wv, Wo, heads):
    """Sample by sample and head by head, as the definition reads."""
    B, T, D = X.shape
    d = D // heads
    Y = np.zeros((B, T, D))
    for n in range(B):
        heads_out = np.zeros((T, D))
        for i in range(heads):
            cols = slice(i * d, (i + 1) * d)
            Q, K, V = X[n] @ Wq[:, cols], X[n] @ Wk[:, cols], X[n] @ Wv[:, cols]
            S = Q @ K.T / math.sqrt(d)
            A = np.exp(S - S.max(axis=1, keepdims=True))
            heads_out[:, cols] = (A / A.sum(axis=1, keepdims=True)) @ V
        Y[n] = heads_out @ Wo
    return Y


@pytest.mark.parametrize("k", range(len(ATTENTION_SETTINGS)))
def test_the_attention_references_are_the_derivatives(k):
    case = attention_case(3, k, *ATTENTION_SETTINGS[k])
    X, Wq, Wk, Wv, Wo, dY, heads = (a.copy() if isinstance(a, np.ndarray) else a for a in case.args)

    def loss():
        return np.sum(attention_forward(X, Wq, Wk, Wv, Wo, heads) * dY)

    inputs = {"dX": X, "dWq": Wq, "dWk": Wk, "dWv": Wv, "dWo": Wo}
    agree_with_finite_differences({**dict.fromkeys(inputs, loss), "inputs": inputs}, case)
    mine = attention_gradients(X, Wq, Wk, Wv, Wo, dY, heads)
    for got, want in zip(mine, case.references.values()):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert len(set(X.shape)) == 3


def test_the_rnn_step_references_are_the_derivatives():
    case = rnn_step_case(3, 0)
    x, h_prev, Wx, Wh, b, dh = (a.copy() for a in case.args)

    def loss():
        return np.sum(np.tanh(x @ Wx + h_prev @ Wh + b) * dh)

    inputs = {"dx": x, "dh_prev": h_prev, "dWx": Wx, "dWh": Wh, "db": b}
    agree_with_finite_differences({**dict.fromkeys(inputs, loss), "inputs": inputs}, case)
    assert len({*x.shape, h_prev.shape[1]}) == 3  # B, F, n all different


def test_the_rnn_step_chained_over_a_sequence_is_barenets_rnn():
    """Backpropagation through time with the step formula gives barenet's RNN gradients."""
    rng = np.random.default_rng(5)
    B, T, F, n = 3, 4, 5, 2
    X, dY = rng.normal(size=(B, T, F)), rng.normal(size=(B, n))
    W, U, b = rng.normal(size=(F, n)), rng.normal(size=(n, n)), rng.normal(size=n)
    _, dX, grads = layer_pass(RNN(n), X, dY, {"W": W, "U": U, "b": b})
    states = [np.zeros((B, n))]
    for t in range(T):
        states.append(np.tanh(X[:, t] @ W + states[-1] @ U + b))
    dh, total = dY, {"dWx": 0, "dWh": 0, "db": 0}
    mine = np.zeros_like(X)
    for t in reversed(range(T)):
        dx, dh, dWx, dWh, db = rnn_step_gradients(X[:, t], states[t], W, U, b, dh)
        mine[:, t] = dx
        total = {"dWx": total["dWx"] + dWx, "dWh": total["dWh"] + dWh, "db": total["db"] + db}
    np.testing.assert_allclose(mine, dX, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(total["dWx"], grads["W"], rtol=1e-10)
    np.testing.assert_allclose(total["dWh"], grads["U"], rtol=1e-10)
    np.testing.assert_allclose(total["db"], grads["b"], rtol=1e-10)


@pytest.mark.parametrize("layer, f", [(Sigmoid(), lambda z: 1 / (1 + np.exp(-z))),
                                      (Tanh(), np.tanh)])  # fmt: skip
def test_the_activation_references_are_the_derivatives(layer, f):
    mistakes_none = lambda Z, A, dA: []  # noqa: E731
    for k in range(3):
        case = activation_case(3, k, layer, mistakes_none)
        Z, dA = (a.copy() for a in case.args)
        forward = {"dZ": lambda Z=Z, dA=dA: np.sum(f(Z) * dA), "inputs": {"dZ": Z}}
        agree_with_finite_differences(forward, case)


def test_the_dropout_reference_scales_the_kept_units():
    for k, rate in enumerate((0.25, 0.6)):
        case = dropout_case(3, k, rate)
        dY, mask, _ = case.args
        assert mask.dtype == bool and 0 < mask.mean() < 1
        np.testing.assert_allclose(case.references["dX"], dY * mask / (1 - rate), rtol=1e-15)


def test_the_momentum_reference_is_the_papers_step_and_barenets_sgd():
    for k, (lr, mu) in enumerate(((0.1, 0.9), (0.05, 0.5))):
        case = momentum_case(3, k, lr, mu)
        params, grads, velocity, _, _ = case.args
        v = mu * velocity - lr * grads
        np.testing.assert_allclose(case.references["velocity"], v, rtol=1e-14)
        np.testing.assert_allclose(case.references["params"], params + v, rtol=1e-14)


def test_the_adam_reference_is_algorithm_1_and_barenets_adam_over_many_steps():
    settings = ((1, 0.01, 0.9, 0.999, 1e-8), (3, 0.001, 0.9, 0.999, 1e-3))
    for k, setting in enumerate(settings):
        case = adam_case(3, k, *setting)
        for got, want in zip(adam_formula(*case.args), case.references.values()):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-16)
    rng = np.random.default_rng(2)  # twenty steps from zero moments, as training takes them
    params, m, v = rng.normal(size=7), np.zeros(7), np.zeros(7)
    optimizer, theirs = Adam(learning_rate=0.01), params.copy()
    optimizer.setup(theirs)
    for t in range(1, 21):
        grads = rng.normal(size=7)
        params, m, v = adam_formula(params, grads, m, v, t, 0.01, 0.9, 0.999, 1e-8)
        optimizer.step(theirs, grads)
    np.testing.assert_allclose(params, theirs, rtol=1e-12)
    sgd, velocity, mine = SGD(0.1, momentum=0.9), np.zeros(7), rng.normal(size=7)
    theirs = mine.copy()
    sgd.setup(theirs)
    for _ in range(20):
        grads = rng.normal(size=7)
        velocity = 0.9 * velocity - 0.1 * grads
        mine = mine + velocity
        sgd.step(theirs, grads)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
