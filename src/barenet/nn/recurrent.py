"""Recurrent layers: networks with memory, reading a sequence one step at a time.

A batch of sequences is ``X (B, T, F)``: ``T`` steps of ``F`` features each (an MNIST digit read
row by row is 28 steps of 28 pixels). A recurrent layer carries a state ``h (B, n)`` from step to
step, ``h_t = step(x_t, h_{t-1})`` from ``h_0 = 0``, with the same weights at every step. It gives
the last state ``h_T (B, n)``, to classify the whole sequence, or with ``return_sequences=True``
every state ``(B, T, n)``, to feed another recurrent layer.

The three layers share one layout (:class:`Recurrent`): ``G`` gates of ``n = units`` values,
whose pre-activations are ``a_t = x_t W + h_{t-1} U + b`` with ``W (F, G n)``, ``U (n, G n)`` and
``b (G n,)``, gate after gate along the columns (``G`` = 1 for :class:`RNN`, 4 for :class:`LSTM`,
3 for :class:`GRU`). The input part ``x_t W + b`` of every step is one matrix product before the
loop, over all ``T B`` rows; only ``h_{t-1} U`` has to wait for the step before.

Backward is backpropagation through time: the same loop run in reverse, from the last step to the
first, carrying ``dL/dh`` (and the LSTM's ``dL/dc``) back one step at a time. Each step leaves
``da_t = dL/da_t (B, G n)`` in a ``(T, B, G n)`` array. The weights are shared by every step, so
their gradients are sums over the steps, each of which is then one product after the loop:
``dW = sum_t x_t^T da_t``, ``dU = sum_t h_{t-1}^T da_t``, ``db = sum_t 1^T da_t``, and
``dX[:, t] = da_t W^T``: the arithmetic of one product per step inside the loop, in one larger
BLAS call each, and no running sum to keep.

Inside a layer the arrays are time-major, ``(T, B, ...)``, so that each step's block is
contiguous in memory.
"""

import numpy as np

from barenet import validation as check
from barenet.errors import BarenetError
from barenet.nn.init import xavier_uniform
from barenet.nn.layers import Layer


def orthogonal(rng, n, dtype):
    """A random ``n x n`` orthogonal matrix (Saxe et al. 2014): ``h U`` keeps the length of
    ``h``, so at the start the state neither fades nor blows up from step to step.

    The Q of a Gaussian matrix's QR factorisation, with the signs of its columns set by R's
    diagonal so that every rotation is equally likely.
    """
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return (q * np.sign(np.diag(r))).astype(dtype)


def sigmoid_in_place(A):
    """``A = 1 / (1 + exp(-A))`` in place, as ``(1 + tanh(A / 2)) / 2``, which never overflows."""
    A *= 0.5
    np.tanh(A, out=A)
    A += 1
    A *= 0.5
    return A


