"""``barenet train``: train a network on a data set and save it to a model file.

:func:`add_commands` registers it on the parser of :mod:`barenet.cli.main`. Its defaults are
:data:`~barenet.cli.parsing.TRAIN_DEFAULTS`; :func:`build_network` and :func:`train_options`
turn its options into a :class:`~barenet.network.NeuralNetwork` and the keyword arguments of
its ``train``.
"""

import argparse
from pathlib import Path

from barenet.cli.parsing import (
    TRAIN_DEFAULTS,
    Given,
    add_command,
    data_dir_option,
    dataset_option,
    int_at_least,
)
from barenet.data import dataset_info, load_dataset
from barenet.errors import BarenetError
from barenet.experiments import trial
from barenet.nn.activations import ACTIVATIONS
from barenet.nn.init import INITIALIZERS
from barenet.optim.optimizers import OPTIMIZERS
from barenet.optim.schedules import SCHEDULES
from barenet.train.augment import AUGMENTATIONS

# The train options passed to NeuralNetwork by keyword, under the same names.
NETWORK_OPTIONS = "activation init optimizer dropout batch_norm l2 l1 dtype seed".split()
# The options that shape a --hidden network only; a --layers line says them in its own words.
HIDDEN_ONLY = {
    "activation": "write an activation after each layer, e.g. 'dense128 relu'",
    "init": "their dense layers start as Xavier's, their convolutions as He's",
    "dropout": "write a dropout layer, e.g. 'dropout0.2'",
    "batch_norm": "write 'batchnorm' where it belongs",
}

# `--model cnn`: the CNN recipe of benchmarks/accuracy_recipes.py, chosen on the validation
# split; it changes these defaults, and any of them given on the command line wins.
CNN_LAYERS = "conv32x3 relu pool2 conv64x3 relu pool2 flatten dense128 relu dropout0.3"
MODEL_PRESETS = {
    "mlp": {},
    "cnn": {
        "layers": CNN_LAYERS,
        "optimizer": "nesterov",
        "learning_rate": 0.05,
        "epochs": 6,
        "batch_size": 64,
    },
}


def add_commands(commands):
    """Add ``train`` to the subcommands of the ``barenet`` parser."""
    _add_train(commands)


def apply_preset(args):
    """Fill in the defaults of ``--model`` (in place) where the user gave no value."""
    given = getattr(args, "given", set())
    if args.model == "cnn" and "hidden" in given:
        raise BarenetError(
            "--hidden sizes a fully connected network: with --model cnn use --layers"
        )
    for key, value in MODEL_PRESETS[args.model].items():
        if key not in given:
            setattr(args, key, value)
    return args


def build_network(args):
    """The network that the ``train`` options describe, sized for the ``--dataset`` (784 inputs
    and 10 classes for MNIST), knowing its class names and image shape: built by the studies'
    own builder, :func:`barenet.experiments.trial.build_network`."""
    apply_preset(args)
    settings = {name: getattr(args, name) for name in NETWORK_OPTIONS}
    settings["learning_rate"] = args.learning_rate
    if args.momentum is not None:
        settings["optimizer"] = {"name": args.optimizer, "momentum": args.momentum}
    if args.layers:
        if "hidden" in getattr(args, "given", ()):
            raise BarenetError("give --hidden or --layers, not both")
        for name, hint in HIDDEN_ONLY.items():
            if settings.pop(name) != TRAIN_DEFAULTS[name]:
                option = "--" + name.replace("_", "-")
                raise BarenetError(f"{option} shapes --hidden networks only; with --layers, {hint}")
        settings["layers"] = args.layers
    else:
        settings["hidden_sizes"] = args.hidden
    return trial.build_network(settings, dataset=args.dataset)


def train_options(args):
    """The keyword arguments of :meth:`NeuralNetwork.train` that the ``train`` options describe."""
    schedule = args.schedule
    if args.warmup:
        schedule = {"name": "warmup", "warmup": args.warmup, "then": schedule}
    name = args.augment or (
        "affine" if min(dataset_info(args.dataset).image_shape) >= 28 else "none"
    )
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
    """Train a network on a data set's training images (MNIST unless --dataset says otherwise;
    downloaded if missing), print its accuracy on the test images and save it, with its
    history, to one file. The network is fully connected (--hidden) unless --model cnn or
    --layers says otherwise."""
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


def _preset_help():
    preset = MODEL_PRESETS["cnn"]
    return (
        f"'{preset['layers']}', {preset['optimizer']} lr {preset['learning_rate']}, "
        f"{preset['epochs']} epochs, batch {preset['batch_size']}"
    )


def _add_train(commands):
    sub = add_command(
        commands,
        train_command,
        "train a network on MNIST (or --dataset) and save it",
        "barenet train --hidden 256 128 --optimizer adam --lr 0.001 -o adam.npz",
    )
    add = sub.add_argument
    add(
        "--model",
        choices=sorted(MODEL_PRESETS),
        help=f"mlp: --hidden layers; cnn: the convolutional recipe ({_preset_help()})",
    )
    add(
        "--hidden",
        nargs="+",
        type=int_at_least(1),
        metavar="SIZE",
        action=Given,
        help="hidden layer widths",
    )
    add(
        "--layers",
        metavar="LINE",
        action=Given,
        help="the layers below the output, e.g. 'conv32x3 relu pool2 flatten dense128 relu' "
        "(dense<N>, conv<F>x<K>[s<S>][p<P>|same], pool<K>, avgpool<K>, gap, flatten, "
        "dropout<R>, batchnorm, activations); a dense layer of one unit per class is added",
    )
    add("--learning-rate", "--lr", type=float, metavar="LR", action=Given, help="step size")
    add(
        "--epochs",
        type=int_at_least(1),
        metavar="N",
        action=Given,
        help="passes over the training set",
    )
    add("--batch-size", type=int_at_least(1), metavar="N", action=Given, help="images per step")
    add("--seed", type=int_at_least(0), help="seed of initialisation, shuffling and dropout")
    add("--optimizer", choices=sorted(OPTIMIZERS), action=Given, help="update rule")
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
