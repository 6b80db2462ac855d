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
