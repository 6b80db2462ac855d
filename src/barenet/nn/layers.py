"""Layers: each one a forward and a backward pass side by side, on batch-major arrays.

A layer maps ``X (batch, *input_shape)`` to ``Y (batch, *output_shape)``. The network calls
``build(input_shape)`` once, so that each layer learns its input's shape from the layer before it
(``Dense(128)`` takes only its width). ``forward`` keeps what ``backward`` will need;
``backward(dY)`` receives ``dL/dY``, writes the gradients of the layer's parameters into its
gradient views, and returns ``dL/dX``. It never changes a parameter: the optimizer does that.

Parameters do not live in the layers. The network owns one flat parameter buffer and one flat
gradient buffer; :meth:`Layer.bind` hands each layer views into both (``W`` and ``dW`` share a
layout), so an optimizer step is a few operations on two whole buffers. Output and gradient arrays
are work buffers reused from batch to batch; they are only reallocated when the batch size
changes. ``backward`` may overwrite the ``dY`` it is given.
"""

import math

import numpy as np

from barenet import validation as check
from barenet.errors import BarenetError
from barenet.nn.init import get_initializer


class Layer:
    """Base class: a layer without parameters that passes its input through.

    ``input_grad`` is False when nobody needs ``dL/dX`` (the first layers of a network, before
    any parameter): ``backward`` may then return None and skip that work.
    """

    kind = ""
    input_grad = True

    def build(self, input_shape):
        """Take the per-sample input shape (a tuple) and return the per-sample output shape."""
        self.input_shape = self.output_shape = tuple(input_shape)
        return self.output_shape

    def param_shapes(self):
        """``{name: (shape, decay)}`` of trainable parameters; ``decay`` marks weights for L1/L2."""
        return {}

    def bind(self, params, grads):
        """Attach views into the network's flat buffers: ``{name: array}`` for values and grads."""
        self.params, self.grads = params, grads

    def initialize(self, rng):
        """Set the initial parameter values (in place, into the bound views)."""

    def state(self):
        """Non-trainable arrays saved with the model (batch norm's running statistics)."""
        return {}

    def set_state(self, arrays):
        for name, value in arrays.items():
            getattr(self, name)[...] = value

    def forward(self, X, training=False):
        return X

    def backward(self, dY):
        return dY

    def config(self):
        """``{"kind": ..., **settings}``: what :func:`layer_from_config` rebuilds it from."""
        return {"kind": self.kind}

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "kind")
        return f"{type(self).__name__}({settings})"

    def __getstate__(self):
        """Pickle without the work buffers (``_Y``, ``_dX``...): they are scratch space, and a
        copy restored read-only (as joblib's memory maps are) could not be written into."""
        return {
            k: v
            for k, v in self.__dict__.items()
            if not (k.startswith("_") and isinstance(v, np.ndarray))
        }

    def _buffer(self, name, shape, dtype):
        """A work array kept between calls and reallocated only when its shape changes."""
        buf = self.__dict__.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = np.empty(shape, dtype)
            setattr(self, name, buf)
        return buf