class Recurrent(Layer):
    """Base of :class:`RNN`, :class:`LSTM` and :class:`GRU`: the weights ``W``, ``U``, ``b``,
    the time-major layout, and the products that do not depend on the order of the steps.

    A subclass writes the two loops over the steps, :meth:`forward_steps` and
    :meth:`backward_steps`.

    Initialisation: each gate's ``(F, n)`` block of ``W`` is Xavier/Glorot uniform (the variance
    a ``Dense(n)`` would have), each ``(n, n)`` block of ``U`` is orthogonal, biases are 0.
    """

    gates = 1

    def __init__(self, units, return_sequences=False):
        self.units = check.positive_int("units", units)
        if not isinstance(return_sequences, (bool, np.bool_)):
            raise BarenetError(f"return_sequences must be True or False, got {return_sequences!r}")
        self.return_sequences = bool(return_sequences)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise BarenetError(
                f"{type(self).__name__} reads sequences (steps, features), got samples of shape "
                f"{tuple(input_shape)}: give the network input_shape=(steps, features), e.g. "
                "(28, 28) to read a digit row by row; a recurrent layer feeding it needs "
                "return_sequences=True"
            )
        super().build(input_shape)
        self.steps, self.n_in = (int(n) for n in input_shape)
        self.output_shape = (self.steps, self.units) if self.return_sequences else (self.units,)
        return self.output_shape

    def param_shapes(self):
        width = self.gates * self.units
        return {
            "W": ((self.n_in, width), True),
            "U": ((self.units, width), True),
            "b": ((width,), False),
        }

    def bind(self, params, grads):
        super().bind(params, grads)
        self.W, self.U, self.b = params["W"], params["U"], params["b"]
        self.dW, self.dU, self.db = grads["W"], grads["U"], grads["b"]

    def initialize(self, rng):
        n, dtype = self.units, self.W.dtype
        for gate in range(self.gates):
            columns = slice(gate * n, (gate + 1) * n)
            self.W[:, columns] = xavier_uniform(rng, self.n_in, n, dtype)
            self.U[:, columns] = orthogonal(rng, n, dtype)
        self.b[...] = 0

    def forward(self, X, training=False):
        if X.ndim != 3 or X.shape[2] != self.n_in:
            raise BarenetError(
                f"{type(self).__name__} expects sequences (batch, steps, {self.n_in}), "
                f"got shape {X.shape}"
            )
        (B, T, F), n, width, dtype = X.shape, self.units, self.gates * self.units, self.W.dtype
        XT = self._buffer("_XT", (T, B, F), dtype)
        np.copyto(XT, X.transpose(1, 0, 2))
        A = self._buffer("_A", (T, B, width), dtype)
        # --8<-- [start:recurrent_input_product]
        np.matmul(XT.reshape(T * B, F), self.W, out=A.reshape(T * B, width))  # every x_t W
        A += self.b
        # --8<-- [end:recurrent_input_product]
        H = self._buffer("_H", (T + 1, B, n), dtype)
        H[0] = 0
        self.forward_steps(A, H)
        if self.return_sequences:
            Y = self._buffer("_Y", (B, T, n), dtype)
            np.copyto(Y, H[1:].transpose(1, 0, 2))
        else:  # a copy: the layer above may work in place on it, and backward reads H
            Y = self._buffer("_Y", (B, n), dtype)
            np.copyto(Y, H[T])
        return Y

    def backward(self, dY):
        XT, H = self._XT, self._H
        T, B, F = XT.shape
        if self.return_sequences:
            above = [dY[:, t] for t in range(T)]
        else:
            above = [None] * (T - 1) + [dY]
        dAx, dAh = self.backward_steps(above)
        dAx, dAh = dAx.reshape(T * B, -1), dAh.reshape(T * B, -1)
        # --8<-- [start:recurrent_weight_gradients]
        np.matmul(XT.reshape(T * B, F).T, dAx, out=self.dW)  # sum over steps of x_t^T da_t
        np.matmul(H[:-1].reshape(T * B, -1).T, dAh, out=self.dU)  # ... of h_{t-1}^T da_t
        ones = self._buffer("_ones", (T * B,), dAx.dtype)
        ones[...] = 1
        np.matmul(ones, dAx, out=self.db)
        # --8<-- [end:recurrent_weight_gradients]
        if not self.input_grad:
            return None
        dXT = self._buffer("_dXT", XT.shape, dAx.dtype)
        np.matmul(dAx, self.W.T, out=dXT.reshape(T * B, F))
        dX = self._buffer("_dX", (B, T, F), dAx.dtype)
        np.copyto(dX, dXT.transpose(1, 0, 2))
        return dX

    def forward_steps(self, A, H):
        """The loop from the first step to the last: ``A (T, B, G n)`` holds ``x_t W + b``;
        fill ``H[1:] (T, B, n)`` with the states (``H[0] = h_0 = 0``)."""
        raise NotImplementedError

    def backward_steps(self, above):
        """Backpropagation through time, from the last step to the first. ``above[t]`` is
        ``dL/dh_t (B, n)`` from the layer above, or None (every step but the last without
        ``return_sequences``). Returns ``dL/da (T, B, G n)`` twice: as the input product
        ``x_t W`` sees it and as the recurrent product ``h_{t-1} U`` does (the same array,
        except in the GRU)."""
        raise NotImplementedError

    def config(self):
        return {"kind": self.kind, "units": self.units, "return_sequences": self.return_sequences}


