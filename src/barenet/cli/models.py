"""``barenet evaluate`` and ``barenet predict``: score a saved model on its test set, and name
what pictures show with it.

:func:`add_commands` registers them on the parser of :mod:`barenet.cli.main`. Results go to
stdout, as text or, with ``--json``, as one JSON object.
"""

import csv
import json
import sys
from pathlib import Path

import numpy as np

from barenet.cli.parsing import (
    EXIT_USAGE,
    add_command,
    data_dir_option,
    dataset_option,
    int_at_least,
    model_argument,
    own_data_option,
    test_data_of,
)
from barenet.data import preprocess_image
from barenet.data.own import PICTURE_SUFFIXES
from barenet.errors import BarenetError
from barenet.metrics import classification_report, format_classification_report
from barenet.network import load_model
from barenet.nn.losses import r2_score
from barenet.specs import describe_optimizer


def add_commands(commands):
    """Add ``evaluate`` and ``predict`` to the subcommands of the ``barenet`` parser."""
    _add_evaluate(commands)
    _add_predict(commands)


def evaluate_command(args):
    """Score a saved model on the test images of the data set it was trained on (or
    --dataset): accuracy, loss, precision, recall and F1 of each class, and the confusion
    matrix. A regression model (--loss mse) is scored on the test rows of its own data (or
    --data): the loss, R^2, and per output R^2, RMSE and MAE in the target's units."""
    net = load_model(args.model)
    data = test_data_of(net, args)
    if net.is_regression:
        return _evaluate_regression(net, data, args)
    name = data.name
    loss = net.evaluate(data.X_test, data.y_test)["loss"]
    report = classification_report(data.y_test, net.predict(data.X_test), net.output_size)
    optimizer = describe_optimizer(net.get_config()["optimizer"])  # what ran: Nesterov named
    if args.json:
        names = {"dataset": name, "class_names": net.class_names, "optimizer": optimizer}
        print(json.dumps({"accuracy": report["accuracy"], "loss": loss, **names, **report}))
    else:
        print(f"{args.model}: {net.describe()} ({net.n_parameters:,} parameters), {optimizer}")
        samples = f"{len(data.y_test)} {name} test {'images' if net.image_shape else 'rows'}"
        print(f"accuracy {report['accuracy']:.2%}  loss {loss:.4f}  ({samples})\n")
        table = format_classification_report(report, net.class_names).split("\n\n")[0]
        print("\n".join([table, "", *confusion_lines(report["confusion_matrix"], net.class_names)]))
    return 0


# Class names at most this long head the confusion matrix's columns; longer ones are numbered.
NAMED_COLUMNS = 8


def confusion_lines(confusion, class_names):
    """The confusion matrix as text, rows (true classes) and columns (predicted) labelled with
    the class names; when some name is too long for a column, the columns are numbered and a
    legend says which name each number stands for."""
    names = [str(name) for name in class_names]
    numbered = max(len(name) for name in names) > NAMED_COLUMNS
    heads = [str(k) for k in range(len(names))] if numbered else names
    width = max(5, *(len(h) + 1 for h in heads), *(len(str(n)) + 1 for row in confusion
                                                   for n in row))  # fmt: skip
    label = max(len("true"), *(len(name) for name in names))
    lines = [
        "confusion matrix (rows: true class, columns: predicted class)",
        f"{'true':<{label}}" + "".join(f"{h:>{width}}" for h in heads),
    ]
    for name, row in zip(names, confusion, strict=True):
        lines.append(f"{name:<{label}}" + "".join(f"{count:>{width}}" for count in row))
    if numbered:
        lines.append("columns: " + ", ".join(f"{k} {name}" for k, name in enumerate(names)))
    return lines


def _evaluate_regression(net, data, args):
    """The loss (``1/(2n) sum ||y_hat - y||^2``, as training reports it) and R^2 over the test
    rows, then R^2, RMSE and MAE of each output."""
    scores = net.evaluate(data.X_test, data.y_test)
    Y = data.y_test.reshape(len(data.y_test), -1).astype(np.float64)  # (n, outputs)
    P = net.predict(data.X_test).astype(np.float64)
    optimizer = describe_optimizer(net.get_config()["optimizer"])
    outputs = [
        {
            "name": name,
            "r2": r2_score(P[:, [j]], Y[:, [j]]),
            "rmse": float(np.sqrt(np.mean((P[:, j] - Y[:, j]) ** 2))),
            "mae": float(np.mean(np.abs(P[:, j] - Y[:, j]))),
        }
        for j, name in enumerate(net.class_names)
    ]
    if args.json:
        print(json.dumps({"loss": scores["loss"], "r2": scores["r2"], "dataset": data.name,
                          "n_samples": len(data.y_test), "output_names": net.class_names,
                          "optimizer": optimizer, "outputs": outputs}))  # fmt: skip
        return 0
    print(f"{args.model}: {net.describe()} ({net.n_parameters:,} parameters), {optimizer}")
    rows = f"{len(data.y_test)} {data.name} test rows"
    print(f"R^2 {scores['r2']:.4f}  loss {scores['loss']:.4f}  ({rows})\n")
    width = max(len("output"), *(len(o["name"]) for o in outputs))
    print(f"{'output':<{width}}  {'R^2':>8}  {'RMSE':>10}  {'MAE':>10}")
    for o in outputs:
        print(f"{o['name']:<{width}}  {o['r2']:>8.4f}  {o['rmse']:>10.4g}  {o['mae']:>10.4g}")
    return 0


