"""Checkers for a student's backward pass, as in cs231n's assignments: each takes the function a
student wrote, runs it on small random float64 arrays, and says which gradient is wrong, by how
much, and, when it recognises it, which mistake it is (a missing transpose, a kernel not flipped,
a mean where a sum is meant...), against centred finite differences or barenet's own layers.

The exercises of ``notebooks/06-write-the-backward-pass.ipynb`` (:mod:`barenet.exercises.dense`):

- ``dense_backward(X, W, b, dZ) -> (dX, dW, db)`` for ``Z = X @ W + b``;
- ``relu_backward(Z, dA) -> dZ`` for ``A = max(Z, 0)``;
- ``softmax_cross_entropy_backward(Z, y) -> dZ``, the gradient of the *mean* loss;
- ``network_backward(weights, X, y) -> grads`` for a whole network (Dense, ReLU, ..., Dense,
  softmax cross-entropy), ``weights`` and ``grads`` dicts keyed like ``net.named_arrays()``.

Those of ``notebooks/07-write-more-layers.ipynb``, each checker's docstring defining the layer:

- :func:`check_conv2d`: ``conv2d_backward(X, W, b, dY, stride, padding) -> (dX, dW, db)``;
- :func:`check_maxpool`: ``maxpool_backward(X, dY, pool) -> dX``;
- :func:`check_batchnorm`: ``batchnorm_backward(X, gamma, dY, eps) -> (dX, dgamma, dbeta)``;
- :func:`check_dropout`: ``dropout_backward(dY, mask, rate) -> dX``;
- :func:`check_sigmoid`, :func:`check_tanh`: ``sigmoid_backward(Z, dA) -> dZ``, and tanh's;
- :func:`check_momentum`: ``momentum_step(params, grads, velocity, lr, mu) -> (params,
  velocity)``;
- :func:`check_adam`: ``adam_step(params, grads, m, v, t, lr, beta1, beta2, eps) -> (params, m,
  v)``;
- :func:`check_layernorm`: ``layernorm_backward(X, gamma, dY, eps) -> (dX, dgamma, dbeta)``;
- :func:`check_attention`: ``attention_backward(X, Wq, Wk, Wv, Wo, dY, heads) -> (dX, dWq, dWk,
  dWv, dWo)``;
- :func:`check_rnn_step`: ``rnn_step_backward(x, h_prev, Wx, Wh, b, dh) -> (dx, dh_prev, dWx,
  dWh, db)``.

Each checker returns a :class:`GradientCheck`, which prints as one line per gradient. A gradient
passes when its relative error ``||yours - reference|| / (||yours|| + ||reference||)`` is below
``1e-6`` (finite differences with step ``h = 1e-5`` in float64 agree to about ``1e-9``). The
checkers of notebook 7 try three cases each (shapes that are never square, several strides,
paddings, head counts...) and report a gradient on the first case where it is wrong. A function
that still raises ``NotImplementedError`` is reported as not written yet, so a notebook with
blank exercises still runs from top to bottom; one that raises anything else, or returns the
wrong number of arrays, is reported too, never raised.
"""

from barenet.exercises.attention import check_attention
from barenet.exercises.checking import (
    TOLERANCE,
    GradientCheck,
    Verdict,
    compare,
    numeric_gradient,
    relative_error,
)
from barenet.exercises.checking import H as H
from barenet.exercises.convolution import check_conv2d, check_maxpool
from barenet.exercises.dense import (
    check_dense,
    check_network,
    check_relu,
    check_softmax_cross_entropy,
)
from barenet.exercises.elementwise import check_dropout, check_sigmoid, check_tanh
from barenet.exercises.normalization import check_batchnorm, check_layernorm
from barenet.exercises.optimizers import check_adam, check_momentum
from barenet.exercises.recurrent import check_rnn_step

__all__ = [
    "H",
    "TOLERANCE",
    "GradientCheck",
    "Verdict",
    "check_adam",
    "check_attention",
    "check_batchnorm",
    "check_conv2d",
    "check_dense",
    "check_dropout",
    "check_layernorm",
    "check_maxpool",
    "check_momentum",
    "check_network",
    "check_relu",
    "check_rnn_step",
    "check_sigmoid",
    "check_softmax_cross_entropy",
    "check_tanh",
    "compare",
    "numeric_gradient",
    "relative_error",
]
