"""Held-out parts of your own data: a test split and a validation split drawn at random, class by
class in proportion (stratified), or from all samples at once when there are no classes (give
every sample the same label).
"""

import numpy as np

from barenet.errors import DataError


def stratified_split(y, validation=0.1, test=0.2, seed=42):
    """``(train, validation, test)`` index arrays over the labels ``y``, each class in the same
    proportion in every part (the counts rounded by largest remainder, so the totals are exact).

    ``test`` and ``validation`` are fractions in [0, 1) or counts; the test part is drawn first
    from each class's shuffled samples, then the validation part from the rest.
    """
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    shuffled = {c: rng.permutation(np.flatnonzero(y == c)) for c in classes}
    counts = np.array([len(shuffled[c]) for c in classes])
    try:
        n_test = _allocate(counts, _amount("test", test, len(y)))
        n_val = _allocate(counts - n_test, _amount("validation", validation, len(y) - n_test.sum()))
    except DataError as exc:
        needed = minimum_samples(validation, test)
        if needed is None or needed <= len(y):
            raise
        too_few = f"{len(y)} samples are too few; at least {needed} are needed"
        raise DataError(f"{exc}: {too_few}") from None
    train, val, held_out = [], [], []
    for c, t, v in zip(classes, n_test, n_val, strict=True):
        order = shuffled[c]
        held_out.append(order[:t])
        val.append(order[t : t + v])
        train.append(order[t + v :])
    parts = [np.sort(np.concatenate(p)) for p in (train, val, held_out)]
    if len(parts[0]) == 0 or (len(parts[2]) == 0 and _asks_for_some(test)):
        part = "for training" if len(parts[0]) == 0 else f"for the test ({_share(test)})"
        needed = minimum_samples(validation, test)
        more = f"at least {needed} are needed" if needed else "hold out fewer"
        raise DataError(f"{len(y)} samples are too few to split: none would be left {part}; {more}")
    return tuple(parts)


def minimum_samples(validation=0.1, test=0.2, limit=100_000):
    """The fewest samples that :func:`stratified_split` can split with ``validation`` and
    ``test``: at least one for training, and one for the test unless ``test`` is 0 (None
    when no number up to ``limit`` will do)."""
    for n in range(1, limit + 1):
        try:
            n_test = _amount("test", test, n)
            n_val = _amount("validation", validation, n - n_test)
        except DataError:
            continue
        if n - n_test - n_val >= 1 and (n_test >= 1 or not _asks_for_some(test)):
            return n
    return None


def _asks_for_some(amount):
    """Whether a fraction or count of samples to hold out is more than none."""
    return amount > 0


def _share(amount):
    """``"20%"`` of a fraction, ``"5 samples"`` of a count."""
    if isinstance(amount, float):
        return f"{amount:.0%}"
    return f"{amount} samples"


def _amount(what, value, n):
    """A count of samples from a fraction in [0, 1) or a count in [0, n)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if not 0 <= value < n:
            raise DataError(f"{what} must be from 0 to {n - 1} samples, got {value}")
        return int(value)
    if not isinstance(value, float) or not 0 <= value < 1:
        raise DataError(f"{what} must be a fraction in [0, 1) or a count, got {value!r}")
    return round(value * n)


def _allocate(counts, total):
    """``total`` shared among classes in proportion to ``counts`` (largest remainder)."""
    if counts.sum() == 0 or total == 0:
        return np.zeros_like(counts)
    quotas = counts * (total / counts.sum())
    shares = np.floor(quotas).astype(int)
    for k in np.argsort(-(quotas - shares), kind="stable")[: total - shares.sum()]:
        shares[k] += 1
    return np.minimum(shares, counts)