def predict_command(args):
    """Name what each picture (PNG, JPEG...) shows, with a saved model; a folder stands for
    the pictures in it. Each picture is first made to look like the model's training images:
    light on dark, centred, 28x28 for MNIST (the preparation of `barenet train --data` folders
    too). Every good picture is answered; each bad one is named on stderr, and the exit code is
    then 2. A model trained on features (a table: a CSV or an .npz of rows), and a regression
    model (--loss mse), answer rows of features, not pictures: use them from Python,
    net.predict(X)."""
    net = load_model(args.model)
    if net.is_regression or net.image_shape is None:
        raise BarenetError(_no_pictures(net, args.model))
    paths, errors = _pictures(args.images)
    good, rows = [], []
    for path in paths:
        try:
            rows.append(preprocess_image(path, net.image_shape))
            good.append(path)
        except BarenetError as exc:  # named by its file, which some messages leave out
            message = str(exc)
            errors.append((path, message if str(path) in message else f"{path}: {message}"))
    results = []
    if rows:
        probabilities = net.predict_proba(np.stack(rows))
        results = [
            _best_classes(path, p, args.top, net.class_names)
            for path, p in zip(good, probabilities, strict=True)
        ]
    if args.json:
        failed = [{"path": str(path), "error": message} for path, message in errors]
        print(json.dumps({"predictions": results, "errors": failed}))
    elif args.csv:
        _write_csv(results, args.top)
    elif results:
        print("\n".join(_format_prediction(result) for result in results))
    for _, message in errors:
        print(f"barenet: error: {message}", file=sys.stderr)
    return EXIT_USAGE if errors else 0


def _no_pictures(net, model):
    """Why ``net`` does not answer pictures, and what does: rows of its features, in Python."""
    n = net.input_size
    if net.is_regression:
        what = f"is a regression network (loss mse): it predicts numbers from rows of {n} features"
    else:
        what = (
            f"is a classifier of features: its {n} inputs are not an image but a table's columns "
            "(features that are the pixels of pictures: train with --image-size HEIGHT WIDTH)"
        )
    python = f"barenet.load_model({str(model)!r}).predict(X), X of shape (n, {n})"
    return f"{model} {what}; it answers rows of features, not pictures: in Python, {python}"


def _pictures(items):
    """The picture files of ``items`` (a folder: its pictures, sorted), and ``(path, message)``
    for each item that is neither a file nor a folder holding pictures."""
    paths, errors = [], []
    for item in map(Path, items):
        if item.is_dir():
            found = sorted(
                p for p in item.iterdir() if p.is_file() and p.suffix.lower() in PICTURE_SUFFIXES
            )
            if not found:
                errors.append((item, f"{item}: a folder without pictures"))
            paths.extend(found)
        else:
            paths.append(item)  # a missing file is named by preprocess_image
    return paths, errors


def _write_csv(results, k):
    """``path,class,name,probability`` per picture, then ``name_2,probability_2``... for
    ``--top``."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    header = ["path", "class", "name", "probability"]
    for rank in range(2, k + 1):
        header += [f"name_{rank}", f"probability_{rank}"]
    writer.writerow(header)
    for result in results:
        row = [result["path"], result["class"], result["name"], f"{result['probability']:.6f}"]
        for other in result["top"][1:]:
            row += [other["name"], f"{other['probability']:.6f}"]
        writer.writerow(row)


def _best_classes(path, probabilities, k, class_names):
    """``{"path", "class", "name", "probability", "top": [{"class", "name", "probability"}]}``:
    the ``k`` most likely classes, most likely first."""
    order = np.argsort(probabilities)[::-1][:k]
    top = [
        {"class": int(c), "name": class_names[c], "probability": float(probabilities[c])}
        for c in order
    ]
    return {"path": str(path), **top[0], "top": top}


def _format_prediction(result):
    """``"path: 7 (probability 0.97)"``, then the runners-up when ``--top`` asked."""
    text = f"{result['path']}: {result['name']} (probability {result['probability']:.2f})"
    others = [f"{t['name']} ({t['probability']:.2f})" for t in result["top"][1:]]
    return text + (f"; next: {', '.join(others)}" if others else "")


def _add_evaluate(commands):
    sub = add_command(
        commands,
        evaluate_command,
        "score a saved model on its test set",
        "barenet evaluate barenet-model.npz --json",
    )
    model_argument(sub)
    sub.add_argument("--json", action="store_true", help="print one JSON object instead")
    dataset_option(sub, None, "data set to test on (default: the one the model was trained on)")
    data_dir_option(sub)
    own_data_option(sub)


def _add_predict(commands):
    sub = add_command(
        commands,
        predict_command,
        "name what pictures show (a digit for MNIST models)",
        "barenet predict barenet-model.npz seven.png three.jpg pictures/ --top 3",
    )
    sub.add_argument("model", help="the model file")
    sub.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="pictures of one thing each, or folders of such pictures",
    )
    sub.add_argument(
        "--top",
        type=int_at_least(1),
        default=1,
        metavar="K",
        help="show the K most likely classes",
    )
    output = sub.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object instead")
    output.add_argument(
        "--csv", action="store_true", help="print CSV instead: path,class,name,probability"
    )
