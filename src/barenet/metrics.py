"""Classification metrics in plain NumPy: the confusion matrix and per-class precision/recall/F1.

Rows of the confusion matrix are true classes and columns predicted classes, so ``C[i, j]``
counts the samples of class ``i`` predicted as ``j``. Precision, recall and F1 are read off it;
a ratio whose denominator is zero (a class never predicted, or absent from the labels) is 0.
"""

import numpy as np

from barenet.errors import DataError


def confusion_matrix(y_true, y_pred, n_classes=None):
    """Counts ``(n_classes, n_classes)`` int64: row = true class, column = predicted class.

    ``y_true`` and ``y_pred`` are 1-D integer labels of the same length, in ``[0, n_classes)``;
    ``n_classes`` defaults to one more than the largest label seen.
    """
    y_true = _labels("y_true", y_true)
    y_pred = _labels("y_pred", y_pred)
    if len(y_true) != len(y_pred):
        raise DataError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    largest = int(max(y_true.max(initial=-1), y_pred.max(initial=-1)))
    if n_classes is None:
        n_classes = largest + 1
    elif largest >= n_classes:
        raise DataError(f"label {largest} out of range for {n_classes} classes")
    # Each (true, predicted) pair gets one flat index; bincount counts them all in one pass.
    counts = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def _labels(name, y):
    """``y`` as a 1-D int64 array of non-negative labels."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"{name} must be 1-D, got shape {y.shape}")
    if y.size and (y.dtype.kind not in "iu" or y.min() < 0):
        raise DataError(f"{name} must hold non-negative integer labels, got dtype {y.dtype}")
    return y.astype(np.int64)


def per_class_metrics(confusion):
    """Per-class ``{"precision", "recall", "f1", "support"}`` from a confusion matrix.

    Each value is an array of length ``n_classes``: precision = correct / predicted as the class,
    recall = correct / truly of the class, F1 their harmonic mean, support = truly of the class.
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise DataError(f"a confusion matrix must be square, got shape {confusion.shape}")
    correct = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    precision = _ratio(correct, confusion.sum(axis=0))
    recall = _ratio(correct, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def _ratio(numerator, denominator):
    """``numerator / denominator`` elementwise, 0 where the denominator is 0."""
    out = np.zeros(len(numerator))
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def classification_report(y_true, y_pred, n_classes=None):
    """Accuracy, per-class figures and confusion matrix of predictions, as JSON-able values.

    Returns ``{"accuracy", "n_samples", "per_class": [{"class", "precision", "recall", "f1",
    "support"}, ...], "confusion_matrix": [[...], ...]}`` with plain Python numbers.
    """
    confusion = confusion_matrix(y_true, y_pred, n_classes)
    figures = per_class_metrics(confusion)
    n_samples = int(confusion.sum())
    return {
        "accuracy": float(np.trace(confusion) / n_samples) if n_samples else 0.0,
        "n_samples": n_samples,
        "per_class": [
            {"class": c, **{name: values[c].item() for name, values in figures.items()}}
            for c in range(len(confusion))
        ],
        "confusion_matrix": confusion.tolist(),
    }


def format_classification_report(report, class_names=None):
    """A :func:`classification_report` as text: a per-class table, then the confusion matrix.

    ``class_names`` label the rows of the table; the matrix numbers its classes and, when the
    names are not simply those numbers, a legend says which name each number stands for.
    """
    n = len(report["per_class"])
    names = [str(c) for c in range(n)] if class_names is None else [str(c) for c in class_names]
    name_width = max(5, *(len(name) for name in names))
    lines = [f"{'class':>{name_width}}  precision  recall      f1  support"]
    for row in report["per_class"]:
        lines.append(
            f"{names[row['class']]:>{name_width}}{row['precision']:>11.4f}{row['recall']:>8.4f}"
            f"{row['f1']:>8.4f}{row['support']:>9}"
        )
    confusion = report["confusion_matrix"]
    width = max(5, len(str(max(max(row) for row in confusion))) + 1)
    lines += ["", "confusion matrix (rows: true class, columns: predicted class)"]
    lines.append("true" + "".join(f"{c:>{width}}" for c in range(len(confusion))))
    for c, row in enumerate(confusion):
        lines.append(f"{c:>4}" + "".join(f"{count:>{width}}" for count in row))
    if names != [str(c) for c in range(n)]:
        lines.append("classes: " + ", ".join(f"{c} {name}" for c, name in enumerate(names)))
    return "\n".join(lines)