class RNN(Recurrent):
    """Elman's recurrent layer: ``h_t = tanh(a_t)``, ``a_t = x_t W + h_{t-1} U + b``, from
    ``h_0 = 0``; ``W (F, n)``, ``U (n, n)``, ``b (n,)``.

    Backward, step t from the last to the first, with ``dh = dL/dh_t`` (from the layer above and
    from step t+1): ``da_t = dh (1 - h_t^2)`` and ``dL/dh_{t-1} = da_t U^T``. Over many steps this
    multiplies the gradient again and again by ``U^T`` and by factors ``1 - h^2 <= 1``: it
    shrinks or grows geometrically, the vanishing or exploding gradient the LSTM's cell avoids.
    """

    kind = "rnn"

    def forward_steps(self, A, H):
        recurrent = self._buffer("_recurrent", H.shape[1:], A.dtype)
        # --8<-- [start:rnn_forward]
        for t in range(len(A)):
            A[t] += np.matmul(H[t], self.U, out=recurrent)
            np.tanh(A[t], out=H[t + 1])
        # --8<-- [end:rnn_forward]

    def backward_steps(self, above):
        H = self._H
        dA = self._buffer("_dA", H[1:].shape, H.dtype)
        np.multiply(H[1:], H[1:], out=dA)
        np.subtract(1, dA, out=dA)  # tanh'(a_t) = 1 - h_t^2 for every step; times dh below
        dh = self._buffer("_dh", H.shape[1:], H.dtype)
        dh[...] = 0
        # --8<-- [start:rnn_backward]
        for t in reversed(range(len(dA))):
            if above[t] is not None:
                dh += above[t]
            dA[t] *= dh
            if t:  # h_0 is no parameter: nothing to send further back
                np.matmul(dA[t], self.U.T, out=dh)
        # --8<-- [end:rnn_backward]
        return dA, dA


