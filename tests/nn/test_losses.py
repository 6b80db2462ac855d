import numpy as np

from barenet.nn.losses import cross_entropy, log_softmax, softmax, softmax_cross_entropy


def test_softmax_known_values():
    P = softmax(np.array([[0.0, np.log(3.0)], [1.0, 1.0]]))
    np.testing.assert_allclose(P, [[0.25, 0.75], [0.5, 0.5]])


def test_softmax_and_cross_entropy_are_stable_for_huge_logits():
    Z = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]], dtype=np.float32)
    P = softmax(Z.copy())
    assert np.isfinite(P).all()
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-6)
    # True class far below the best: loss is 2e4, not inf or NaN.
    y = np.array([2, 0])
    dZ = np.empty_like(Z)
    loss = softmax_cross_entropy(Z, y, dZ)
    assert np.isfinite(loss) and np.isclose(loss, 2e4 + 2e4 + np.log(2), rtol=1e-5)
    assert np.isfinite(dZ).all()
    assert np.isclose(cross_entropy(Z.astype(np.float64), y), (2e4 + 2e4 + np.log(2)) / 2)


def test_fused_gradient_is_p_minus_y_over_batch():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(5, 4))
    y = np.array([0, 3, 1, 1, 2])
    dZ = np.empty_like(Z)
    loss = softmax_cross_entropy(Z, y, dZ)
    P = np.exp(log_softmax(Z))
    np.testing.assert_allclose(dZ, (P - np.eye(4)[y]) / 5)
    np.testing.assert_allclose(loss, -np.log(P[np.arange(5), y]).sum())


def test_fused_gradient_can_overwrite_the_logits():
    Z = np.array([[2.0, 1.0, 0.1]])
    expected = softmax(Z.copy()) - [[1, 0, 0]]
    softmax_cross_entropy(Z, np.array([0]), Z)
    np.testing.assert_allclose(Z, expected)
