import math

import pytest

from barenet import BarenetError
from barenet.optim.schedules import get_schedule


def started(spec, base=0.1, epochs=10):
    return get_schedule(spec).start(base, epochs)


def test_documented_rates():
    assert started("constant").rate(7.3) == 0.1
    step = started({"name": "step", "every": 3, "gamma": 0.5})
    assert [step.rate(t) for t in (0, 2.9, 3, 6.5)] == [0.1, 0.1, 0.05, 0.025]
    exp = started({"name": "exponential", "gamma": 0.9})
    assert math.isclose(exp.rate(2.5), 0.1 * 0.81)
    cos = started("cosine")
    assert cos.rate(0) == 0.1 and math.isclose(cos.rate(5), 0.05) and cos.rate(10) < 1e-12
    assert math.isclose(started({"name": "cosine", "min_rate": 0.01}).rate(10), 0.01)


def test_warmup_rises_linearly_then_hands_over():
    s = started({"name": "warmup", "warmup": 2, "then": "cosine"})
    assert math.isclose(s.rate(0), 0.001) and math.isclose(s.rate(1), 0.0505)
    assert math.isclose(s.rate(2), 0.1)  # cosine over the remaining 8 epochs starts at the top
    assert math.isclose(s.rate(6), 0.05)


def test_plateau_reduces_after_patience_and_keeps_its_state():
    s = started({"name": "plateau", "factor": 0.5, "patience": 2, "monitor": "val_loss"})
    rates = []
    for loss in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.5]:
        s.on_epoch_end(None, 0, {"val_loss": loss, "train_loss": 0})
        rates.append(s.rate(0))
    assert rates == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    clone = started("plateau")
    clone.set_state(s.state())
    assert clone.rate(0) == 0.025


def test_unknown_schedule_lists_the_valid_ones():
    with pytest.raises(BarenetError, match="unknown schedule 'cosin'; choose one of"):
        get_schedule("cosin")
    with pytest.raises(BarenetError, match="bad settings"):
        get_schedule({"name": "step", "period": 3})


def test_a_fractional_warmup_then_cosine_anneals_over_the_rest_of_the_run():
    """16 epochs with half an epoch of warm-up: cosine over the remaining 15.5 epochs, half-way
    down at 0.5 + 7.75, and above zero at every step before the end (issue 18)."""
    s = started({"name": "warmup", "warmup": 0.5, "then": "cosine"}, base=0.1, epochs=16)
    assert s.then.epochs == 15.5
    assert math.isclose(s.rate(0.5), 0.1) and math.isclose(s.rate(0.5 + 7.75), 0.05)
    batches = 100  # the rate of the last batch of the last epoch is the smallest one used
    last = s.rate(16 - 1 / batches)
    expected = 0.1 * (1 + math.cos(math.pi * (15.5 - 1 / batches) / 15.5)) / 2
    assert last > 0 and math.isclose(last, expected)
    assert s.rate(16) < 1e-12  # zero only once the run is over


def test_schedules_keep_fractional_epochs():
    assert started("cosine", epochs=2.5).epochs == 2.5
    assert math.isclose(started("cosine", epochs=2.5).rate(1.25), 0.05)
    # A warm-up longer than the run leaves the schedule after it one epoch, not zero.
    s = started({"name": "warmup", "warmup": 3, "then": "cosine"}, epochs=2)
    assert s.then.epochs == 1.0 and math.isclose(s.rate(1.5), 0.1 * (0.01 + 0.99 * 0.5))
