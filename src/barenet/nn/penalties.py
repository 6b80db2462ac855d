"""Weight penalties: L2 and L1 regularisation of the weights (never of the biases).

The loss gains ``l2/2 * sum(W^2) + l1 * sum(|W|)`` over the weights, so their gradient gains
``l2 W + l1 sign(W)``. The weights are picked out of the flat parameter buffer by a mask of
ones (weights) and zeros (biases, batch-norm parameters), in the buffer's own layout.
"""

import numpy as np


class WeightPenalty:
    """Adds the penalties' gradient to a gradient buffer and returns the penalty.

    ``mask`` marks the weights in the parameter buffer. The masked weights go through two
    buffers allocated here, once, since this runs at every training step.
    """

    def __init__(self, l2, l1, mask):
        self.l2, self.l1, self.mask = l2, l1, mask
        self._buffers = [np.empty_like(mask) for _ in range(2)] if l2 or l1 else []

    def add_gradient(self, params, grads):
        """``grads += l2 W + l1 sign(W)`` (weights only); returns the penalty added to the loss."""
        if not (self.l2 or self.l1):
            return 0.0
        W, sign = self._buffers
        np.multiply(params, self.mask, out=W)  # biases masked out
        penalty = 0.0
        if self.l1:
            np.sign(W, out=sign)
            penalty += self.l1 * float(np.dot(sign, W))  # sum |W|
            sign *= self.l1
            grads += sign
        if self.l2:
            penalty += 0.5 * self.l2 * float(np.dot(W, W))
            W *= self.l2
            grads += W
        return penalty
