"""Confusion matrix, per-class precision/recall/F1 and the report, against hand-computed values."""

import json

import numpy as np
import pytest

from barenet.errors import DataError
from barenet.metrics import (
    classification_report,
    confusion_matrix,
    format_classification_report,
    per_class_metrics,
)

# Six samples, two per class. Class 0: one right, one taken for 1. Class 1: both right.
# Class 2: one right, one taken for 0.
Y_TRUE = [0, 0, 1, 1, 2, 2]
Y_PRED = [0, 1, 1, 1, 2, 0]
CONFUSION = [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    C = confusion_matrix(Y_TRUE, Y_PRED)
    assert C.dtype == np.int64
    np.testing.assert_array_equal(C, CONFUSION)
    # Swapping truth and prediction transposes the matrix.
    np.testing.assert_array_equal(confusion_matrix(Y_PRED, Y_TRUE), np.transpose(CONFUSION))


def test_confusion_matrix_size_follows_n_classes():
    C = confusion_matrix([1, 1], [1, 0], n_classes=4)
    expected = np.zeros((4, 4), int)
    expected[1, 1] = expected[1, 0] = 1
    np.testing.assert_array_equal(C, expected)
    assert confusion_matrix([], [], n_classes=3).sum() == 0


@pytest.mark.parametrize(
    "y_true, y_pred, n_classes, message",
    [
        ([0, 1], [0], None, "2 labels but y_pred has 1"),
        ([0, 3], [0, 1], 3, "label 3 out of range for 3 classes"),
        ([0, -1], [0, 1], None, "non-negative integer labels"),
        ([0.0, 1.0], [0, 1], None, "non-negative integer labels"),
        ([[0, 1]], [[0, 1]], None, "must be 1-D"),
    ],
)
def test_bad_labels_are_refused(y_true, y_pred, n_classes, message):
    with pytest.raises(DataError, match=message):
        confusion_matrix(y_true, y_pred, n_classes)


def test_per_class_metrics_match_hand_computed_values():
    m = per_class_metrics(CONFUSION)
    # precision = diagonal / column sums, recall = diagonal / row sums
    np.testing.assert_allclose(m["precision"], [1 / 2, 2 / 3, 1])
    np.testing.assert_allclose(m["recall"], [1 / 2, 1, 1 / 2])
    np.testing.assert_allclose(m["f1"], [1 / 2, 0.8, 2 / 3])  # 2pr / (p + r)
    np.testing.assert_array_equal(m["support"], [2, 2, 2])


def test_classes_never_predicted_or_absent_score_zero_not_nan():
    m = per_class_metrics(confusion_matrix([0, 0, 1], [0, 0, 0], n_classes=3))
    np.testing.assert_array_equal(m["precision"], [2 / 3, 0, 0])
    np.testing.assert_array_equal(m["recall"], [1, 0, 0])
    np.testing.assert_allclose(m["f1"], [0.8, 0, 0])
    np.testing.assert_array_equal(m["support"], [2, 1, 0])


def test_per_class_metrics_needs_a_square_matrix():
    with pytest.raises(DataError, match="square"):
        per_class_metrics([[1, 2, 3]])


def test_classification_report_is_json_with_the_hand_computed_figures():
    report = json.loads(json.dumps(classification_report(Y_TRUE, Y_PRED)))
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["n_samples"] == 6
    assert report["confusion_matrix"] == CONFUSION
    assert [row["class"] for row in report["per_class"]] == [0, 1, 2]
    assert report["per_class"][1] == pytest.approx(
        {"class": 1, "precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2}
    )


def test_text_report_has_a_row_per_class_and_the_matrix():
    text = format_classification_report(classification_report(Y_TRUE, Y_PRED))
    lines = text.splitlines()
    assert lines[0].split() == ["class", "precision", "recall", "f1", "support"]
    assert lines[2].split() == ["1", "0.6667", "1.0000", "0.8000", "2"]
    matrix = [[int(v) for v in line.split()[1:]] for line in lines[-3:]]
    assert matrix == CONFUSION