class LSTM(Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et
    al. 2000): a cell ``c`` that gates write, keep and read. Four gates in PyTorch's order
    i, f, g, o, each ``(B, n)``, from ``a_t = x_t W + h_{t-1} U + b``::

        i = sigmoid(a_i)    input gate: how much of the candidate to write
        f = sigmoid(a_f)    forget gate: how much of the cell to keep
        g = tanh(a_g)       candidate values
        o = sigmoid(a_o)    output gate: how much of the cell to show
        c_t = f c_{t-1} + i g,    h_t = o tanh(c_t),    from h_0 = c_0 = 0

    The forget gate's bias starts at 1 (Gers et al. 2000; Jozefowicz et al. 2015): ``f`` starts
    near ``sigmoid(1) = 0.73``, so the cell starts by remembering, and the gradient
    ``dL/dc_{t-1} = f dL/dc_t`` reaches the first rows from the first update instead of halving
    at every step (``0.5^27 = 7e-9`` over 28 rows with a zero bias).

    Backward, step t from the last to the first, with ``dh = dL/dh_t`` (from the layer above and
    from step t+1) and ``dc = dL/dc_t`` (from step t+1)::

        dc += dh o (1 - tanh(c_t)^2)
        da_i = dc g i (1 - i)     da_f = dc c_{t-1} f (1 - f)     da_g = dc i (1 - g^2)
        da_o = dh tanh(c_t) o (1 - o)
        dL/dc_{t-1} = dc f        dL/dh_{t-1} = da_t U^T

    The factors that do not depend on ``dh`` or ``dc`` are computed for every step at once
    before the loop (``P``, ``Pc``), leaving a handful of operations per step.
    """

    kind = "lstm"
    gates = 4

    def initialize(self, rng):
        super().initialize(rng)
        self.b[self.units : 2 * self.units] = 1  # the forget gate: remember at first

    def forward_steps(self, A, H):
        (T, B, width), n, dtype = A.shape, self.units, A.dtype
        C = self._buffer("_C", (T + 1, B, n), dtype)  # cell states
        TC = self._buffer("_TC", (T, B, n), dtype)  # tanh(c_t)
        recurrent = self._buffer("_recurrent", (B, width), dtype)
        ig = self._buffer("_ig", (B, n), dtype)
        # sigmoid(a) = (1 + tanh(a/2)) / 2, so one tanh over the block gives all four gates:
        # gate = tanh(scale a) scale + (1 - scale), scale 1/2 for i, f, o and 1 for g.
        scale = self._buffer("_scale", (width,), dtype)
        shift = self._buffer("_shift", (width,), dtype)
        scale[...] = 0.5
        scale[2 * n : 3 * n] = 1
        np.subtract(1, scale, out=shift)
        C[0] = 0
        # --8<-- [start:lstm_forward]
        for t in range(T):
            a = A[t]  # (B, 4n), turned into the gates i, f, g, o in place
            a += np.matmul(H[t], self.U, out=recurrent)
            a *= scale
            np.tanh(a, out=a)
            a *= scale
            a += shift
            i, f, g, o = a[:, :n], a[:, n : 2 * n], a[:, 2 * n : 3 * n], a[:, 3 * n :]
            np.multiply(f, C[t], out=C[t + 1])
            C[t + 1] += np.multiply(i, g, out=ig)
            np.tanh(C[t + 1], out=TC[t])
            np.multiply(o, TC[t], out=H[t + 1])
        # --8<-- [end:lstm_forward]

    def backward_steps(self, above):
        C, TC, n = self._C, self._TC, self.units
        T, B = TC.shape[:2]
        gates = self._A.reshape(T, B, 4, n)
        i, f, g, o = (gates[:, :, k] for k in range(4))
        P = self._buffer("_P", gates.shape, TC.dtype)  # da = dc P (i, f, g), dh P (o)
        np.subtract(1, gates, out=P)
        P *= gates  # sigmoid' = s (1 - s), right for i, f and o
        np.multiply(g, g, out=P[:, :, 2])
        np.subtract(1, P[:, :, 2], out=P[:, :, 2])  # tanh' = 1 - g^2
        P[:, :, 0] *= g
        P[:, :, 1] *= C[:-1]
        P[:, :, 2] *= i
        P[:, :, 3] *= TC
        Pc = self._buffer("_Pc", TC.shape, TC.dtype)  # dL/dc_t gains dh Pc through h_t
        np.multiply(TC, TC, out=Pc)
        np.subtract(1, Pc, out=Pc)
        Pc *= o
        dA = self._buffer("_dA", gates.shape, TC.dtype)
        dh, dc = self._buffer("_dh", (B, n), TC.dtype), self._buffer("_dc", (B, n), TC.dtype)
        through_h = self._buffer("_through_h", (B, n), TC.dtype)
        dh[...] = 0
        dc[...] = 0
        # --8<-- [start:lstm_backward]
        for t in reversed(range(T)):
            if above[t] is not None:
                dh += above[t]
            dc += np.multiply(dh, Pc[t], out=through_h)
            np.multiply(dc[:, None], P[t, :, :3], out=dA[t, :, :3])  # da_i, da_f, da_g
            np.multiply(dh, P[t, :, 3], out=dA[t, :, 3])  # da_o
            dc *= f[t]
            if t:
                np.matmul(dA[t].reshape(B, 4 * n), self.U.T, out=dh)
        # --8<-- [end:lstm_backward]
        return dA, dA


class GRU(Recurrent):
    """Gated recurrent unit (Cho et al. 2014) in PyTorch's and cuDNN's form, where the reset gate
    multiplies the recurrent product after it is taken. Gates in PyTorch's order r, z, n, each
    ``(B, units)``, from ``a_t = x_t W + h_{t-1} U + b``, except that ``a_n`` is split::

        r = sigmoid(a_r)                                 reset gate
        z = sigmoid(a_z)                                 update gate: how much of h_{t-1} to keep
        n = tanh(x_t W_n + b_n + r (h_{t-1} U_n + bn))   the candidate state
        h_t = (1 - z) n + z h_{t-1},    from h_0 = 0

    ``bn (units,)`` is the candidate's recurrent bias, inside the reset product (PyTorch's
    ``b_hn``), a parameter of its own. Cho et al.'s original resets before the product,
    ``tanh(x_t W_n + (r h_{t-1}) U_n + b_n)``; both train alike, and this form computes
    ``h_{t-1} U`` for the three gates as one product and gives PyTorch's numbers exactly.

    Backward, step t from the last to the first, with ``dh = dL/dh_t``::

        da_n = dh (1 - z) (1 - n^2)
        da_z = dh (h_{t-1} - n) z (1 - z)
        da_r = da_n (h_{t-1} U_n + bn) r (1 - r)
        dL/dh_{t-1} = dh z + [da_r, da_z, da_n r] U^T

    The input product sees ``[da_r, da_z, da_n]`` (``dW``, ``db``), the recurrent product
    ``[da_r, da_z, da_n r]`` (``dU``, ``dbn``). Each is ``dh`` times factors known before the
    loop (``P``, ``Pn``), computed for every step at once.
    """

    kind = "gru"
    gates = 3

    def param_shapes(self):
        return {**super().param_shapes(), "bn": ((self.units,), False)}

    def bind(self, params, grads):
        super().bind(params, grads)
        self.bn, self.dbn = params["bn"], grads["bn"]

    def initialize(self, rng):
        super().initialize(rng)
        self.bn[...] = 0

    def forward_steps(self, A, H):
        (T, B, width), n, dtype = A.shape, self.units, A.dtype
        R = self._buffer("_R", (T, B, width), dtype)  # h_{t-1} U + [0, 0, bn], for backward
        tmp = self._buffer("_tmp", (B, n), dtype)
        # --8<-- [start:gru_forward]
        for t in range(T):
            a, recurrent = A[t], R[t]
            np.matmul(H[t], self.U, out=recurrent)
            recurrent[:, 2 * n :] += self.bn
            a[:, : 2 * n] += recurrent[:, : 2 * n]
            sigmoid_in_place(a[:, : 2 * n])
            r, z, candidate = a[:, :n], a[:, n : 2 * n], a[:, 2 * n :]
            candidate += np.multiply(r, recurrent[:, 2 * n :], out=tmp)
            np.tanh(candidate, out=candidate)
            np.subtract(H[t], candidate, out=tmp)  # h_t = n + z (h_{t-1} - n)
            tmp *= z
            np.add(candidate, tmp, out=H[t + 1])
        # --8<-- [end:gru_forward]

    def backward_steps(self, above):
        H, n = self._H, self.units
        T, B = H.shape[0] - 1, H.shape[1]
        gates, dtype = self._A.reshape(T, B, 3, n), H.dtype
        r, z, candidate = (gates[:, :, k] for k in range(3))
        hn = self._R.reshape(T, B, 3, n)[:, :, 2]  # h_{t-1} U_n + bn
        Pn = self._buffer("_Pn", (T, B, n), dtype)  # da_n = dh Pn
        P = self._buffer("_P", gates.shape, dtype)  # the recurrent product's da = dh P
        other = self._buffer("_other", (T, B, n), dtype)
        np.multiply(candidate, candidate, out=Pn)
        np.subtract(1, Pn, out=Pn)
        np.subtract(1, z, out=other)
        Pn *= other  # (1 - z) (1 - n^2)
        np.subtract(H[:-1], candidate, out=P[:, :, 1])
        P[:, :, 1] *= z
        P[:, :, 1] *= other  # (h_{t-1} - n) z (1 - z)
        np.subtract(1, r, out=other)
        np.multiply(Pn, hn, out=P[:, :, 0])
        P[:, :, 0] *= r
        P[:, :, 0] *= other  # Pn hn r (1 - r)
        np.multiply(Pn, r, out=P[:, :, 2])
        dAh = self._buffer("_dAh", gates.shape, dtype)  # as h_{t-1} U sees it
        dAx = self._buffer("_dAx", gates.shape, dtype)  # as x_t W sees it
        dh, direct = self._buffer("_dh", (B, n), dtype), self._buffer("_direct", (B, n), dtype)
        dh[...] = 0
        # --8<-- [start:gru_backward]
        for t in reversed(range(T)):
            if above[t] is not None:
                dh += above[t]
            np.multiply(dh[:, None], P[t], out=dAh[t])
            np.multiply(dh, Pn[t], out=dAx[t, :, 2])  # da_n
            if t:
                np.multiply(dh, z[t], out=direct)  # through h_t = ... + z h_{t-1}
                np.matmul(dAh[t].reshape(B, 3 * n), self.U.T, out=dh)
                dh += direct
        # --8<-- [end:gru_backward]
        dAx[:, :, :2] = dAh[:, :, :2]
        np.sum(dAh[:, :, 2], axis=(0, 1), out=self.dbn)
        return dAx, dAh
