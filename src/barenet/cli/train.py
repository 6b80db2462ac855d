"""``barenet train``: train a network on a data set and save it to a model file.

:func:`add_commands` registers it on the parser of :mod:`barenet.cli.main`. Its defaults are
:data:`~barenet.cli.parsing.TRAIN_DEFAULTS`; :func:`build_network` and :func:`train_options`
turn its options into a :class:`~barenet.network.NeuralNetwork` and the keyword arguments of
its ``train``.
"""

import argparse
import sys
from pathlib import Path

from barenet import progress
from barenet.cli.parsing import (
    EXIT_FAILURE,
    NON_NEGATIVE,
    POSITIVE,
    TRAIN_DEFAULTS,
    Given,
    add_command,
    check_data_options,
    check_model_suffix,
    check_output,
    data_dir_option,
    dataset_option,
    force_option,
    int_at_least,
    load_own,
    number_in,
    preprocessing_lines,
    regression,
)
from barenet.data import dataset_info, load_dataset
from barenet.errors import BarenetError, DivergenceError
from barenet.experiments import trial
from barenet.nn.activations import ACTIVATIONS
from barenet.nn.init import INITIALIZERS
from barenet.nn.losses import LOSSES
from barenet.optim.optimizers import OPTIMIZERS
from barenet.optim.schedules import SCHEDULES
from barenet.scaling import Standardization
from barenet.train.augment import AUGMENTATIONS, get_augmentation
from barenet.train.callbacks import HistoryFile
from barenet.train.trainer import TrainingInterrupted

# The train options passed to NeuralNetwork by keyword, under the same names.
NETWORK_OPTIONS = "activation init optimizer dropout batch_norm l2 l1 loss dtype seed".split()
# The options that shape a --hidden network only; a --layers line says them in its own words.
HIDDEN_ONLY = {
    "activation": "write an activation after each layer, e.g. 'dense128 relu'",
    "init": "their dense layers start as Xavier's, their convolutions as He's",
    "dropout": "write a dropout layer, e.g. 'dropout0.2'",
    "batch_norm": "write 'batchnorm' where it belongs",
}

# `--model cnn`: the CNN recipe of benchmarks/accuracy_recipes.py (its network chosen on the
# validation split; 8 epochs rather than 6 since the 6-epoch test mean, 99.38%, fell short of
# 99.4%); it changes these defaults, and any of them given on the command line wins.
CNN_LAYERS = "conv32x3 relu pool2 conv64x3 relu pool2 flatten dense128 relu dropout0.3"
MODEL_PRESETS = {
    "mlp": {},
    "cnn": {
        "layers": CNN_LAYERS,
        "optimizer": "nesterov",
        "learning_rate": 0.05,
        "epochs": 8,
        "batch_size": 64,
    },
}


# `--loss mse`: squared error's gradient grows with the errors (cross-entropy's is bounded), so
# MNIST's rate of 0.1 makes regression diverge; 0.01 trained the tables of the tests and
# scikit-learn's make_regression and diabetes (scaled) without diverging.
REGRESSION_LEARNING_RATE = 0.01


def add_commands(commands):
    """Add ``train`` to the subcommands of the ``barenet`` parser."""
    _add_train(commands)


def apply_preset(args):
    """Fill in the defaults of ``--model`` (in place) where the user gave no value, and the
    learning rate of regression (``--loss mse``) unless ``--lr`` gave one."""
    given = getattr(args, "given", set())
    if args.model == "cnn" and "hidden" in given:
        raise BarenetError(
            "--hidden sizes a fully connected network: with --model cnn use --layers"
        )
    for key, value in MODEL_PRESETS[args.model].items():
        if key not in given:
            setattr(args, key, value)
    if regression(args) and "learning_rate" not in given:
        args.learning_rate = REGRESSION_LEARNING_RATE
    return args


