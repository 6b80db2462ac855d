"""``barenet evaluate`` and ``barenet predict`` on a saved model and the real MNIST."""

import json
import re

import numpy as np
import pytest
from PIL import Image

from barenet import load_mnist
from tests.cli.helpers import assert_one_line_error, needs_mnist, run


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory):
    """The first ten MNIST test digits as PNG files, with their labels."""
    folder = tmp_path_factory.mktemp("digits")
    _, _, images, labels = load_mnist(download=False)
    paths = []
    for i in range(10):
        paths.append(folder / f"digit{i}.png")
        Image.fromarray(images[i]).save(paths[-1])
    return paths, labels[:10]


@needs_mnist
def test_evaluate_json_report(trained, capsys):
    code, out, err = run(capsys, "evaluate", trained[0], "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert 0 <= report["accuracy"] <= 1 and report["loss"] > 0
    assert report["n_samples"] == 10000
    confusion = np.array(report["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10000
    assert np.trace(confusion) / 10000 == pytest.approx(report["accuracy"])
    assert [row["class"] for row in report["per_class"]] == list(range(10))
    assert [row["support"] for row in report["per_class"]] == confusion.sum(axis=1).tolist()
    assert set(report["per_class"][0]) == {"class", "precision", "recall", "f1", "support"}


@needs_mnist
def test_evaluate_text_report_agrees_with_json(trained, capsys):
    report = json.loads(run(capsys, "evaluate", trained[0], "--json")[1])
    code, out, _ = run(capsys, "evaluate", trained[0])
    assert code == 0
    assert f"accuracy {report['accuracy']:.2%}" in out and f"loss {report['loss']:.4f}" in out
    lines = out.splitlines()
    # The last ten lines are the confusion matrix, each row led by its true class.
    matrix = [[int(v) for v in line.split()] for line in lines[-10:]]
    assert [row[1:] for row in matrix] == report["confusion_matrix"]
    assert [row[0] for row in matrix] == list(range(10))


@needs_mnist
def test_predict_reads_mnist_digits_from_png_files(trained, digit_files, capsys):
    paths, labels = digit_files
    code, out, _ = run(capsys, "predict", trained[0], *paths)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 10
    found = [re.fullmatch(r"(.+): (\d) \(probability ([\d.]+)\)", line) for line in lines]
    assert [m.group(1) for m in found] == [str(p) for p in paths]
    digits = np.array([int(m.group(2)) for m in found])
    assert np.count_nonzero(digits == labels) >= 8


@needs_mnist
def test_predict_json_with_top_classes(trained, digit_files, capsys):
    paths, _ = digit_files
    code, out, _ = run(capsys, "predict", trained[0], paths[0], paths[1], "--json", "--top", "3")
    assert code == 0
    predictions = json.loads(out)["predictions"]
    assert [p["path"] for p in predictions] == [str(paths[0]), str(paths[1])]
    for p in predictions:
        probabilities = [t["probability"] for t in p["top"]]
        assert len(p["top"]) == 3 and len({t["class"] for t in p["top"]}) == 3
        assert all(t["name"] == str(t["class"]) for t in p["top"])  # MNIST's class names
        assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1
        assert (p["class"], p["probability"]) == (p["top"][0]["class"], probabilities[0])


@needs_mnist
def test_predict_text_with_top_classes_lists_the_runners_up(trained, digit_files, capsys):
    code, out, _ = run(capsys, "predict", trained[0], digit_files[0][0], "--top", "2")
    assert code == 0
    assert re.fullmatch(r".+: \d \(probability [\d.]+\); next: \d \([\d.]+\)\n", out)


@needs_mnist
def test_predict_refuses_a_file_that_is_not_an_image(trained, tmp_path, capsys):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    assert_one_line_error(*run(capsys, "predict", trained[0], text), str(text), "not an image")
