"""The ``barenet`` command: train, evaluate and use MNIST networks from a terminal.

Results and per-epoch training logs go to stdout, progress bars to stderr. Bad input (a
:class:`BarenetError`, a missing or unreadable file, a bad option) ends with a one-line
``barenet: error: ...`` on stderr and exit code 2, never a traceback; Ctrl-C with exit code 130.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from barenet.cli.parsing import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Parser,
    add_command,
    data_dir_option,
    dataset_option,
    int_at_least,
)
from barenet.data import dataset_info, download_dataset, load_dataset, preprocess_image
from barenet.data.datasets import check_fits
from barenet.errors import BarenetError
from barenet.metrics import classification_report, format_classification_report
from barenet.network import NeuralNetwork, load_model
from barenet.nn.activations import ACTIVATIONS
from barenet.nn.init import INITIALIZERS
from barenet.optim.optimizers import OPTIMIZERS
from barenet.optim.schedules import SCHEDULES
from barenet.train.augment import AUGMENTATIONS
from barenet.version import __version__

# Every default of `barenet train`, in one place: the "default" recipe of
# benchmarks/accuracy_recipes.py, chosen on the validation split (99.0% test accuracy in ~20 s of
# training on a 240 GFLOP/s machine; see the README).
TRAIN_DEFAULTS = {
    "hidden": [512, 256],
    "optimizer": "nesterov",
    "learning_rate": 0.1,
    "epochs": 16,
    "batch_size": 128,
    "seed": 0,
    "activation": "relu",
    "init": "he",
    "dropout": 0.0,
    "batch_norm": False,
    "l2": 0.0,
    "l1": 0.0,
    "dtype": "float32",
    "momentum": None,
    "schedule": "cosine",
    "warmup": 0.0,
    "augment": None,  # affine for 28x28 images; none for the 8x8 digits, too small to distort
    "max_shift": 2,
    "early_stopping": None,
    "clip_norm": None,
    "checkpoint": None,
    "resume": False,
    "validation_size": None,
    "dataset": "mnist",
    "output": "barenet-model.npz",
}
# The train options passed to NeuralNetwork by keyword, under the same names.
NETWORK_OPTIONS = "activation init optimizer dropout batch_norm l2 l1 dtype seed".split()


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error, already printed by argparse
        return exc.code
    try:
        return args.run(args)
    except KeyboardInterrupt as exc:  # training says how far it got and where it saved
        print(f"barenet: {str(exc) or 'interrupted'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (BarenetError, OSError) as exc:
        print(f"barenet: error: {_describe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # an unexpected failure still gets a message, not a traceback
        print(f"barenet: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def _describe(exc):
    """The message of ``exc``; for a plain OSError, ``"<file>: <reason>"``."""
    if isinstance(exc, OSError) and not isinstance(exc, BarenetError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


# -- commands -----------------------------------------------------------------------------------


def build_network(args):
    """The network that the ``train`` options describe, sized for the ``--dataset`` (784 inputs
    and 10 classes for MNIST), knowing its class names and image shape."""
    options = {name: getattr(args, name) for name in NETWORK_OPTIONS}
    if args.momentum is not None:
        options["optimizer"] = {"name": args.optimizer, "momentum": args.momentum}
    class_names, (height, width) = dataset_info(args.dataset)
    return NeuralNetwork(
        height * width,
        args.hidden,
        len(class_names),
        args.learning_rate,
        class_names=class_names,
        image_shape=(height, width),
        **options,
    )


def train_options(args):
    """The keyword arguments of :meth:`NeuralNetwork.train` that the ``train`` options describe."""
    schedule = args.schedule
    if args.warmup:
        schedule = {"name": "warmup", "warmup": args.warmup, "then": schedule}
    name = args.augment or ("affine" if min(dataset_info(args.dataset)[1]) >= 28 else "none")
    augment = None if name == "none" else {"name": name}
    if name == "shift":
        augment["max_shift"] = args.max_shift
    return {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "verbose": not args.quiet,
        "schedule": schedule,
        "augment": augment,
        "early_stopping": args.early_stopping,
        "clip_norm": args.clip_norm,
        "checkpoint": args.checkpoint,
        "resume": args.resume,
    }


def train_command(args):
    """Train a fully connected network on a data set's training images (MNIST unless
    --dataset says otherwise; downloaded if missing), print its accuracy on the test images
    and save it, with its history, to one file."""
    # Bad options and output paths fail here, before minutes of loading and training.
    net = build_network(args)
    folder = Path(args.output).absolute().parent
    if not folder.is_dir():
        raise BarenetError(f"cannot save the model to {args.output}: no folder {folder}")
    data = load_dataset(
        args.dataset, args.data_dir, validation_size=args.validation_size, dtype=args.dtype
    )
    X_val, y_val = (data.X_val, data.y_val) if len(data.y_val) else (None, None)
    net.train(data.X_train, data.y_train, X_val, y_val, **train_options(args))
    accuracy = net.calculate_accuracy(data.X_test, data.y_test)
    net.training_info.dataset = data.name  # the model file says what it was trained on
    net.training_info.test_accuracy = accuracy  # and how good it is
    net.save_model(args.output)
    print(f"test accuracy: {accuracy:.2%} ({len(data.y_test)} {data.name} images)")
    print(f"model saved to {args.output}")
    return 0


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


def dataset_of(net, args):
    """The data set to test ``net`` on: ``--dataset``, else the one it was trained on (MNIST for
    models that do not say); checked to fit the network before minutes of loading."""
    name = args.dataset or (net.training_info.dataset or "mnist")
    check_fits(name, net.input_size, net.output_size, args.model, ": choose with --dataset")
    return name


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


def download_command(args):
    """Download the files of a data set (MNIST unless --dataset says otherwise) missing from
    the data folder, check their MD5 sums and print where they are."""
    folder = download_dataset(args.dataset, args.data_dir)
    print(f"{args.dataset} is in {folder}")
    return 0


def export_command(args):
    """Convert a saved model to ONNX, which onnxruntime and other inference engines run: input
    "input" (batch, features), as given to the model in Python; output "probabilities"."""
    from barenet.files.onnx import (
        export,  # the onnx package is optional: imported only when asked for
    )

    export(load_model(args.model), args.onnx)
    print(f"ONNX model saved to {args.onnx}")
    return 0


# -- the parser ---------------------------------------------------------------------------------


def build_parser():
    """The ``barenet`` argument parser with its subcommands."""
    parser = Parser(
        prog="barenet",
        description="Neural networks from scratch in NumPy: train, evaluate and use MNIST models.",
        epilog="run 'barenet COMMAND --help' for the options of a command",
    )
    parser.add_argument("--version", action="version", version=f"barenet {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in (_add_train, _add_evaluate, _add_predict, _add_download, _add_export):
        add(commands)
    from barenet.cli.experiments import add_commands  # experiment, report

    add_commands(commands)
    from barenet.cli.serve import add_serve_parser  # serve: imports FastAPI only when it runs

    add_serve_parser(commands)
    return parser


def _add_train(commands):
    sub = add_command(
        commands,
        train_command,
        "train a network on MNIST (or --dataset) and save it",
        "barenet train --hidden 256 128 --optimizer adam --lr 0.001 -o adam.npz",
    )
    add = sub.add_argument
    add("--hidden", nargs="+", type=int_at_least(1), metavar="SIZE", help="hidden layer widths")
    add("--learning-rate", "--lr", type=float, metavar="LR", help="step size")
    add("--epochs", type=int_at_least(1), metavar="N", help="passes over the training set")
    add("--batch-size", type=int_at_least(1), metavar="N", help="images per step")
    add("--seed", type=int_at_least(0), help="seed of initialisation, shuffling and dropout")
    add("--optimizer", choices=sorted(OPTIMIZERS), help="update rule")
    add("--activation", choices=sorted(ACTIVATIONS), help="activation of hidden layers")
    add("--init", choices=sorted(INITIALIZERS), help="weight initialisation")
    add("--dropout", type=float, help="drop rate after each hidden layer")
    add("--batch-norm", action=argparse.BooleanOptionalAction, help="batch normalisation")
    add("--l2", type=float, help="L2 weight penalty")
    add("--l1", type=float, help="L1 weight penalty")
    add("--dtype", choices=["float32", "float64"], help="float precision")
    add("--momentum", type=float, help="momentum of sgd/momentum/nesterov (default: 0.9 for those)")
    add("--schedule", choices=sorted(SCHEDULES), help="learning-rate schedule")
    add("--warmup", type=float, metavar="EPOCHS", help="linear warm-up before the schedule")
    add(
        "--augment",
        choices=["none", *sorted(AUGMENTATIONS)],
        help="random image distortions (default: affine; none for digits)",
    )
    add("--max-shift", type=int_at_least(1), metavar="PX", help="largest shift of --augment shift")
    add(
        "--early-stopping",
        type=int_at_least(1),
        metavar="PATIENCE",
        help="stop when validation accuracy stalls this many epochs; keep the best weights",
    )
    add("--clip-norm", type=float, metavar="NORM", help="clip the gradient's global norm")
    add("--checkpoint", metavar="PATH", help="save the whole training state here every epoch")
    add("--resume", action="store_true", help="continue from --checkpoint if it exists")
    add(
        "--validation-size",
        type=int_at_least(0),
        metavar="N",
        help="training images held out (default: 10000; 300 for digits)",
    )
    add("--output", "-o", metavar="PATH", help="where to save the model")
    add("--quiet", "-q", action="store_true", help="no progress bar")
    dataset_option(sub)
    data_dir_option(sub)
    sub.set_defaults(**TRAIN_DEFAULTS)


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


def _add_download(commands):
    sub = add_command(
        commands,
        download_command,
        "download MNIST (or --dataset) into the data folder",
        "barenet download --dataset fashion-mnist --data-dir ~/datasets",
    )
    dataset_option(sub)
    data_dir_option(sub)


def _add_export(commands):
    sub = add_command(
        commands,
        export_command,
        "convert a saved model to ONNX",
        "barenet export barenet-model.npz --onnx model.onnx",
    )
    sub.add_argument("model", help="the model file")
    sub.add_argument("--onnx", required=True, metavar="OUT", help="where to write the ONNX model")
