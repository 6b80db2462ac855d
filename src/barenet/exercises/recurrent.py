"""Checker for one step of a tanh recurrent network's backward pass, the step that
backpropagation through time repeats: the formula below, which chained over the steps of a
sequence gives barenet's :class:`~barenet.nn.recurrent.RNN` gradients (``tests/exercises``).
"""

import numpy as np

from barenet.exercises.checking import Case, check_cases, seeded, shapes


def rnn_step_gradients(x, h_prev, Wx, Wh, b, dh, mistake=None):
    """``(dx, dh_prev, dWx, dWh, db)`` of ``h = tanh(a)``, ``a = x Wx + h_prev Wh + b``:
    ``da = dh (1 - h^2)``, ``dx = da Wx^T``, ``dh_prev = da Wh^T``, ``dWx = x^T da``,
    ``dWh = h_prev^T da``, ``db`` the column sums of ``da``; or what the slip ``mistake``
    names gives instead (the keys of :data:`RNN_MISTAKES`)."""
    a = x @ Wx + h_prev @ Wh + b
    h = np.tanh(a)
    slope = {"tanh' of a": 1 - a * a, "no tanh'": 1, "1 - h": 1 - h}.get(mistake, 1 - h * h)
    da = dh * slope
    dh_prev = da @ Wh if mistake == "dh_prev no transpose" else da @ Wh.T
    dWh = da.T @ h_prev if mistake == "dWh transposed" else h_prev.T @ da
    dWx = x.T @ da / (len(x) if mistake == "weights by B" else 1)
    if mistake == "weights by B":
        dWh = dWh / len(x)
    db = da.mean(axis=0) if mistake == "db mean" else da.sum(axis=0)
    return da @ Wx.T, dh_prev, dWx, dWh, db


RNN_MISTAKES = {
    "tanh' of a": "tanh's derivative 1 - h^2 is written with h = tanh(a), the output; yours "
    "squares the pre-activation a",
    "no tanh'": "tanh's derivative is missing: da = dh * (1 - h^2)",
    "1 - h": "the square is missing: tanh'(a) = 1 - h^2",
    "dh_prev no transpose": "dh_prev = da Wh^T: a missing transpose (Wh is square, so the shape "
    "does not tell)",
    "dWh transposed": "dWh = h_prev^T da; yours is its transpose, da^T h_prev (Wh is square, so "
    "the shape does not tell)",
    "weights by B": "dWx and dWh are divided by the batch size: a weight's gradient is a sum over "
    "the batch (dh already carries the loss's 1/B)",
    "db mean": "a mean where a sum is meant: db sums da over the batch",
}


def rnn_step_case(seed, k):
    """Case ``k``: batch ``B``, input features ``F`` and state size ``n`` all different."""
    rng = seeded(seed, k)
    B, F, n = (int(v) for v in rng.choice(np.arange(2, 7), size=3, replace=False))
    x, h_prev = rng.normal(size=(B, F)), np.tanh(rng.normal(size=(B, n)))
    Wx, Wh = rng.normal(size=(F, n)) / np.sqrt(F), rng.normal(size=(n, n)) / np.sqrt(n)
    b, dh = rng.normal(size=n) * 0.5, rng.normal(size=(B, n))
    args = (x, h_prev, Wx, Wh, b, dh)
    names = ("dx", "dh_prev", "dWx", "dWh", "db")
    references = dict(zip(names, rnn_step_gradients(*args)))
    mistakes = {name: [] for name in names}
    for mistake, what in RNN_MISTAKES.items():
        for name, array in zip(names, rnn_step_gradients(*args, mistake=mistake)):
            mistakes[name].append((what, array))
    return Case(shapes(x=x, h_prev=h_prev), args, references, mistakes)


def check_rnn_step(rnn_step_backward, seed=0):
    """Check ``rnn_step_backward(x, h_prev, Wx, Wh, b, dh) -> (dx, dh_prev, dWx, dWh, db)``.

    One step of a tanh recurrent layer (Elman's; barenet's :class:`~barenet.nn.recurrent.RNN`
    with ``W = Wx``, ``U = Wh``): ``h = tanh(x Wx + h_prev Wh + b)`` with ``x (B, F)``,
    ``h_prev (B, n)``, ``Wx (F, n)``, ``Wh (n, n)``, ``b (n,)``. Given ``dh = dL/dh (B, n)``,
    return the gradients of the five inputs, each of its input's shape: ``dh_prev`` is what the
    step before receives, backpropagation through time. Three cases.
    """
    cases = [rnn_step_case(seed, k) for k in range(3)]
    return check_cases("rnn_step_backward", rnn_step_backward, cases)
