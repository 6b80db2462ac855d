"""Weight penalties: a known answer, and biases left alone."""

import numpy as np

from barenet.nn.penalties import WeightPenalty


def test_l2_and_l1_add_their_gradient_to_the_weights_only():
    params = np.array([2.0, -1.0, 5.0], np.float32)  # two weights, then a bias
    mask = np.array([1.0, 1.0, 0.0], np.float32)
    grads = np.ones(3, np.float32)
    penalty = WeightPenalty(l2=0.1, l1=0.01, mask=mask).add_gradient(params, grads)
    # 0.1/2 * (4 + 1) + 0.01 * (2 + 1)
    assert np.isclose(penalty, 0.25 + 0.03)
    # 1 + 0.1 W + 0.01 sign(W) on the weights; the bias gradient untouched
    np.testing.assert_allclose(grads, [1 + 0.2 + 0.01, 1 - 0.1 - 0.01, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(params, [2.0, -1.0, 5.0])  # the parameters are not changed


def test_no_penalty_changes_nothing():
    grads = np.ones(3, np.float32)
    assert WeightPenalty(0.0, 0.0, np.ones(3, np.float32)).add_gradient(grads * 3, grads) == 0.0
    np.testing.assert_array_equal(grads, 1.0)
