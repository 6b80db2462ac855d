"""``barenet info MODEL``: what a saved model is and how it was trained, from its file alone.

:func:`add_commands` registers it on the parser of :mod:`barenet.cli.main`. No data is read:
the architecture, the parameter count, the training settings and the test accuracy are all in
the model file's header.
"""

import json

from barenet import progress
from barenet.cli.parsing import add_command, model_argument, preprocessing_lines
from barenet.network import load_model
from barenet.specs import describe_optimizer


def add_commands(commands):
    """Add ``info`` to the subcommands of the ``barenet`` parser."""
    sub = add_command(
        commands,
        info_command,
        "describe a saved model: layers, parameters, training, test accuracy",
        "barenet info barenet-model.npz",
    )
    model_argument(sub)
    sub.add_argument("--json", action="store_true", help="print one JSON object instead")


def info_command(args):
    """Describe a saved model without any data: its layers with their output shapes and
    parameter counts, its classes (the names of its outputs, for regression), its loss
    (cross-entropy for classification, mean squared error for regression), whether it takes
    pictures or features (a table's columns) and the standardisation it applies to them, how it
    was trained (optimizer, epochs, schedule, augmentation, data) and the test accuracy recorded
    when it was trained."""
    net = load_model(args.model)
    if args.json:
        record = net.training_info.to_dict()
        print(
            json.dumps(
                {
                    "model": str(args.model),
                    "layers": net.describe(),
                    "input_shape": list(net.input_shape),
                    "parameters": int(net.n_parameters),
                    "loss": net.loss,
                    "loss_description": progress.describe_loss(net),
                    "class_names": list(net.class_names),
                    "image_shape": list(net.image_shape) if net.image_shape else None,
                    "inputs": "pictures" if net.image_shape else "features",
                    "preprocessing": _preprocessing(net),
                    "optimizer": describe_optimizer(net.get_config()["optimizer"]),
                    "epochs_trained": len(net.history.get("train_loss", ())),
                    "training": record,
                    "test_accuracy": record.get("test_accuracy"),
                    "test_r2": record.get("test_r2"),
                }
            )
        )
        return 0
    print(f"{args.model}:")
    lines = [*progress.network_lines(net), *preprocessing_lines(net), *progress.record_lines(net)]
    print("\n".join(lines))
    return 0


def _preprocessing(net):
    """``{"inputs": {"mean", "scale"}, "outputs": {...}, "input_range": [low, high]}``, what
    the model does to its inputs and outputs (each part present only when it does it)."""
    parts = {"inputs": net.input_scaling, "outputs": net.output_scaling}
    found = {part: scaling.to_dict() for part, scaling in parts.items() if scaling is not None}
    if net.input_range is not None:
        found["input_range"] = list(net.input_range)
    return found
