"""``barenet evaluate`` and ``barenet predict``: score a saved model on its test set, and name
what pictures show with it.

:func:`add_commands` registers them on the parser of :mod:`barenet.cli.main`. Results go to
stdout, as text or, with ``--json``, as one JSON object.
"""

import json

import numpy as np

from barenet.cli.parsing import (
    TRAIN_DEFAULTS,
    add_command,
    data_dir_option,
    dataset_of,
    dataset_option,
    int_at_least,
)
from barenet.data import load_dataset, preprocess_image
from barenet.errors import BarenetError
from barenet.metrics import classification_report, format_classification_report
from barenet.network import load_model


def add_commands(commands):
    """Add ``evaluate`` and ``predict`` to the subcommands of the ``barenet`` parser."""
    _add_evaluate(commands)
    _add_predict(commands)


def evaluate_command(args):
    """Score a saved model on the test images of the data set it was trained on (or
    --dataset): accuracy, loss, precision, recall and F1 of each class, and the confusion
    matrix."""
    net = load_model(args.model)
    name = dataset_of(net, args)
    data = load_dataset(name, args.data_dir, validation_size=0, dtype=net.dtype)
    loss = net.evaluate(data.X_test, data.y_test)["loss"]
    report = classification_report(data.y_test, net.predict(data.X_test), net.output_size)
    if args.json:
        names = {"dataset": name, "class_names": net.class_names}
        print(json.dumps({"accuracy": report["accuracy"], "loss": loss, **names, **report}))
    else:
        print(f"{args.model}: {net!r}")
        images = f"{len(data.y_test)} {name} test images"
        print(f"accuracy {report['accuracy']:.2%}  loss {loss:.4f}  ({images})\n")
        print(format_classification_report(report, net.class_names))
    return 0


def predict_command(args):
    """Name what each picture (PNG, JPEG...) shows, with a saved model. Each picture is first
    made to look like the model's training images: light on dark, centred, 28x28 for MNIST."""
    net = load_model(args.model)
    if net.image_shape is None:  # only square images are guessed; others must be given
        raise BarenetError(f"{args.model}: its {net.input_size} inputs are not an image")
    X = np.stack([preprocess_image(path, net.image_shape) for path in args.images])
    probabilities = net.predict_proba(X)
    results = [
        _best_classes(path, p, args.top, net.class_names)
        for path, p in zip(args.images, probabilities, strict=True)
    ]
    if args.json:
        print(json.dumps({"predictions": results}))
    else:
        print("\n".join(_format_prediction(result) for result in results))
    return 0


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
    sub.add_argument(
        "model",
        nargs="?",
        default=TRAIN_DEFAULTS["output"],
        help="the model file (default: %(default)s)",
    )
    sub.add_argument("--json", action="store_true", help="print one JSON object instead")
    dataset_option(sub, None, "data set to test on (default: the one the model was trained on)")
    data_dir_option(sub)


def _add_predict(commands):
    sub = add_command(
        commands,
        predict_command,
        "name what pictures show (a digit for MNIST models)",
        "barenet predict barenet-model.npz seven.png three.jpg --top 3",
    )
    sub.add_argument("model", help="the model file")
    sub.add_argument("images", nargs="+", metavar="IMAGE", help="pictures of one thing each")
    sub.add_argument(
        "--top",
        type=int_at_least(1),
        default=1,
        metavar="K",
        help="show the K most likely classes",
    )
    sub.add_argument("--json", action="store_true", help="print one JSON object instead")
