import numpy as np
import pytest

from barenet import BarenetError
from barenet.train.augment import Affine, Elastic, Shift, get_augmentation, sample_bilinear


def square(side=28):
    img = np.zeros((side, side), np.float32)
    img[10:18, 12:16] = 1.0
    return img.reshape(1, -1)


def test_shift_moves_whole_pixels_and_keeps_ink():
    X = np.repeat(square(), 50, axis=0)
    out = Shift(2)(X, np.random.default_rng(0))
    assert out.shape == X.shape and not np.shares_memory(out, X)
    np.testing.assert_allclose(out.sum(axis=1), X.sum(axis=1))  # nothing falls off at 2 px
    for img in out.reshape(-1, 28, 28):
        rows, cols = np.nonzero(img)
        assert rows.min() - 10 in range(-2, 3) and cols.min() - 12 in range(-2, 3)
        assert img.max() == 1.0 and rows.max() - rows.min() == 7  # shape preserved exactly


def test_affine_identity_keeps_the_image():
    X = square()
    same = Affine(rotation=0, scale=0, shift=0)(X, np.random.default_rng(0))
    np.testing.assert_allclose(same, X, atol=1e-5)
    moved = Affine(rotation=15, scale=0.1, shift=0)(np.repeat(X, 20, 0), np.random.default_rng(0))
    assert not np.allclose(moved, X) and np.all(np.abs(moved.sum(1) / X.sum() - 1) < 0.25)


def test_bilinear_sampling_reproduces_a_quarter_turn_and_half_pixels():
    img = np.random.default_rng(0).random((1, 28, 28)).astype(np.float32)
    r, c = np.meshgrid(np.arange(28.0), np.arange(28.0), indexing="ij")
    np.testing.assert_allclose(sample_bilinear(img, c[None], 27 - r[None])[0], np.rot90(img[0]))
    half = sample_bilinear(img, r[None] + 0.5, c[None])[0]
    np.testing.assert_allclose(half[:-1], (img[0, :-1] + img[0, 1:]) / 2, rtol=1e-5)
    assert np.allclose(half[-1], img[0, -1] / 2)  # outside the image counts as background


def test_elastic_moves_pixels_smoothly_and_is_seeded():
    X = np.repeat(square(), 4, axis=0)
    a = Elastic(alpha=34, sigma=4)(X, np.random.default_rng(1))
    b = Elastic(alpha=34, sigma=4)(X, np.random.default_rng(1))
    assert np.array_equal(a, b)
    assert not np.allclose(a, X)
    assert 0.7 < a.sum() / X.sum() < 1.3  # distorted, not destroyed


def test_names_and_errors():
    assert isinstance(get_augmentation("shift"), Shift)
    assert get_augmentation({"name": "elastic", "alpha": 8}).alpha == 8
    with pytest.raises(BarenetError, match="unknown augmentation"):
        get_augmentation("mixup")
    with pytest.raises(BarenetError, match="square images"):
        Shift(1)(np.zeros((2, 10), np.float32), np.random.default_rng(0))
