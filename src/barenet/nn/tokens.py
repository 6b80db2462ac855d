"""Tokens: an image cut into patch vectors, and the layers a vision transformer puts around them.

A transformer works on a sequence of tokens, ``(batch, tokens, dim)``. :class:`PatchEmbed` turns
an image ``(batch, H, W, C)`` into one token per ``p x p`` patch; :class:`ClassToken` prepends a
learned token that the attention layers fill with what the classifier needs;
:class:`PositionEmbedding` adds a learned vector per position (attention alone does not know
where a token came from). At the end, one vector per sample goes to the classifier head:
:class:`TakeToken` picks a token (``TakeToken(0)``, the class token, after a ``ClassToken``) and
:class:`TokenMean` averages them all (without a class token)::

    PatchEmbed(4, 64), ClassToken(), PositionEmbedding(), ...blocks..., LayerNorm(),
    TakeToken(0), Dense(10)
"""

import numpy as np

from barenet import validation as check
from barenet.errors import BarenetError
from barenet.nn.conv import image_shape
from barenet.nn.init import get_initializer
from barenet.nn.layers import Layer

EMBEDDING_STD = 0.02  # initial spread of learned tokens and positions, as in ViT


def token_shape(layer, input_shape):
    """``(tokens, dim)`` of the samples ``layer`` receives, or a clear error."""
    if len(input_shape) != 2:
        raise BarenetError(
            f"{type(layer).__name__} needs token samples (tokens, features), got shape "
            f"{tuple(input_shape)}: start with PatchEmbed (patch4x64 in a layer string)"
        )
    return tuple(int(n) for n in input_shape)


