"""Mean and spread over seeds, and study results as a plain-text table.

Study functions return one row (a dict) per run; :func:`summarize` folds the runs that differ
only by seed into one row holding, for each metric, the mean and the spread (the sample
standard deviation, 0 for a single run). Rows of failed jobs (with an ``"error"``) are counted,
not averaged.
"""

import math

import numpy as np


def summarize(rows, by, metrics):
    """One row per group of ``rows`` sharing the values of the keys ``by``, in first-seen order.

    Each holds the group's values of ``by``, ``"runs"`` (successful rows), ``"failed"``, and for
    each metric ``m``: ``m_mean`` and ``m_std`` over the rows where ``m`` is a finite number
    (None when there is none).
    """
    by, groups = list(by), {}
    for row in rows:
        key = tuple(_hashable(row.get(name)) for name in by)
        groups.setdefault(key, []).append(row)
    return [_fold(members, by, metrics) for members in groups.values()]


def _hashable(value):
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def _fold(members, by, metrics):
    ok = [row for row in members if "error" not in row]
    out = {name: members[0].get(name) for name in by}
    out["runs"], out["failed"] = len(ok), len(members) - len(ok)
    for metric in metrics:
        values = [row.get(metric) for row in ok]
        values = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
        out[f"{metric}_mean"] = float(np.mean(values)) if values else None
        out[f"{metric}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        if not values:
            out[f"{metric}_std"] = None
    return out


def format_table(rows, columns):
    """``rows`` as aligned text. ``columns``: ``(header, key, format)`` triples such as
    ``("test acc", "test_accuracy_mean", ".2%")``; a key ending in ``_mean`` with a matching
    ``_std`` in the row is shown as ``mean ± std``; a missing value as ``-``."""
    cells = [[header for header, _, _ in columns]]
    for row in rows:
        cells.append([_cell(row, key, spec) for _, key, spec in columns])
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(text.rjust(width) for text, width in zip(line, widths)) for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _cell(row, key, spec):
    """``mean ± spread`` with the spread to the mean's decimals ("10.8 ± 0.5", not
    "10.8 ± 0.473"); no "± 0" when every run agreed ("0%", not "0% ± 0%")."""
    value = row.get(key)
    if value is None:
        return "-"
    text = format(value, spec)
    spread = row.get(key.removesuffix("_mean") + "_std") if key.endswith("_mean") else None
    if spread and row.get("runs", 0) > 1:
        text += f" ± {format(spread, _same_decimals(text, spec))}"
    return text


def _same_decimals(text, spec):
    """The format spec that shows a number with as many decimals as ``text`` has."""
    if not spec.endswith("g"):  # fixed decimals already (".2%", ".3f"): the same spec
        return spec
    digits = text.split(".")[1] if "." in text and "e" not in text else ""
    return f".{len(digits)}f"
