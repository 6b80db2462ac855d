"""`load_own_data` on tables: features are never taken for pictures, data too small to split is
refused before any training, and a missing label column names how to choose one."""

import numpy as np
import pytest

from barenet import load_own_data
from barenet.data.splits import minimum_samples, stratified_split
from barenet.errors import DataError


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header), *(",".join(map(str, r)) for r in rows)]) + "\n")
    return path


def test_four_columns_are_four_features_not_a_2x2_picture(tmp_path):
    rng = np.random.default_rng(0)
    rows = [[*rng.integers(0, 200, 4), k % 2] for k in range(40)]
    path = write_csv(tmp_path / "four.csv", ["a", "b", "c", "d", "label"], rows)
    data = load_own_data(path)
    assert data.image_shape is None and data.spec["image_shape"] is None
    assert "features" in repr(data) and "pixels" not in repr(data)
    # Kept as they are: whole numbers up to 199 are features here, not 8-bit pixels.
    assert data.X_train.max() > 1
    pictures = load_own_data(path, image_shape=(2, 2))  # said explicitly: pictures, scaled
    assert pictures.image_shape == (2, 2) and pictures.X_train.max() <= 1


def test_an_npz_of_images_keeps_its_shape_and_one_of_rows_is_features(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    np.savez(tmp_path / "images.npz", X=rng.integers(0, 256, (40, 3, 3)).astype(np.uint8), y=y)
    np.savez(tmp_path / "rows.npz", X=rng.random((40, 9)), y=y)
    assert load_own_data(tmp_path / "images.npz").image_shape == (3, 3)
    assert load_own_data(tmp_path / "rows.npz").image_shape is None


def test_data_too_small_to_split_is_refused_with_the_number_of_rows_needed(tmp_path):
    path = write_csv(tmp_path / "tiny.csv", ["a", "b", "label"], [[1, 2, "x"], [3, 4, "y"]])
    with pytest.raises(DataError, match=r"tiny.csv: 2 samples are too few to split: none would "
                                        r"be left for the test \(20%\); at least 3"):  # fmt: skip
        load_own_data(path)
    numbers = write_csv(tmp_path / "numbers.csv", ["a", "price"], [[1, 2], [3, 4]])
    with pytest.raises(DataError, match="at least 3"):
        load_own_data(numbers, task="regression", label_column="price")
    three = write_csv(tmp_path / "three.csv", ["a", "label"], [[1, "x"], [2, "y"], [3, "x"]])
    data = load_own_data(three)
    assert (len(data.y_train), len(data.y_test)) == (2, 1)


def test_minimum_samples_is_the_smallest_split_that_works():
    for validation, test in [(0.1, 0.2), (0.0, 0.2), (0.1, 0.05), (5, 10), (0.3, 0.3)]:
        n = minimum_samples(validation, test)
        train, _, held_out = stratified_split(np.zeros(n), validation, test)
        assert len(train) >= 1 and len(held_out) >= 1
        with pytest.raises(DataError, match=f"at least {n} are needed"):
            stratified_split(np.zeros(n - 1), validation, test)
    assert minimum_samples(0.1, 0) == 1  # no test part asked for: one training sample will do


def test_a_missing_label_column_says_how_to_name_it(tmp_path):
    path = write_csv(tmp_path / "house.csv", ["area", "price"], [[1, 2]] * 10)
    for task in ("classification", "regression"):
        with pytest.raises(DataError, match=r"no column 'label'; the columns are area, price: "
                                            r"name the one .* with label_column"):  # fmt: skip
            load_own_data(path, task=task)
