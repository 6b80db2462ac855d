"""Each checker on the answers students get wrong: the common mistakes, written as a student
would, each fail on the gradients it spoils and the report names the mistake (its ``likely:``
line); the right answers pass on several seeds."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from barenet import exercises
from tests.exercises.answers import more_layers as right

# -- convolution -------------------------------------------------------------------------------


def conv_by_full_convolution(flip):
    """dX as a full convolution of dY (dilated by the stride, padded by k - 1) with the kernel
    turned by 180 degrees, its channels and filters swapped; ``flip=False`` forgets the turn."""

    def conv2d_backward(X, W, b, dY, stride, padding):
        _, dW, db = right.conv2d_backward(X, W, b, dY, stride, padding)
        (B, H, Wd, C), (kh, kw, _, F), (OH, OW) = X.shape, W.shape, dY.shape[1:3]
        dilated = np.zeros((B, stride * (OH - 1) + 1, stride * (OW - 1) + 1, F))
        dilated[:, ::stride, ::stride] = dY
        full = np.pad(dilated, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
        V = (W[::-1, ::-1] if flip else W).transpose(0, 1, 3, 2)  # (kh, kw, F, C)
        windows = sliding_window_view(full, (kh, kw), axis=(1, 2))  # (B, ., ., F, kh, kw)
        dXp = np.einsum("bhwfij,ijfc->bhwc", windows, V)
        Hp, Wp = H + 2 * padding, Wd + 2 * padding  # rows past the last window get nothing
        grown = np.zeros((B, max(Hp, dXp.shape[1]), max(Wp, dXp.shape[2]), C))
        grown[:, : dXp.shape[1], : dXp.shape[2]] = dXp
        return grown[:, padding : padding + H, padding : padding + Wd], dW, db

    return conv2d_backward


def conv_padding_kept(X, W, b, dY, stride, padding):
    """The gradient of the padded input, its border not cut off."""
    (kh, kw), (OH, OW) = W.shape[:2], dY.shape[1:3]
    Xp = np.pad(X, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    dXp = np.zeros_like(Xp)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + stride * (OH - 1) + 1, stride)
            cols = slice(j, j + stride * (OW - 1) + 1, stride)
            dXp[:, rows, cols] += dY @ W[i, j].T
    _, dW, db = right.conv2d_backward(X, W, b, dY, stride, padding)
    return dXp, dW, db


def conv_dW_flipped(X, W, b, dY, stride, padding):
    dX, dW, db = right.conv2d_backward(X, W, b, dY, stride, padding)
    return dX, dW[::-1, ::-1], db


def conv_cols_in_channel_order(X, W, b, dY, stride, padding):
    """im2col from sliding_window_view without moving the channels last: cols are ordered
    (channel, row, column), and dW2 = cols^T dY2 reshaped as if they were (row, column, channel)."""
    dX, _, db = right.conv2d_backward(X, W, b, dY, stride, padding)
    Xp = np.pad(X, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    windows = sliding_window_view(Xp, W.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    OH, OW = dY.shape[1:3]
    cols = windows[:, :OH, :OW].reshape(-1, np.prod(W.shape[:3]))
    return dX, (cols.T @ dY.reshape(-1, W.shape[3])).reshape(W.shape), db


def conv_dW_mean(X, W, b, dY, stride, padding):
    dX, dW, db = right.conv2d_backward(X, W, b, dY, stride, padding)
    return dX, dW / len(X), db


def conv_db(reduce):
    def conv2d_backward(X, W, b, dY, stride, padding):
        dX, dW, _ = right.conv2d_backward(X, W, b, dY, stride, padding)
        return dX, dW, reduce(dY)

    return conv2d_backward


def conv_dW_channels_swapped(X, W, b, dY, stride, padding):
    dX, dW, db = right.conv2d_backward(X, W, b, dY, stride, padding)
    return dX, dW.transpose(0, 1, 3, 2), db


def conv_order_swapped(X, W, b, dY, stride, padding):
    dX, dW, db = right.conv2d_backward(X, W, b, dY, stride, padding)
    return dX, db, dW


# -- max pooling -------------------------------------------------------------------------------


def pool_windows(X, pool):
    """The covered part of X as ``(B, OH, OW, C, pool*pool)`` windows, row-major inside."""
    B, H, W, C = X.shape
    OH, OW = H // pool, W // pool
    inside = X[:, : OH * pool, : OW * pool].reshape(B, OH, pool, OW, pool, C)
    return inside.transpose(0, 1, 3, 5, 2, 4).reshape(B, OH, OW, C, pool * pool)


def upsample(Y, pool):
    return np.repeat(np.repeat(Y, pool, axis=1), pool, axis=2)


def maxpool_every_tied_max(X, dY, pool):
    """The mask ``X == max of its window``: every tied maximum gets the gradient."""
    OH, OW = dY.shape[1:3]
    inside = X[:, : OH * pool, : OW * pool]
    top = upsample(pool_windows(X, pool).max(axis=-1), pool)
    dX = np.zeros_like(X)
    dX[:, : OH * pool, : OW * pool] = (inside == top) * upsample(dY, pool)
    return dX


def maxpool_last_max(X, dY, pool):
    B, OH, OW, C = dY.shape
    dX = np.zeros_like(X)
    b, c = np.indices((B, C))
    for p in range(OH):
        for q in range(OW):
            window = X[:, p * pool : (p + 1) * pool, q * pool : (q + 1) * pool]
            flat = window.reshape(B, pool * pool, C)
            last = pool * pool - 1 - flat[:, ::-1].argmax(axis=1)
            i, j = np.divmod(last, pool)
            dX[b, p * pool + i, q * pool + j, c] = dY[:, p, q]
    return dX


def maxpool_tie_shared(X, dY, pool):
    OH, OW = dY.shape[1:3]
    inside = X[:, : OH * pool, : OW * pool]
    windows = pool_windows(X, pool)
    hits = windows == windows.max(axis=-1, keepdims=True)
    top, count = upsample(windows.max(axis=-1), pool), upsample(hits.sum(axis=-1), pool)
    dX = np.zeros_like(X)
    dX[:, : OH * pool, : OW * pool] = (inside == top) * upsample(dY, pool) / count
    return dX


def maxpool_average(X, dY, pool):
    OH, OW = dY.shape[1:3]
    dX = np.zeros_like(X)
    dX[:, : OH * pool, : OW * pool] = upsample(dY, pool) / pool**2
    return dX


def maxpool_no_mask(X, dY, pool):
    OH, OW = dY.shape[1:3]
    dX = np.zeros_like(X)
    dX[:, : OH * pool, : OW * pool] = upsample(dY, pool)
    return dX


def maxpool_covered_only(X, dY, pool):
    OH, OW = dY.shape[1:3]
    return right.maxpool_backward(X, dY, pool)[:, : OH * pool, : OW * pool]


# -- batch norm and layer norm -----------------------------------------------------------------


def norm_backward(axis, mistake=None, ddof=0):
    """Batch norm (``axis=0``) or layer norm (``axis=-1``) backward with one slip: ``mistake``
    as in :func:`barenet.exercises.normalization.normalization_gradients`, or ``"wrong axis"``
    (the other norm's statistics), ``"dgamma X"``, ``"dgamma mean"``, ``"dbeta mean"``,
    ``"dbeta features"``, ``"dgamma batch only"``."""

    def backward(X, gamma, dY, eps):
        stats = (1 if axis == 0 else 0) if mistake == "wrong axis" else axis
        rows = X.reshape(-1, X.shape[-1]) if stats == 0 else X
        mean = rows.mean(axis=stats, keepdims=True)
        var = rows.var(axis=stats, keepdims=True)
        mean, var = (np.broadcast_to(a, rows.shape).reshape(X.shape) for a in (mean, var))
        if mistake == "eps outside":
            s = 1 / (np.sqrt(var) + eps)
        else:
            s = 1 / np.sqrt(var + (0 if mistake == "no eps" else eps))
        x_hat = (X - mean) * s
        g = dY if mistake == "no gamma" else dY * gamma

        def average(A):
            A2 = A.reshape(-1, A.shape[-1]) if stats == 0 else A
            reduce = np.sum if mistake == "sums" else np.mean
            return np.broadcast_to(reduce(A2, axis=stats, keepdims=True), A2.shape).reshape(A.shape)

        if mistake == "constants":
            dX = s * g
        elif mistake == "no variance":
            dX = s * (g - average(g))
        elif mistake == "no mean":
            dX = s * (g - x_hat * average(g * x_hat))
        else:
            dX = s * (g - average(g) - x_hat * average(g * x_hat))
        rows_axes = tuple(range(X.ndim - 1))
        dgamma = (dY * (X if mistake == "dgamma X" else x_hat)).sum(axis=rows_axes)
        dbeta = dY.sum(axis=rows_axes)
        if mistake == "dgamma mean":
            dgamma = (dY * x_hat).mean(axis=rows_axes)
        if mistake == "dbeta mean":
            dbeta = dY.mean(axis=rows_axes)
        if mistake == "dbeta features":
            dbeta = dY.sum(axis=-1)
        if mistake == "dgamma batch only":
            dgamma = (dY * x_hat).sum(axis=0)
        return dX, dgamma, dbeta

    return backward


# -- attention and the RNN step: each slip of the plain NumPy formula ---------------------------


def attention_with(mistake):
    from barenet.exercises.attention import attention_gradients

    return lambda X, Wq, Wk, Wv, Wo, dY, heads: attention_gradients(
        X, Wq, Wk, Wv, Wo, dY, heads, mistake=mistake
    )


def rnn_with(mistake):
    def rnn_step_backward(x, h_prev, Wx, Wh, b, dh):
        a = x @ Wx + h_prev @ Wh + b
        h = np.tanh(a)
        slope = {"tanh' of a": 1 - a**2, "no tanh'": 1, "1 - h": 1 - h}.get(mistake, 1 - h**2)
        da = dh * slope
        dh_prev = da @ Wh if mistake == "dh_prev no transpose" else da @ Wh.T
        dWh = da.T @ h_prev if mistake == "dWh transposed" else h_prev.T @ da
        dWx = x.T @ da
        if mistake == "weights by B":
            dWx, dWh = dWx / len(x), dWh / len(x)
        db = da.mean(axis=0) if mistake == "db mean" else da.sum(axis=0)
        return da @ Wx.T, dh_prev, dWx, dWh, db

    return rnn_step_backward


def adam_with(mistake):
    from barenet.exercises.optimizers import adam_formula

    def adam_step(params, grads, m, v, t, lr, beta1, beta2, eps):
        with np.errstate(all="ignore"):
            return adam_formula(params, grads, m, v, t, lr, beta1, beta2, eps, mistake=mistake)

    return adam_step


def adam_written_out(params, grads, m, v, t, lr, beta1, beta2, eps):
    """A student's Adam without the bias correction, written out."""
    m = beta1 * m + (1 - beta1) * grads
    v = beta2 * v + (1 - beta2) * grads**2
    return params - lr * m / (np.sqrt(v) + eps), m, v


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


# (checker, the mistaken answer, the outputs it gets wrong, a phrase of its hint)
MISTAKES = {
    "conv2d kernel not flipped": (
        exercises.check_conv2d, conv_by_full_convolution(flip=False), ["dX"],
        "the kernel is not flipped",
    ),
    "conv2d padding kept": (
        exercises.check_conv2d, conv_padding_kept, ["dX"], "the padding is still on",
    ),
    "conv2d dW flipped": (exercises.check_conv2d, conv_dW_flipped, ["dW"], "dW is flipped"),
    "conv2d cols in channel order": (
        exercises.check_conv2d, conv_cols_in_channel_order, ["dW"],
        "the patches were flattened as (channel, row, column)",
    ),
    "conv2d dW mean": (
        exercises.check_conv2d, conv_dW_mean, ["dW"], "dW is divided by the batch size",
    ),
    "conv2d db mean": (
        exercises.check_conv2d, conv_db(lambda dY: dY.mean(axis=(0, 1, 2))), ["db"],
        "a mean where a sum is meant",
    ),
    "conv2d db batch only": (
        exercises.check_conv2d, conv_db(lambda dY: dY.sum(axis=0)), ["db"],
        "db is summed over the batch only",
    ),
    "conv2d db positions only": (
        exercises.check_conv2d, conv_db(lambda dY: dY.sum(axis=(1, 2))), ["db"],
        "db is summed over the positions only",
    ),
    "conv2d dW channels swapped": (
        exercises.check_conv2d, conv_dW_channels_swapped, ["dW"],
        "np.transpose(yours, (0, 1, 3, 2)) is right",
    ),
    "conv2d outputs in another order": (
        exercises.check_conv2d, conv_order_swapped, ["dW", "db"],
        "dW has the shape of db: return the arrays in the order dX, dW, db",
    ),
    "maxpool every tied maximum": (
        exercises.check_maxpool, maxpool_every_tied_max, ["dX"], "not to every tied one",
    ),
    "maxpool last maximum": (
        exercises.check_maxpool, maxpool_last_max, ["dX"], "yours gives it to the last",
    ),
    "maxpool tie shared": (
        exercises.check_maxpool, maxpool_tie_shared, ["dX"], "not shared among the tied ones",
    ),
    "maxpool average": (
        exercises.check_maxpool, maxpool_average, ["dX"], "as in average pooling",
    ),
    "maxpool no mask": (exercises.check_maxpool, maxpool_no_mask, ["dX"], "the mask is missing"),
    "maxpool covered part only": (
        exercises.check_maxpool, maxpool_covered_only, ["dX"], "dX must have X's shape",
    ),
    "dropout no scale": (
        exercises.check_dropout, lambda dY, mask, rate: dY * mask, ["dX"],
        "the survivors' scale is missing",
    ),
    "dropout 1 / rate": (
        exercises.check_dropout, lambda dY, mask, rate: dY * mask / rate, ["dX"],
        "not 1 / rate",
    ),
    "dropout times 1 - rate": (
        exercises.check_dropout, lambda dY, mask, rate: dY * mask * (1 - rate), ["dX"],
        "not by (1 - rate)",
    ),
    "dropout inverted mask": (
        exercises.check_dropout, lambda dY, mask, rate: dY * (1 - mask) / (1 - rate), ["dX"],
        "the mask is inverted",
    ),
    "dropout no mask": (
        exercises.check_dropout, lambda dY, mask, rate: dY / (1 - rate), ["dX"],
        "the mask is missing",
    ),
    "sigmoid of z": (
        exercises.check_sigmoid, lambda Z, dA: dA * Z * (1 - Z), ["dZ"], "yours uses z itself",
    ),
    "sigmoid without 1 - s": (
        exercises.check_sigmoid, lambda Z, dA: dA * sigmoid(Z), ["dZ"],
        "the factor (1 - s) is missing",
    ),
    "sigmoid without s": (
        exercises.check_sigmoid, lambda Z, dA: dA * (1 - sigmoid(Z)), ["dZ"],
        "the factor s is missing",
    ),
    "sigmoid as tanh": (
        exercises.check_sigmoid, lambda Z, dA: dA * (1 - sigmoid(Z) ** 2), ["dZ"],
        "that is tanh's derivative",
    ),
    "sigmoid without dA": (
        exercises.check_sigmoid, lambda Z, dA: sigmoid(Z) * (1 - sigmoid(Z)), ["dZ"],
        "multiply by dA",
    ),
    "tanh of z": (
        exercises.check_tanh, lambda Z, dA: dA * (1 - Z**2), ["dZ"], "yours uses z itself",
    ),
    "tanh without the square": (
        exercises.check_tanh, lambda Z, dA: dA * (1 - np.tanh(Z)), ["dZ"],
        "the square is missing",
    ),
    "tanh as sigmoid": (
        exercises.check_tanh, lambda Z, dA: dA * np.tanh(Z) * (1 - np.tanh(Z)), ["dZ"],
        "that is sigmoid's derivative",
    ),
    "tanh sign": (
        exercises.check_tanh, lambda Z, dA: dA * (1 + np.tanh(Z) ** 2), ["dZ"], "the sign",
    ),
    "tanh without dA": (
        exercises.check_tanh, lambda Z, dA: 1 - np.tanh(Z) ** 2, ["dZ"], "multiply by dA",
    ),
    "momentum as PyTorch": (
        exercises.check_momentum,
        lambda p, g, v, lr, mu: (p - lr * (mu * v + g), mu * v + g),
        ["params", "velocity"], "that is PyTorch's form",
    ),
    "momentum old velocity": (
        exercises.check_momentum,
        lambda p, g, v, lr, mu: (p + v, mu * v - lr * g),
        ["params"], "the step uses the new velocity",
    ),
    "momentum sign": (
        exercises.check_momentum,
        lambda p, g, v, lr, mu: (p + mu * v + lr * g, mu * v + lr * g),
        ["params", "velocity"], "the velocity moves against the gradient",
    ),
    "momentum without mu": (
        exercises.check_momentum,
        lambda p, g, v, lr, mu: (p + v - lr * g, v - lr * g),
        ["params", "velocity"], "mu is missing",
    ),
    "momentum parameters unchanged": (
        exercises.check_momentum,
        lambda p, g, v, lr, mu: (p, mu * v - lr * g),
        ["params"], "the parameters did not move",
    ),
    "adam without bias correction": (
        exercises.check_adam, adam_written_out, ["params"], "the bias correction is missing",
    ),
    "adam m correction only": (
        exercises.check_adam, adam_with("no v correction"), ["params"],
        "the bias correction of v is missing",
    ),
    "adam v correction only": (
        exercises.check_adam, adam_with("no m correction"), ["params"],
        "the bias correction of m is missing",
    ),
    "adam t + 1": (exercises.check_adam, adam_with("t + 1"), ["params"], "not beta^(t+1)"),
    "adam t - 1": (exercises.check_adam, adam_with("t - 1"), ["params"], "not beta^(t-1)"),
    "adam eps inside": (
        exercises.check_adam, adam_with("eps inside"), ["params"],
        "eps goes outside the square root",
    ),
    "adam g not squared": (
        exercises.check_adam, adam_with("g not squared"), ["params", "v"],
        "v averages the squared gradient",
    ),
    "adam m without 1 - beta1": (
        exercises.check_adam, adam_with("m without 1 - beta1"), ["params", "m"],
        "with the weight 1 - beta1",
    ),
    "adam v without 1 - beta2": (
        exercises.check_adam, adam_with("v without 1 - beta2"), ["params", "v"],
        "with the weight 1 - beta2",
    ),
    "adam old moments": (
        exercises.check_adam, adam_with("old moments"), ["params"],
        "the step uses the new moments",
    ),
    "adam corrected moments returned": (
        exercises.check_adam, adam_with("corrected moments returned"), ["m", "v"],
        "not m_hat and v_hat",
    ),
    "adam sign": (
        exercises.check_adam, adam_with("sign"), ["params"], "Adam steps against the gradient",
    ),
    "rnn tanh' of a": (
        exercises.check_rnn_step, rnn_with("tanh' of a"), ["dx", "dh_prev", "dWx", "dWh", "db"],
        "squares the pre-activation a",
    ),
    "rnn no tanh'": (
        exercises.check_rnn_step, rnn_with("no tanh'"), ["dx", "dh_prev", "dWx", "dWh", "db"],
        "tanh's derivative is missing",
    ),
    "rnn 1 - h": (
        exercises.check_rnn_step, rnn_with("1 - h"), ["dx", "dh_prev", "dWx", "dWh", "db"],
        "the square is missing",
    ),
    "rnn dh_prev without transpose": (
        exercises.check_rnn_step, rnn_with("dh_prev no transpose"), ["dh_prev"],
        "dh_prev = da Wh^T: a missing transpose",
    ),
    "rnn dWh transposed": (
        exercises.check_rnn_step, rnn_with("dWh transposed"), ["dWh"],
        "yours is its transpose, da^T h_prev",
    ),
    "rnn weights by B": (
        exercises.check_rnn_step, rnn_with("weights by B"), ["dWx", "dWh"],
        "divided by the batch size",
    ),
    "rnn db mean": (
        exercises.check_rnn_step, rnn_with("db mean"), ["db"], "a mean where a sum is meant",
    ),
}  # fmt: skip

NORMS = {
    "constants": (["dX"], "the mean and the variance depend on X too"),
    "no variance": (["dX"], "the path through the variance is missing"),
    "no mean": (["dX"], "the path through the mean is missing"),
    "no gamma": (["dX"], "gamma is missing"),
    "sums": (["dX"], "sums where means are meant"),
    "eps outside": (["dX", "dgamma"], "eps goes inside the square root"),
    "no eps": (["dX", "dgamma"], "eps is missing"),
    "wrong axis": (["dX", "dgamma"], "statistics over the wrong axis"),
    "dgamma X": (["dgamma"], "not by X"),
    "dgamma mean": (["dgamma"], "a mean where a sum is meant"),
    "dbeta mean": (["dbeta"], "a mean where a sum is meant"),
    "dbeta features": (["dbeta"], "summed over the features"),
}
for _mistake, (_wrong, _hint) in NORMS.items():
    MISTAKES[f"batchnorm {_mistake}"] = (
        exercises.check_batchnorm, norm_backward(0, _mistake), _wrong, _hint,
    )  # fmt: skip
    MISTAKES[f"layernorm {_mistake}"] = (
        exercises.check_layernorm, norm_backward(-1, _mistake), _wrong, _hint,
    )  # fmt: skip
MISTAKES["layernorm dgamma batch only"] = (
    exercises.check_layernorm, norm_backward(-1, "dgamma batch only"), ["dgamma"],
    "summed over the batch only: sum over the batch and the tokens",
)  # fmt: skip

ATTENTION = {
    "scale D": (["dX", "dWq", "dWk", "dWv", "dWo"], "not 1/sqrt(D)"),
    "heads reshape": (["dX", "dWq", "dWk", "dWv", "dWo"], "split by a reshape alone"),
    "no scale in backward": (["dX", "dWq", "dWk"], "missing from dQ and dK"),
    "softmax diagonal": (["dX", "dWq", "dWk"], "the softmax's Jacobian is not diagonal"),
    "softmax axis": (["dX", "dWq", "dWk"], "not over the queries"),
    "dV no transpose": (["dX", "dWv"], "dV = A^T dO: a missing transpose"),
    "dK no transpose": (["dX", "dWk"], "dK = dS^T Q / sqrt(d): a missing transpose"),
    "dQ transposed": (["dX", "dWq"], "without a transpose (dS^T K)"),
    "dX no q": (["dX"], "the path through the queries"),
    "dX no k": (["dX"], "the path through the keys"),
    "dX no v": (["dX"], "the path through the values"),
}
for _mistake, (_wrong, _hint) in ATTENTION.items():
    MISTAKES[f"attention {_mistake}"] = (
        exercises.check_attention, attention_with(_mistake), _wrong, _hint,
    )  # fmt: skip


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_common_mistake_fails_and_is_named(name):
    checker, answer, wrong, hint = MISTAKES[name]
    for seed in (0, 1):
        check = checker(answer, seed=seed)
        report = str(check)
        assert not check.passed and check.wrong == wrong, report
        assert any(hint in h for h in check.hints), report
        assert f"likely: {check.hints[0]}" in report


def test_a_right_answer_written_another_way_passes():
    """dX as a full convolution with the turned kernel (the way many courses teach it)."""
    for seed in (0, 1, 2):
        check = exercises.check_conv2d(conv_by_full_convolution(flip=True), seed=seed)
        assert check.passed, str(check)
    for seed in (0, 1, 2):  # and layer norm / batch norm written generically pass too
        assert exercises.check_batchnorm(norm_backward(0), seed=seed).passed
        assert exercises.check_layernorm(norm_backward(-1), seed=seed).passed
        assert exercises.check_rnn_step(rnn_with(None), seed=seed).passed
        assert exercises.check_attention(attention_with(None), seed=seed).passed
        assert exercises.check_adam(adam_with(None), seed=seed).passed


def test_a_mistake_that_shows_on_one_case_only_names_that_case():
    check = exercises.check_maxpool(maxpool_last_max)
    (verdict,) = check.verdicts
    assert "values with ties" in verdict.case and "values with ties" in str(check)

    def stride_one(X, W, b, dY, stride, padding):
        if stride != 1:
            raise IndexError("index 7 is out of bounds")
        return right.conv2d_backward(X, W, b, dY, stride, padding)

    stride_one_only = exercises.check_conv2d(stride_one)
    assert "raised IndexError: index 7 is out of bounds (on X (" in str(stride_one_only)
    assert "stride 2, padding 1)" in str(stride_one_only)
    assert stride_one_only.wrong == ["dX", "dW", "db"]


def test_a_wrong_answer_unlike_any_known_mistake_gets_no_hint():
    check = exercises.check_tanh(lambda Z, dA: dA * np.cos(Z))
    assert check.wrong == ["dZ"] and check.hints == [] and "likely" not in str(check)
    assert "WRONG: the largest gap is at [" in str(check)


def test_one_mistake_is_named_once_under_the_first_gradient_it_spoils():
    check = exercises.check_attention(attention_with("softmax diagonal"))
    assert str(check).count("likely:") == 1
    lines = str(check).split("\n")
    first_wrong = next(i for i, line in enumerate(lines) if "WRONG" in line)
    assert "likely: the softmax's Jacobian" in lines[first_wrong + 2]  # under its "on ..." line
