"""`barenet train --data`: a folder of pictures per class, an .npz, a CSV; then predict,
evaluate and info on the model, which knows the class names."""

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from barenet import load_model, load_own_data
from tests.cli.helpers import run

SHAPES = ("circle", "square", "cross")


def draw(shape, rng, size=40):
    """A white picture with a dark shape of random size and place, as a person might draw."""
    image = Image.new("L", (size, size), 255)
    pen = ImageDraw.Draw(image)
    r = int(rng.integers(8, 14))
    cx, cy = (int(v) for v in rng.integers(r + 2, size - r - 2, 2))
    box = (cx - r, cy - r, cx + r, cy + r)
    if shape == "circle":
        pen.ellipse(box, outline=0, width=3)
    elif shape == "square":
        pen.rectangle(box, outline=0, width=3)
    else:
        pen.line(box, fill=0, width=3)
        pen.line((cx - r, cy + r, cx + r, cy - r), fill=0, width=3)
    return image


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("own") / "shapes"
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        (root / shape).mkdir(parents=True)
        for i in range(30):
            draw(shape, rng).save(root / shape / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def model(folder, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "shapes.npz"
    from barenet.cli.main import main

    argv = ["train", "--data", folder, "--hidden", 32, "--epochs", 30, "--batch-size", 16]
    assert main([str(a) for a in [*argv, "--image-size", 16, "-q", "-o", path]]) == 0
    return path


def test_a_folder_per_class_is_split_by_class_and_its_names_are_the_classes(folder):
    data = load_own_data(folder, image_shape=(16, 16))
    assert data.class_names == ("circle", "cross", "square")
    assert data.image_shape == (16, 16) and data.X_train.shape[1] == 256
    # 90 pictures: 18 test (6 a class), then 7 validation of the 72 left; each class its share.
    assert (len(data.y_test), len(data.y_val), len(data.y_train)) == (18, 7, 65)
    assert np.bincount(data.y_test).tolist() == [6, 6, 6]
    assert max(np.bincount(data.y_val)) - min(np.bincount(data.y_val)) <= 1
    assert 0 <= data.X_train.min() and data.X_train.max() <= 1


def test_train_on_a_folder_reports_the_split_and_the_model_names_the_classes(folder, model, capsys):
    net = load_model(model)
    assert net.class_names == ["circle", "cross", "square"] and net.image_shape == [16, 16]
    assert net.training_info.data == str(folder.resolve())
    assert net.training_info.test_accuracy >= 0.8
    code, out, err = run(capsys, "evaluate", model, "--json")  # finds the data by itself
    assert code == 0, err
    report = json.loads(out)
    assert report["n_samples"] == 18 and report["class_names"] == ["circle", "cross", "square"]
    assert report["accuracy"] == pytest.approx(net.training_info.test_accuracy)


def test_predict_prepares_pictures_as_training_did_and_answers_with_names(model, tmp_path, capsys):
    rng = np.random.default_rng(7)
    for shape in SHAPES:
        draw(shape, rng, size=120).resize((120, 120)).save(tmp_path / f"{shape}.png")
    code, out, _ = run(capsys, "predict", model, tmp_path, "--csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "path,class,name,probability"
    named = {line.split(",")[0].rsplit("/", 1)[1]: line.split(",")[2] for line in lines[1:]}
    assert sum(named[f"{shape}.png"] == shape for shape in SHAPES) >= 2


def test_train_on_an_npz_and_a_csv(tmp_path, capsys):
    rng = np.random.default_rng(0)
    y = np.repeat(["cat", "dog"], 40)
    X = (rng.random((80, 16)) * 100 + (y == "dog")[:, None] * 155).round().astype(np.uint8)
    np.savez(tmp_path / "pets.npz", X=X.reshape(80, 4, 4), y=y)
    model = tmp_path / "m.npz"
    code, out, err = run(capsys, "train", "--data", tmp_path / "pets.npz", "--hidden", 8,
                         "--epochs", 10, "--batch-size", 8, "-q", "-o", model)  # fmt: skip
    assert code == 0, err
    # 20% of 80 for the test, then 10% of the 64 left for validation; whole 0-255 numbers scaled.
    assert "data: pets, 58 training, 6 validation, 16 test samples" in out
    assert load_model(model).class_names == ["cat", "dog"]
    assert load_model(model).training_info.test_accuracy >= 0.9
    header = "label," + ",".join(f"p{i}" for i in range(16))
    rows = [f"{label}," + ",".join(map(str, row)) for label, row in zip([3, 10] * 40, X)]
    (tmp_path / "pets.csv").write_text("\n".join([header, *rows]) + "\n")
    code, out, err = run(capsys, "train", "--data", tmp_path / "pets.csv", "--hidden", 8,
                         "--epochs", 1, "-q", "-o", model, "--force")  # fmt: skip
    assert code == 0, err
    assert load_model(model).class_names == ["3", "10"]  # numbers sort as numbers
    # 16 columns are 16 features, not a 4x4 picture guessed from their number ...
    assert load_model(model).image_shape is None
    assert "pictures" not in out and "preprocessing: the 16 features standardised" in out
    # ... unless --image-size says that the rows are pictures.
    code, out, err = run(capsys, "train", "--data", tmp_path / "pets.csv", "--image-size", 4,
                         "--hidden", 8, "--epochs", 1, "-q", "-o", model, "--force")  # fmt: skip
    assert code == 0, err
    assert load_model(model).image_shape == [4, 4] and load_model(model).input_scaling is None


def test_bad_own_data_is_named(tmp_path, capsys):
    (tmp_path / "one" / "a").mkdir(parents=True)
    Image.new("L", (10, 10), 255).save(tmp_path / "one" / "a" / "blank.png")
    (tmp_path / "one" / "b").mkdir()
    code, _, err = run(capsys, "train", "--data", tmp_path / "one", "-o", tmp_path / "m.npz")
    assert code == 2 and "no pictures in b" in err
    draw("circle", np.random.default_rng(0)).save(tmp_path / "one" / "b" / "c.png")
    code, _, err = run(capsys, "train", "--data", tmp_path / "one", "-o", tmp_path / "m.npz")
    assert code == 2 and "1 picture(s) cannot be used" in err and "blank.png" in err
    (tmp_path / "t.csv").write_text("x,y\n1,2\n")
    code, _, err = run(capsys, "train", "--data", tmp_path / "t.csv", "-o", tmp_path / "m.npz")
    assert code == 2 and "no column 'label'" in err
    assert not (tmp_path / "m.npz").exists()


def test_unscaled_inputs_are_named_in_a_warning(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.random((60, 4, 4)) * 254.5  # pictures, not whole numbers: kept, and warned about
    np.savez(tmp_path / "raw.npz", X=X, y=np.repeat([0, 1], 30))
    code, _, err = run(capsys, "train", "--data", tmp_path / "raw.npz", "--hidden", 4,
                       "--epochs", 1, "-q", "-o", tmp_path / "m.npz")  # fmt: skip
    assert code == 0
    assert "barenet: warning: X_train ranges from " in err and "divide by 255" in err
    assert "Traceback" not in err and "warnings.warn" not in err