def build_network(args, data=None):
    """The network that the ``train`` options describe, sized for the ``--dataset`` (784 inputs
    and 10 classes for MNIST), or for ``data`` (your own, a :class:`~barenet.data.Dataset`),
    knowing its class names and image shape: built by the studies' own builder,
    :func:`barenet.experiments.trial.build_network`.

    Your own data that is a table (features, not pictures) makes a network that knows it: no
    image shape, whatever the number of its features, and (unless ``--no-standardize``) the
    standardisation of the training rows' features, and of their targets for ``--loss mse``
    (see :func:`standardize`)."""
    apply_preset(args)
    settings = {name: getattr(args, name) for name in NETWORK_OPTIONS}
    settings["learning_rate"] = args.learning_rate
    given = getattr(args, "given", ())
    recipe = MODEL_PRESETS[args.model].get("optimizer", TRAIN_DEFAULTS["optimizer"])
    if "learning_rate" not in given and args.optimizer != recipe:
        # The default --lr belongs to the recipe's optimizer (or the --model preset's); another
        # optimizer, named without --lr, runs at its own default rate (Adam 0.001, SGD 0.01).
        settings["learning_rate"] = None
    if args.momentum is not None:
        settings["optimizer"] = {"name": args.optimizer, "momentum": args.momentum}
    if args.layers is not None:
        if not args.layers.strip():
            raise BarenetError(
                "--layers is empty: give the layers below the output, e.g. --layers "
                "'dense128 relu' (or leave --layers out for the default network)"
            )
        if "hidden" in getattr(args, "given", ()):
            raise BarenetError("give --hidden or --layers, not both")
        for name, hint in HIDDEN_ONLY.items():
            if settings.pop(name) != TRAIN_DEFAULTS[name]:
                option = "--" + name.replace("_", "-")
                raise BarenetError(f"{option} shapes --hidden networks only; with --layers, {hint}")
        settings["layers"] = args.layers
    else:
        settings["hidden_sizes"] = args.hidden
    net = trial.build_network(settings, dataset=args.dataset if data is None else data.spec)
    if data is not None and data.image_shape is None:
        net.image_shape = None  # features: never a square picture guessed from their number
        if getattr(args, "standardize", True):
            standardize(net, data)
    return net


def standardize(net, data):
    """Give ``net`` the standardisation of ``data``'s training rows: each feature to mean 0 and
    standard deviation 1 (a constant one is only centred), and each target too for regression;
    ``predict``, ``evaluate``, ``serve`` and the ONNX export then take and return the user's
    units, and the model file keeps the statistics."""
    net.input_scaling = Standardization.fit(data.X_train)
    if net.is_regression:
        net.output_scaling = Standardization.fit(data.y_train)
    return net


def train_options(args, image_shape=None):
    """The keyword arguments of :meth:`NeuralNetwork.train` that the ``train`` options describe.

    ``image_shape``: that of your own data (None: the ``--dataset``'s); pictures smaller than
    28x28, data that is no picture, and numbers to predict (``--loss mse``: a distortion may
    change what they measure) are not augmented unless ``--augment`` says so."""
    schedule = args.schedule
    if args.warmup:
        schedule = {"name": "warmup", "warmup": args.warmup, "then": schedule}
    if getattr(args, "data", None) is None:
        image_shape = dataset_info(args.dataset).image_shape
    pictures = image_shape is not None and min(image_shape) >= 28 and not regression(args)
    name = args.augment or ("affine" if pictures else "none")
    augment = None if name == "none" else {"name": name}
    if name == "shift":
        augment["max_shift"] = args.max_shift
    return {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "verbose": False,  # the command shows progress itself: see train_command
        "schedule": schedule,
        "augment": augment,
        "early_stopping": args.early_stopping,
        "clip_norm": args.clip_norm,
        "checkpoint": args.checkpoint,
        "resume": args.resume,
    }


