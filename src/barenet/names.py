"""Name tables: how activations, optimizers, schedules and augmentations are found by name.

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
