"""`load_own_data(..., task="regression")`: numbers to predict from a CSV column or an .npz's
float ``y``, kept as they are and split at random."""

import numpy as np
import pytest

from barenet import load_own_data
from barenet.errors import DataError


def write_csv(path, X, y, target="price"):
    header = ",".join([*(f"f{j}" for j in range(X.shape[1])), target])
    rows = [",".join(map(str, [*x, t])) for x, t in zip(X.tolist(), y.tolist(), strict=True)]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_a_csv_column_of_numbers_is_kept_as_floats_and_names_the_output(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (50, 3))  # whole numbers 0-255, but features: not pixels
    y = rng.integers(0, 200, 50).astype(float) + 0.5  # ... but targets never are
    data = load_own_data(write_csv(tmp_path / "house.csv", X, y), task="regression",
                         label_column="price")  # fmt: skip
    assert data.class_names == ("price",) and data.n_classes == 1
    assert data.spec["n_classes"] == 1 and data.spec["image_shape"] is None
    assert data.y_train.dtype == np.float32 and data.y_train.ndim == 1
    # 50 rows: 10 for the test, then 4 of the 40 left for validation; every target is in one part.
    assert (len(data.y_test), len(data.y_val), len(data.y_train)) == (10, 4, 36)
    parts = np.concatenate([data.y_train, data.y_val, data.y_test])
    assert sorted(parts.tolist()) == sorted(y.astype(np.float32).tolist())
    # Features are kept as they are (not divided by 255 as pixels would be).
    rows = np.concatenate([data.X_train, data.X_val, data.X_test])
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, X.astype(np.float32).tolist()))
    assert "targets price" in repr(data) and "classes" not in repr(data)


def test_the_test_rows_do_not_depend_on_the_validation_size(tmp_path):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    path = write_csv(tmp_path / "t.csv", X, y, target="label")
    a = load_own_data(path, task="regression", validation=0)
    b = load_own_data(path, task="regression", validation=0.25)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert len(b.y_val) == 8 and len(a.y_val) == 0


def test_an_npz_with_several_targets_keeps_its_columns_and_names(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 4))
    Y = np.c_[X.sum(1), X[:, 0] * 300]  # large targets, kept as they are
    np.savez(tmp_path / "two.npz", X=X, y=Y, output_names=["sum", "scaled"])
    data = load_own_data(tmp_path / "two.npz", task="regression")
    assert data.class_names == ("sum", "scaled") and data.y_test.shape == (6, 2)
    assert np.abs(data.y_train[:, 1]).max() > 100
    np.savez(tmp_path / "plain.npz", X=X, y=Y)
    assert load_own_data(tmp_path / "plain.npz", task="regression").class_names == ("y0", "y1")
    np.savez(tmp_path / "one.npz", X=X, y=Y[:, 0])
    assert load_own_data(tmp_path / "one.npz", task="regression").class_names == ("y",)


def test_data_without_numbers_to_predict_is_refused_in_words(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 2))
    (tmp_path / "pictures" / "cat").mkdir(parents=True)
    with pytest.raises(DataError, match="classification data"):
        load_own_data(tmp_path / "pictures", task="regression")
    np.savez(tmp_path / "classes.npz", X=X, y=np.arange(20) % 2, class_names=["a", "b"])
    with pytest.raises(DataError, match="class_names"):
        load_own_data(tmp_path / "classes.npz", task="regression")
    np.savez(tmp_path / "words.npz", X=X, y=np.array(["a", "b"] * 10))
    with pytest.raises(DataError, match="real numbers"):
        load_own_data(tmp_path / "words.npz", task="regression")
    y = np.arange(20.0)
    y[5] = np.nan
    np.savez(tmp_path / "nan.npz", X=X, y=y)
    with pytest.raises(DataError, match=r"not finite \(row 6\)"):
        load_own_data(tmp_path / "nan.npz", task="regression")
    (tmp_path / "w.csv").write_text("a,price\n1,3.5\n2,cheap\n")
    with pytest.raises(DataError, match="line 3: price is 'cheap', not a number"):
        load_own_data(tmp_path / "w.csv", task="regression", label_column="price")
    with pytest.raises(DataError, match="task must be one of"):
        load_own_data(tmp_path / "w.csv", task="numbers")
