"""Each optimizer's first steps against the formulas written out by hand."""

import numpy as np
import pytest

from barenet import BarenetError, NeuralNetwork
from barenet.optim.optimizers import SGD, Adam, AdamW, RMSprop, get_optimizer


def run(opt, grads_seq, p0=(1.0, -2.0), mask=None):
    p = np.array(p0)
    opt.setup(p, None if mask is None else np.array(mask, float))
    for g in grads_seq:
        opt.step(p, np.array(g))
    return p


G = [(0.5, -1.0), (0.25, 0.5), (-1.0, 2.0)]


def test_sgd():
    np.testing.assert_allclose(run(SGD(0.1), G), np.array([1, -2]) - 0.1 * np.sum(G, axis=0))


def test_momentum_and_nesterov():
    v, p, pn = np.zeros(2), np.array([1.0, -2.0]), np.array([1.0, -2.0])
    vn = np.zeros(2)
    for g in map(np.array, G):
        v = 0.9 * v - 0.1 * g
        p = p + v
        vn = 0.9 * vn - 0.1 * g
        pn = pn + 0.9 * vn - 0.1 * g
    np.testing.assert_allclose(run(SGD(0.1, momentum=0.9), G), p)
    np.testing.assert_allclose(run(SGD(0.1, momentum=0.9, nesterov=True), G), pn)


def test_rmsprop():
    s, p = np.zeros(2), np.array([1.0, -2.0])
    for g in map(np.array, G):
        s = 0.9 * s + 0.1 * g**2
        p = p - 0.01 * g / (np.sqrt(s) + 1e-8)
    np.testing.assert_allclose(run(RMSprop(0.01), G), p)


def adam_reference(p, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, mask=(1, 1)):
    """Adam exactly as in Kingma & Ba's Algorithm 1 (AdamW: decoupled decay first)."""
    m, v, p = np.zeros(2), np.zeros(2), np.array(p)
    for t, g in enumerate(map(np.array, grads), start=1):
        p = p - lr * wd * p * np.array(mask)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return p


def test_adam_and_adamw_match_the_paper():
    np.testing.assert_allclose(run(Adam(0.001), G), adam_reference((1.0, -2.0), G), rtol=1e-12)
    got = run(AdamW(0.01, weight_decay=0.1), G, mask=(1, 0))
    np.testing.assert_allclose(got, adam_reference((1.0, -2.0), G, lr=0.01, wd=0.1, mask=(1, 0)))


def test_state_round_trip_continues_identically():
    a, b = Adam(0.01), Adam(0.01)
    pa = run(a, G[:2])
    b.setup(pa.copy())
    b.set_state({k: np.copy(v) for k, v in a.state().items()})
    pb = pa.copy()
    a.step(pa, np.array(G[2]))
    b.step(pb, np.array(G[2]))
    assert np.array_equal(pa, pb)


def test_names_and_errors():
    assert isinstance(get_optimizer("adam"), Adam)
    mom = get_optimizer("momentum", learning_rate=0.05)
    assert mom.momentum == 0.9 and mom.learning_rate == 0.05 and not mom.nesterov
    assert get_optimizer({"name": "sgd", "momentum": 0.5}).momentum == 0.5
    with pytest.raises(BarenetError, match="learning_rate must be > 0, got -1"):
        SGD(-1)
    with pytest.raises(BarenetError, match="momentum must be >= 0 and < 1, got 1.5"):
        SGD(0.1, momentum=1.5)
    with pytest.raises(BarenetError, match="unknown optimizer 'lbfgs'; choose one of"):
        get_optimizer("lbfgs")
    with pytest.raises(BarenetError, match="bad settings for optimizer 'adam'"):
        get_optimizer({"name": "adam", "beta": 0.9})


def test_momentum_reaches_a_lower_loss_than_plain_sgd_on_the_same_budget():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 20)).astype(np.float32)
    y = (X[:, :3].sum(axis=1) > 0).astype(int) + (X[:, 3] > 1)
    losses = {}
    for name in ("sgd", "momentum", "adam"):
        lr = 0.001 if name == "adam" else 0.01
        nn = NeuralNetwork(20, [32], 3, learning_rate=lr, optimizer=name, seed=0)
        nn.train(X, y, epochs=5, batch_size=32, verbose=False)
        losses[name] = nn.evaluate(X, y)["loss"]
    assert losses["momentum"] < 0.9 * losses["sgd"]
    assert losses["adam"] < 0.9 * losses["sgd"]


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"])
def test_every_optimizer_takes_a_zero_step_at_a_zero_rate(name):
    """A schedule at its end sets the rate to 0: no step, no ZeroDivisionError (issue 18)."""
    opt = get_optimizer(name, 0.1)
    p = np.array([1.0, -2.0])
    opt.setup(p, np.ones(2))
    opt.step(p, np.array([0.5, -1.0]))  # a real step first, so that moments are non-zero
    moved = p.copy()
    opt.learning_rate = 0.0
    with np.errstate(all="raise"):
        opt.step(p, np.array([0.25, 0.5]))
    np.testing.assert_array_equal(p, moved)
    assert opt.t == 2  # the step was counted: a resumed run keeps the same bias correction


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"])
def test_update_is_the_old_name_of_step_and_takes_the_same_step(name):
    grads = np.array([0.5, -1.0, 0.25])
    stepped, updated = np.ones(3), np.ones(3)
    a, b = get_optimizer(name, 0.1), get_optimizer(name, 0.1)
    a.setup(stepped, np.ones(3))
    b.setup(updated, np.ones(3))
    for _ in range(3):
        a.step(stepped, grads)
        b.update(updated, grads)
    assert not np.array_equal(stepped, np.ones(3))
    np.testing.assert_array_equal(stepped, updated)