class Dense(Layer):
    """Fully connected layer ``Y = X W + b`` with ``W (n_in, units)`` and ``b (units,)``.

    Backward, with ``dY = dL/dY`` of shape ``(B, units)``:
    ``dW = X^T dY`` (n_in, units), ``db = sum over the batch of dY`` (units,), ``dX = dY W^T``.
    The first layer of a network skips ``dX``: nobody needs the gradient of the input image.

    On tokens ``X (B, T, n_in)`` the same map acts on each token's features (the last axis):
    the ``B*T`` tokens are the rows of the products above, and ``Y`` is ``(B, T, units)``.
    """

    kind = "dense"

    def __init__(self, units, init="xavier"):
        self.units = check.positive_int("units", units)
        self.init = init
        self._init_fn = get_initializer(init)

    def build(self, input_shape):
        if len(input_shape) not in (1, 2):
            raise BarenetError(
                f"Dense needs flat inputs (or tokens), got samples of shape "
                f"{tuple(input_shape)}: put Flatten() before it"
            )
        super().build(input_shape)
        self.n_in, self.n_out = int(input_shape[-1]), self.units
        self.output_shape = (*self.input_shape[:-1], self.units)
        return self.output_shape

    def param_shapes(self):
        return {"W": ((self.n_in, self.n_out), True), "b": ((self.n_out,), False)}

    def bind(self, params, grads):
        super().bind(params, grads)
        self.W, self.b = params["W"], params["b"]
        self.dW, self.db = grads["W"], grads["b"]

    def initialize(self, rng):
        self.W[...] = self._init_fn(rng, self.n_in, self.n_out, self.W.dtype)
        self.b[...] = 0

    def forward(self, X, training=False):
        Y = self._buffer("_Y", (len(X), *self.output_shape), self.W.dtype)
        # Tokens (B, T, n_in) are B*T rows for one product (a view: no copy; flat X unchanged).
        X = self.X = X.reshape(-1, self.n_in)
        # --8<-- [start:dense_forward]
        np.matmul(X, self.W, out=Y.reshape(-1, self.n_out))
        Y += self.b
        # --8<-- [end:dense_forward]
        return Y

    def backward(self, dY):
        B, dY = len(dY), dY.reshape(-1, self.n_out)  # tokens: B*T rows, as in forward
        # --8<-- [start:dense_backward]
        np.matmul(self.X.T, dY, out=self.dW)
        # db = 1^T dY: the column sums, as a matrix-vector product (faster than np.sum here).
        ones = self._buffer("_ones", (len(dY),), dY.dtype)
        ones[...] = 1
        np.matmul(ones, dY, out=self.db)
        if not self.input_grad:
            return None
        dX = self._buffer("_dX", (B, *self.input_shape), dY.dtype)
        np.matmul(dY, self.W.T, out=dX.reshape(-1, self.n_in))
        return dX
        # --8<-- [end:dense_backward]

    def config(self):
        return {"kind": self.kind, "units": self.units, "init": self.init}


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``rate`` and scale the
    survivors by ``1 / (1 - rate)``, so that at prediction time the layer is simply the identity.

    The mask is drawn from ``self.rng``, the network's generator; ``backward`` multiplies by the
    same mask. Works on inputs of any shape (one mask value per unit, per sample).
    """

    kind = "dropout"

    def __init__(self, rate=0.5):
        self.rate = check.fraction("dropout rate", rate)
        self.rng = None

    def forward(self, X, training=False):
        self.active = training and self.rate > 0
        if not self.active:
            return X
        # --8<-- [start:dropout_forward]
        mask = self._buffer("_mask", X.shape, X.dtype)
        np.greater_equal(self.rng.random(X.shape, dtype=X.dtype), self.rate, out=mask)
        mask *= 1.0 / (1.0 - self.rate)
        # Not in place: the activation before may need its own output in its backward pass.
        return np.multiply(X, mask, out=self._buffer("_Y", X.shape, X.dtype))
        # --8<-- [end:dropout_forward]

    def backward(self, dY):
        return np.multiply(dY, self._mask, out=dY) if self.active else dY

    def config(self):
        return {"kind": self.kind, "rate": self.rate}


class BatchNorm(Layer):
    """Batch normalisation (Ioffe & Szegedy 2015), per feature, or per channel after a
    convolution (the statistics are then taken over the batch and every position).

    Training: ``x_hat = (X - mean) / sqrt(var + eps)`` with the batch's mean and (biased)
    variance, then ``Y = gamma * x_hat + beta``; running averages of mean and variance are kept for
    prediction, where the layer is the fixed affine map with those statistics. Backward (per
    feature, over the ``m`` values that share a mean): ``dgamma = sum(dY x_hat)``,
    ``dbeta = sum(dY)``, and
    ``dX = gamma / sqrt(var + eps) * (dY - mean(dY) - x_hat * mean(dY x_hat))``.
    """

    kind = "batch_norm"

    def __init__(self, momentum=0.9, eps=1e-5):
        self.momentum = check.fraction("batch norm momentum", momentum)
        self.eps = check.positive_float("batch norm eps", eps)

    def build(self, input_shape):
        self.n = int(input_shape[-1])
        self.running_mean = np.zeros(self.n)
        self.running_var = np.ones(self.n)
        return super().build(input_shape)

    def param_shapes(self):
        return {"gamma": ((self.n,), False), "beta": ((self.n,), False)}

    def bind(self, params, grads):
        super().bind(params, grads)
        self.gamma, self.beta = params["gamma"], params["beta"]
        self.dgamma, self.dbeta = grads["gamma"], grads["beta"]
        dtype = self.gamma.dtype
        self.running_mean = self.running_mean.astype(dtype)
        self.running_var = self.running_var.astype(dtype)

    def initialize(self, rng):
        self.gamma[...] = 1
        self.beta[...] = 0
        self.running_mean[...] = 0
        self.running_var[...] = 1

    def state(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def forward(self, X, training=False):
        self.training = training
        if not training:  # a fixed affine map: Y = (X - running_mean) * scale + beta
            shape, X = X.shape, X.reshape(-1, self.n)
            self.centred = X - self.running_mean
            scale = self.gamma / np.sqrt(self.running_var + self.eps)
            return (self.centred * scale + self.beta).reshape(shape)
        rows, tile = self._rows(X), self._tile
        self.m = rows.size // self.n  # values per feature: batch, or batch * positions
        x_hat = self.x_hat = self._buffer("_x_hat", rows.shape, rows.dtype)
        Y = self._buffer("_Y", rows.shape, rows.dtype)
        # --8<-- [start:batchnorm_forward]
        mean = self._sums(rows) / self.m
        np.subtract(rows, tile(mean), out=x_hat)  # centred, scaled below
        var = self._sums(np.multiply(x_hat, x_hat, out=Y)) / self.m
        m = self.momentum
        self.running_mean *= m
        self.running_mean += (1 - m) * mean
        self.running_var *= m
        self.running_var += (1 - m) * var
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat *= tile(self.inv_std)
        np.multiply(x_hat, tile(self.gamma), out=Y)
        Y += tile(self.beta)
        # --8<-- [end:batchnorm_forward]
        return Y.reshape(X.shape)

    def backward(self, dY):
        if not self.training:  # the statistics are constants: dX = dY gamma / sqrt(var + eps)
            shape, dY = dY.shape, dY.reshape(-1, self.n)
            std = np.sqrt(self.running_var + self.eps)
            np.sum(dY * self.centred / std, axis=0, out=self.dgamma)
            np.sum(dY, axis=0, out=self.dbeta)
            return (dY * (self.gamma / std)).reshape(shape)
        rows, tile, x_hat = self._rows(dY), self._tile, self.x_hat
        dX = self._buffer("_dX", rows.shape, rows.dtype)
        product = self._buffer("_product", rows.shape, rows.dtype)
        # --8<-- [start:batchnorm_backward]
        self.dgamma[...] = self._sums(np.multiply(rows, x_hat, out=product))
        self.dbeta[...] = self._sums(rows)
        np.subtract(rows, tile(self.dbeta / self.m), out=dX)  # dY - mean(dY)
        dX -= np.multiply(x_hat, tile(self.dgamma / self.m), out=product)
        dX *= tile(self.gamma * self.inv_std)
        # --8<-- [end:batchnorm_backward]
        return dX.reshape(dY.shape)

    def _rows(self, A):
        """``A`` as rows of whole image rows, ``(batch * H, W * C)`` after a convolution, else
        ``(batch, n)``: per-channel vectors are tiled ``W`` times to match (:meth:`_tile`). Long
        rows let NumPy run each operation in long stretches rather than ``C`` values at a time."""
        self._repeat = A.shape[-2] if A.ndim == 4 else 1
        return A.reshape(-1, self._repeat * self.n)

    def _tile(self, v):
        """A per-feature vector ``v (n,)`` repeated along a row of :meth:`_rows`."""
        return np.tile(v, self._repeat) if self._repeat > 1 else v

    def _sums(self, rows):
        """Per-feature sums over the batch (and the positions) of rows from :meth:`_rows`."""
        sums = np.add.reduce(rows, axis=0)
        return sums.reshape(self._repeat, self.n).sum(axis=0) if self._repeat > 1 else sums

    def config(self):
        return {"kind": self.kind, "momentum": self.momentum, "eps": self.eps}


class Flatten(Layer):
    """``(batch, H, W, C) -> (batch, H * W * C)`` in row-major, channels-last order: a view, no
    copy. Backward reshapes the gradient back."""

    kind = "flatten"

    def build(self, input_shape):
        super().build(input_shape)
        self.output_shape = (math.prod(input_shape),)
        return self.output_shape

    def forward(self, X, training=False):
        return X.reshape(len(X), -1)

    def backward(self, dY):
        return dY.reshape(len(dY), *self.input_shape) if self.input_grad else None
