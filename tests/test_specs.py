"""Settings in words: what the model card, `evaluate`, `info` and the report show."""

from barenet.specs import describe_optimizer, describe_setting


def test_optimizer_says_what_ran():
    nesterov = {"name": "sgd", "momentum": 0.9, "nesterov": True, "learning_rate": 0.05}
    assert describe_optimizer(nesterov) == "SGD with Nesterov momentum 0.9, learning rate 0.05"
    assert describe_optimizer({"name": "sgd", "momentum": 0.0, "nesterov": False}) == "SGD"
    assert describe_optimizer("adam").startswith("Adam")


def test_settings_have_units_not_raw_keys():
    affine = {"name": "affine", "rotation": 10.0, "scale": 0.1, "shift": 2.0}
    assert describe_setting(affine) == "affine (rotation ±10°, scale ±0.1, shift ±2 px)"
    assert describe_setting({"name": "cosine", "min_rate": 0.0}) == "cosine (down to 0)"
    warm = {"name": "warmup", "warmup": 0.5, "then": "cosine"}
    assert describe_setting(warm) == "warm-up 0.5 epochs, then cosine (down to 0)"
    assert describe_setting(None) is None