class PatchEmbed(Layer):
    """Cut each image into non-overlapping ``p x p`` patches and map each one linearly to a
    token: ``(batch, H, W, C) -> (batch, T, dim)`` with ``T = (H/p) (W/p)`` tokens, row by row.

    Patch ``(i, j)`` flattened in ``(row, column, channel)`` order is the row vector
    ``x_ij (p*p*C,)``, and its token is ``y_ij = x_ij W2 + b`` with ``W (p, p, C, dim)``
    (``W2 = W.reshape(p*p*C, dim)``, the layout of a ``Conv2D`` kernel: the layer is a
    convolution with stride ``p``) and ``b (dim,)``. All patches go through one matrix product,
    ``Y2 = patches W2 + b``.

    Backward, as :class:`~barenet.nn.layers.Dense` on the ``(B*T, p*p*C)`` patch matrix:
    ``dW2 = patches^T dY2``, ``db = sum of the rows of dY2``, and ``dpatches = dY2 W2^T``,
    each put back where its patch came from (the first layer of a network skips that).
    """

    kind = "patch_embed"

    def __init__(self, patch_size, dim, init="xavier"):
        self.patch_size = check.positive_int("patch_size", patch_size)
        self.dim = check.positive_int("dim", dim)
        self.init = init
        self._init_fn = get_initializer(init)

    def build(self, input_shape):
        H, W, C = image_shape(self, input_shape)
        p = self.patch_size
        if H % p or W % p:
            raise BarenetError(
                f"patches of {p}x{p} do not tile {H}x{W} images: the patch size must divide "
                "the image's height and width"
            )
        super().build(input_shape)
        self.grid, self.c_in = (H // p, W // p), C
        self.output_shape = (self.grid[0] * self.grid[1], self.dim)
        return self.output_shape

    def param_shapes(self):
        p = self.patch_size
        return {"W": ((p, p, self.c_in, self.dim), True), "b": ((self.dim,), False)}

    def bind(self, params, grads):
        super().bind(params, grads)
        self.W, self.b = params["W"], params["b"]
        self.dW, self.db = grads["W"], grads["b"]

    def initialize(self, rng):
        # Fans of the linear map on a flattened patch: p*p*C in, dim out.
        W2 = self._init_fn(rng, self.W[..., 0].size, self.dim, self.W.dtype)
        self.W[...] = W2.reshape(self.W.shape)
        self.b[...] = 0

    def _patch_view(self, images):
        """``images (B, H, W, C)`` seen as ``(B, H/p, W/p, p, p, C)``: patch ``(i, j)`` of each
        image, in the order of ``W``. A view; copying it gives the patch matrix."""
        (gh, gw), p = self.grid, self.patch_size
        blocks = images.reshape(len(images), gh, p, gw, p, self.c_in)
        return blocks.transpose(0, 1, 3, 2, 4, 5)

    def forward(self, X, training=False):
        B, T, p, dim = len(X), self.output_shape[0], self.patch_size, self.dim
        patches = self._buffer("_patches", (B, *self.grid, p, p, self.c_in), self.W.dtype)
        Y = self._buffer("_Y", (B, T, dim), self.W.dtype)
        # --8<-- [start:patch_forward]
        np.copyto(patches, self._patch_view(X))
        self.patches = patches.reshape(B * T, -1)
        np.matmul(self.patches, self.W.reshape(-1, dim), out=Y.reshape(B * T, dim))
        Y += self.b
        # --8<-- [end:patch_forward]
        return Y

    def backward(self, dY):
        dim = self.dim
        dY2 = dY.reshape(-1, dim)
        # --8<-- [start:patch_backward]
        np.matmul(self.patches.T, dY2, out=self.dW.reshape(-1, dim))
        np.add.reduce(dY2, axis=0, out=self.db)
        if not self.input_grad:
            return None
        dpatches = self._buffer("_dpatches", self.patches.shape, dY.dtype)
        np.matmul(dY2, self.W.reshape(-1, dim).T, out=dpatches)
        dX = self._buffer("_dX", (len(dY), *self.input_shape), dY.dtype)
        # Swapping the two middle axes is its own inverse: back to (B, H/p, p, W/p, p, C).
        np.copyto(self._patch_view(dX), dpatches.reshape(self._patch_view(dX).shape))
        # --8<-- [end:patch_backward]
        return dX

    def config(self):
        return {"kind": self.kind, "patch_size": self.patch_size, "dim": self.dim,
                "init": self.init}  # fmt: skip


class PositionEmbedding(Layer):
    """A learned vector per position, added to the tokens: ``Y[b, t] = X[b, t] + P[t]`` with
    ``P (tokens, dim)``, drawn from ``N(0, 0.02^2)`` at first.

    Backward: ``dP = sum over the batch of dY``, and ``dX = dY``.
    """

    kind = "position_embedding"

    def build(self, input_shape):
        token_shape(self, input_shape)
        return super().build(input_shape)

    def param_shapes(self):
        return {"P": (self.input_shape, False)}

    def bind(self, params, grads):
        super().bind(params, grads)
        self.P, self.dP = params["P"], grads["P"]

    def initialize(self, rng):
        self.P[...] = rng.normal(0.0, EMBEDDING_STD, self.P.shape)

    def forward(self, X, training=False):
        return np.add(X, self.P, out=self._buffer("_Y", X.shape, self.P.dtype))

    def backward(self, dY):
        np.add.reduce(dY, axis=0, out=self.dP)
        return dY if self.input_grad else None


class ClassToken(Layer):
    """Prepend one learned token to every sample: ``(batch, T, dim) -> (batch, T + 1, dim)``,
    ``Y[b, 0] = token`` and ``Y[b, 1:] = X[b]``; ``token (dim,)`` is drawn from
    ``N(0, 0.02^2)`` at first. Attention lets it gather from every patch; ``TakeToken(0)`` hands
    it to the classifier.

    Backward: ``dtoken = sum over the batch of dY[:, 0]``, and ``dX = dY[:, 1:]``.
    """

    kind = "class_token"

    def build(self, input_shape):
        T, dim = token_shape(self, input_shape)
        super().build(input_shape)
        self.output_shape = (T + 1, dim)
        return self.output_shape

    def param_shapes(self):
        return {"token": ((self.input_shape[1],), False)}

    def bind(self, params, grads):
        super().bind(params, grads)
        self.token, self.dtoken = params["token"], grads["token"]

    def initialize(self, rng):
        self.token[...] = rng.normal(0.0, EMBEDDING_STD, self.token.shape)

    def forward(self, X, training=False):
        Y = self._buffer("_Y", (len(X), *self.output_shape), self.token.dtype)
        Y[:, 0] = self.token
        Y[:, 1:] = X
        return Y

    def backward(self, dY):
        np.add.reduce(dY[:, 0], axis=0, out=self.dtoken)
        return dY[:, 1:] if self.input_grad else None


class TakeToken(Layer):
    """One token of each sample, for the classifier: ``(batch, T, dim) -> (batch, dim)``,
    ``Y[b] = X[b, index]``; ``TakeToken(0)`` after a :class:`ClassToken` takes the class token.

    Backward: ``dX`` is zero but for ``dX[:, index] = dY``.
    """

    kind = "take_token"

    def __init__(self, index=0):
        self.index = check.positive_int("token index", index, minimum=0)

    def build(self, input_shape):
        T, dim = token_shape(self, input_shape)
        if self.index >= T:
            raise BarenetError(f"cannot take token {self.index} of samples with {T} tokens")
        super().build(input_shape)
        self.output_shape = (dim,)
        return self.output_shape

    def forward(self, X, training=False):
        # A copy, not a view: the next layer may work in place on what it receives.
        Y = self._buffer("_Y", (len(X), X.shape[2]), X.dtype)
        np.copyto(Y, X[:, self.index])
        return Y

    def backward(self, dY):
        if not self.input_grad:
            return None
        # Zeroed every time: the layer before may overwrite the gradient it is given.
        dX = self._buffer("_dX", (len(dY), *self.input_shape), dY.dtype)
        dX.fill(0)
        dX[:, self.index] = dY
        return dX

    def config(self):
        return {"kind": self.kind, "index": self.index}


class TokenMean(Layer):
    """The mean of each sample's tokens: ``(batch, T, dim) -> (batch, dim)``,
    ``Y[b] = (1/T) sum over t of X[b, t]``. Backward: every token gets ``dX[b, t] = dY[b] / T``.
    """

    kind = "token_mean"

    def build(self, input_shape):
        _, dim = token_shape(self, input_shape)
        super().build(input_shape)
        self.output_shape = (dim,)
        return self.output_shape

    def forward(self, X, training=False):
        return np.mean(X, axis=1, out=self._buffer("_Y", (len(X), X.shape[2]), X.dtype))

    def backward(self, dY):
        if not self.input_grad:
            return None
        dX = self._buffer("_dX", (len(dY), *self.input_shape), dY.dtype)
        return np.multiply(dY[:, None, :], 1.0 / self.input_shape[0], out=dX)
