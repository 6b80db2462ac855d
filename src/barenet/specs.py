"""Specs: how activations, optimizers, schedules and augmentations are found by name, and
how their settings read in words.

A spec is a name (``"adam"``) or a config dict (``{"name": "sgd", "momentum": 0.9}``), which is
also what a saved model's JSON header holds, so every piece can be rebuilt from its file.
"""

from barenet.errors import BarenetError


def parse_spec(spec, table, kind):
    """``(name, settings)`` from a spec, with the valid names in the error for an unknown one."""
    config = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = config.pop("name", None)
    if name not in table:
        raise BarenetError(f"unknown {kind} {name!r}; choose one of {sorted(table)}")
    return name, config


def build(table, kind, name, config):
    """``table[name](**config)``, turning wrong setting names into a clear error."""
    try:
        return table[name](**config)
    except TypeError as exc:
        raise BarenetError(f"bad settings for {kind} {name!r}: {exc}") from None


def from_spec(spec, table, kind):
    """The object a spec describes: ``from_spec("cosine", SCHEDULES, "schedule")``."""
    return build(table, kind, *parse_spec(spec, table, kind))


# How a spec reads to a person: the model card, `barenet evaluate`, `info` and the report all
# show a run's settings with these, so "nesterov true" never reaches a reader.
_OPTIMIZER_NAMES = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}
_UNITS = {"rotation": "°", "shift": " px", "max_shift": " px"}


def describe_optimizer(spec):
    """``{"name": "sgd", "momentum": 0.9, "nesterov": True, "learning_rate": 0.05}`` as
    ``"SGD with Nesterov momentum 0.9, learning rate 0.05"``."""
    config = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = str(config.pop("name", "sgd"))
    rate = config.pop("learning_rate", None)
    words = _OPTIMIZER_NAMES.get(name, name)
    if name == "sgd":
        momentum, nesterov = config.pop("momentum", 0.0), config.pop("nesterov", False)
        if momentum:
            words += f" with {'Nesterov ' if nesterov else ''}momentum {momentum:g}"
    rest = [f"{key.replace('_', ' ')} {_number(value)}" for key, value in config.items()]
    if rate is not None:
        rest.insert(0, f"learning rate {_number(rate)}")
    return ", ".join([words, *rest])


def describe_setting(spec):
    """A schedule or augmentation spec in words: ``"cosine (down to 0)"``,
    ``"affine (rotation ±10°, scale ±0.1, shift ±2 px)"``, ``"warm-up 0.5 epochs, then cosine"``.
    ``None`` stays ``None``."""
    if spec is None:
        return None
    config = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = str(config.pop("name", ""))
    if name == "warmup":
        then = describe_setting(config.pop("then", "constant"))
        return f"warm-up {_number(config.pop('warmup', 1.0))} epochs, then {then}"
    if name == "cosine":
        return f"cosine (down to {_number(config.get('min_rate', 0.0))})"
    parts = []
    for key, value in config.items():
        if isinstance(value, dict):
            parts.append(f"{key.replace('_', ' ')}: {describe_setting(value)}")
        elif key in ("rotation", "scale", "shift", "max_shift"):
            parts.append(f"{key.replace('_', ' ')} ±{_number(value)}{_UNITS.get(key, '')}")
        else:
            parts.append(f"{key.replace('_', ' ')} {_number(value)}")
    return f"{name} ({', '.join(parts)})" if parts else name


def _number(value):
    return f"{value:g}" if isinstance(value, float) else str(value)