def train_command(args):
    """Train a network on a data set's training images (MNIST unless --dataset says otherwise;
    downloaded if missing), or on your own data (--data: a folder with a sub-folder of
    pictures per class, an .npz with X and y, or a CSV with a label column), print its accuracy
    on the test images and save it, with its history, to one file. A summary of the network,
    the data and the optimizer comes first; a bar counts the batches (-q hides it; the line of
    figures of each epoch stays). The network is fully connected (--hidden) unless --model cnn
    or --layers says otherwise.

    --loss mse trains a regression network on your own numbers to predict (--data: a CSV whose
    --label-column holds the target, or an .npz with float y, (n,) or (n, targets)): split at
    random, scored by R^2 and the loss on the test rows."""
    # Bad options and output paths fail here, before minutes of loading and training.
    check_outputs(args)
    check_data_options(args)
    data = None
    if args.data is not None:
        data = load_own(args, image_shape=args.image_size)  # too few rows to split fail here
    net = build_network(args, data)
    if data is None:
        data = load_dataset(
            args.dataset, args.data_dir, validation_size=args.validation_size, dtype=args.dtype
        )
    options = train_options(args, data.image_shape)
    X_val, y_val = (data.X_val, data.y_val) if len(data.y_val) else (None, None)
    note = ""
    if args.data is not None:
        split = "random" if net.is_regression else "stratified"
        note = f" ({split} split of your own data)"
    print("\n".join([
        *progress.network_lines(net),
        *preprocessing_lines(net),
        *(["  the epochs' losses are on that scale; the test scores in your units"]
          if net.output_scaling is not None else []),
        progress.data_line(data.name, len(data.y_train), len(data.y_val), len(data.y_test), note),
        *progress.training_lines(net, {**options, "n_train": len(data.y_train),
                                       "augment": _augment_config(options["augment"])}),
    ]), flush=True)  # fmt: skip
    callbacks = [progress.ProgressBar(args.epochs, bar=not args.quiet)]
    if args.history:
        callbacks.append(HistoryFile(args.history))
    try:
        net.train(data.X_train, data.y_train, X_val, y_val, callbacks=callbacks, **options)
    except TrainingInterrupted as exc:
        message = str(exc)
        if exc.checkpoint_epochs is None and args.history and net.history.get("epoch"):
            # its figures were saved, so not "nothing was saved"
            message = f"training interrupted after {exc.epochs_done} complete epoch(s)"
            if exc.checkpoint is not None:
                message += f"; {exc.checkpoint} was not written yet"
        raise TrainingInterrupted(f"{message}{_what_is_left(net, args)}") from None
    except DivergenceError as exc:
        # In words of the command line, and without the trainer's note on the weights in
        # memory, which the command line does not keep.
        message = (
            f"training diverged in epoch {exc.epoch}, batch {exc.batch}: the loss became "
            f"{exc.loss}; try a lower --lr (now {exc.learning_rate:g})"
        )
        raise DivergenceError(f"{message}{_what_is_left(net, args)}") from None
    net.training_info.dataset = data.name  # the model file says what it was trained on
    if args.data is not None:
        net.training_info.data = str(Path(args.data).resolve())
    tested = f"({len(data.y_test)} {data.name} test samples)"
    poor = None
    if net.is_regression:
        scores = net.evaluate(data.X_test, data.y_test)
        net.training_info.test_r2, net.training_info.test_loss = scores["r2"], scores["loss"]
        result = f"test R^2: {scores['r2']:.4f}  loss {scores['loss']:.4f} {tested}"
        poor = _poor_fit(net, data, scores)
    else:
        accuracy = net.calculate_accuracy(data.X_test, data.y_test)
        net.training_info.test_accuracy = accuracy  # and how good it is
        result = f"test accuracy: {accuracy:.2%} {tested}"
    net.save_model(args.output)
    print(result)
    print(f"model saved to {args.output}")
    if args.history:
        print(f"per-epoch figures saved to {args.history}")
    if poor and not args.allow_negative_r2:
        print(f"barenet: warning: {poor}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _what_is_left(net, args):
    """What an interrupted or diverged run leaves on disk, truthfully: the per-epoch figures of
    --history when an epoch ended, and never a model (the checkpoint, if any, is named by the
    trainer's own message)."""
    epochs = len(net.history.get("epoch", ()))
    left = ""
    if args.history and epochs:
        left = f"; the figures of {epochs} epoch(s) are in {args.history}"
    return f"{left}; no model saved to {args.output}"


def _poor_fit(net, data, test_scores):
    """A sentence when a regression network does worse than predicting the mean of the
    targets (an R^2 below 0) on the validation rows (the test rows, without validation rows),
    else None."""
    if len(data.y_val):
        r2, rows = net.evaluate(data.X_val, data.y_val)["r2"], "validation"
    else:
        r2, rows = test_scores["r2"], "test"
    if r2 >= 0:
        return None
    return (
        f"the {rows} R^2 is {r2:.4f}, below 0: the model predicts worse than the mean of the "
        "targets would, so it learned nothing useful (its file is saved, for a look); try more "
        "--epochs or another --lr, and check --label-column; --allow-negative-r2 accepts such a "
        "model with exit code 0"
    )


def _augment_config(spec):
    """The augmentation's full settings, for the summary: "affine (rotation ±10°, ...)"."""
    return None if spec is None else get_augmentation(spec).config()


def check_outputs(args):
    """Every file ``train`` will write, checked before any work: the model (-o), the
    checkpoint, the history; and --resume without --checkpoint. None replaces a file that
    exists, unless --force says so (or, for the checkpoint and the history of a run that
    --resume continues, unless they are that run's); a model is not named as another tool's
    format (model.onnx)."""
    if args.resume and args.checkpoint is None:
        raise BarenetError(
            "--resume continues from a checkpoint: give --checkpoint PATH, the file it was saved to"
        )
    force = getattr(args, "force", False)
    check_output(args.output, "-o", "the model", force)
    check_model_suffix(args.output, "-o")
    check_output(args.checkpoint, "--checkpoint", "the checkpoint", force or args.resume,
                 "--resume continues from it, --force starts over")  # fmt: skip
    if args.history is not None:
        if Path(args.history).suffix.lower() not in (".csv", ".json"):
            raise BarenetError(f"--history {args.history}: name a .csv or .json file")
        check_output(args.history, "--history", "the history", force or args.resume)
    named = [(o, p) for o, p in (("-o", args.output), ("--checkpoint", args.checkpoint),
                                 ("--history", args.history)) if p is not None]  # fmt: skip
    paths = [Path(p).absolute() for _, p in named]
    if len(set(paths)) < len(paths):
        raise BarenetError(f"{', '.join(o for o, _ in named)} must name different files")


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
        "dropout<R>, batchnorm, activations, res[...], layernorm, patch<P>x<D>, cls, pos, "
        "attention<H>, token<I>, tokenmean, rnn<N>, lstm<N>, gru<N>[seq]); a dense layer of one "
        "unit per class is added unless the line ends with one",
    )
    add(
        "--learning-rate",
        "--lr",
        type=POSITIVE,
        metavar="LR",
        action=Given,
        help=f"step size (default: %(default)s; {REGRESSION_LEARNING_RATE} with --loss mse)",
    )
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
    add("--l2", type=NON_NEGATIVE, help="L2 weight penalty")
    add("--l1", type=NON_NEGATIVE, help="L1 weight penalty")
    add("--dtype", choices=["float32", "float64"], help="float precision")
    add(
        "--loss",
        choices=sorted(LOSSES),
        help="cross_entropy: a classifier (softmax outputs); mse: regression, numbers to "
        "predict from your own --data (identity outputs, squared error)",
    )
    add(
        "--momentum",
        type=number_in(0, 1),
        help="momentum of sgd/momentum/nesterov (default: 0.9 for those)",
    )
    add("--schedule", choices=sorted(SCHEDULES), help="learning-rate schedule")
    add(
        "--warmup",
        type=NON_NEGATIVE,
        metavar="EPOCHS",
        help="linear warm-up before the schedule (fractions allowed: 0.5)",
    )
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
        help="stop when validation accuracy (the loss, for --loss mse) stalls this many epochs; "
        "keep the best weights",
    )
    add("--clip-norm", type=POSITIVE, metavar="NORM", help="clip the gradient's global norm")
    add("--checkpoint", metavar="PATH", help="save the whole training state here every epoch")
    add(
        "--resume",
        action="store_true",
        help="continue from --checkpoint if it exists (same settings; --epochs may grow)",
    )
    add(
        "--validation-size",
        type=int_at_least(0),
        metavar="N",
        help="training images held out (default: 10000; 300 for digits; 10%% of --data)",
    )
    add(
        "--output",
        "-o",
        metavar="PATH",
        help="where to save the model (its folder must exist; an existing file is left as it "
        "is unless --force)",
    )
    force_option(sub, "the model file (-o), and the --checkpoint and --history files")
    add(
        "--history",
        metavar="PATH",
        help="also write the per-epoch figures to this .csv or .json file (rewritten each epoch)",
    )
    add(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress bar (the summary and the line of each epoch stay)",
    )
    dataset_option(sub)
    data_dir_option(sub)
    own = sub.add_argument_group("your own data")
    own.add_argument(
        "--data",
        metavar="PATH",
        help="train on your own data instead of --dataset: a folder with one sub-folder of "
        "pictures per class (its name is the class name), an .npz with X and y, or a .csv with "
        "a label column; 20%% is held out for the test, 10%% for validation, per class",
    )
    own.add_argument(
        "--image-size",
        nargs="+",
        type=int_at_least(1),
        metavar="PX",
        help="size the pictures of a --data folder are prepared to: SIDE or HEIGHT WIDTH "
        "(default: 28); for a .csv or an .npz of rows, the pictures its rows are (without it, "
        "they are features, a table's columns)",
    )
    own.add_argument(
        "--label-column",
        metavar="NAME",
        help="the labels' column of a --data .csv file (with --loss mse: the target's)",
    )
    own.add_argument(
        "--standardize",
        action=argparse.BooleanOptionalAction,
        help="standardise the features of table data (each column to mean 0, standard "
        "deviation 1; the targets too with --loss mse), the statistics kept in the model file "
        "and applied by predict, evaluate, serve and export; pictures are never standardised",
    )
    own.add_argument(
        "--allow-negative-r2",
        action="store_true",
        help="with --loss mse, end with exit code 0 even when the validation R^2 is below 0 "
        "(by default such a run warns and exits with 1)",
    )
    sub.set_defaults(**TRAIN_DEFAULTS)
