"""``barenet download`` and ``barenet export``: the commands that fetch and write files for use
elsewhere: a data set's files into the data folder, a saved model as ONNX.

:func:`add_commands` registers them on the parser of :mod:`barenet.cli.main`. The optional
``onnx`` package is imported only when ``export`` runs.
"""

from pathlib import Path

from barenet.cli.parsing import (
    add_command,
    check_output,
    data_dir_option,
    dataset_option,
    force_option,
)
from barenet.data import download_dataset
from barenet.errors import BarenetError
from barenet.network import load_model


def add_commands(commands):
    """Add ``download`` and ``export`` to the subcommands of the ``barenet`` parser."""
    _add_download(commands)
    _add_export(commands)


def download_command(args):
    """Download the files of a data set (MNIST unless --dataset says otherwise) missing from
    the data folder, check their MD5 sums and print where they are."""
    folder = download_dataset(args.dataset, args.data_dir)
    print(f"{args.dataset} is in {folder}")
    return 0


def export_command(args):
    """Convert a saved model to ONNX, which onnxruntime and other inference engines run: input
    "input" (batch, features), as given to the model in Python; output "probabilities" (batch,
    classes), or "predictions" (batch, outputs) for a regression model (--loss mse: no
    softmax). A model that standardises its inputs (and targets) does so in the graph too: the
    ONNX model takes and gives numbers in your units."""
    check_output(args.onnx, "--onnx", "the ONNX model", args.force)
    if Path(args.onnx).suffix.lower() != ".onnx":
        raise BarenetError(f"--onnx {args.onnx}: name the ONNX file with .onnx")
    net = load_model(args.model)
    try:
        from barenet.files.onnx import export  # onnx is optional: imported only when asked for
    except ImportError:
        raise BarenetError(
            "export needs the onnx package, which is not installed: pip install barenet[onnx]"
        ) from None
    export(net, args.onnx)
    output = "predictions" if net.is_regression else "probabilities"
    print(f'ONNX model saved to {args.onnx} (input "input", output "{output}")')
    return 0


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
    sub.add_argument(
        "--onnx",
        required=True,
        metavar="OUT",
        help="where to write the ONNX model, a .onnx file (an existing one is left as it is "
        "unless --force)",
    )
    force_option(sub, "the ONNX file")
