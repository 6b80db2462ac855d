"""``barenet report``: one self-contained HTML report of a saved model.

:func:`add_commands` registers it on the parser of :mod:`barenet.cli.main`. matplotlib is
imported only when the command runs.
"""

from barenet.cli.parsing import (
    add_command,
    check_output,
    data_dir_option,
    dataset_option,
    force_option,
    own_data_option,
    test_data_of,
)
from barenet.errors import BarenetError
from barenet.network import load_model


def add_commands(commands):
    """Add ``report`` to the subcommands of the ``barenet`` parser."""
    _add_report(commands)


def report_command(args):
    """Write one self-contained HTML report of a saved model, scored on the test images of
    the data set it was trained on (or --dataset): its key numbers (accuracy, loss,
    architecture, training), the per-class table, and figures embedded in the file: training
    history, confusion matrix, precision and recall per class, sample predictions, the most
    confident mistakes and the first layer's weights (for a convolutional network, its first
    filters and the feature maps of a test image), labelled with the model's class names.
    A classifier's: a regression model (--loss mse) is refused (barenet evaluate scores it)."""
    from barenet.viz.report import model_report

    check_output(args.output, "-o", "the report", args.force)
    net = load_model(args.model)
    if net.is_regression:  # its figures are a classifier's: confusion matrix, per-class scores
        raise BarenetError(
            f"{args.model} is a regression network (loss mse): the report's figures are a "
            f"classifier's (confusion matrix, classes); barenet evaluate {args.model} scores it"
        )
    data = test_data_of(net, args)
    title = f"barenet report: {args.model}"
    path = model_report(net, args.output, data.X_test, data.y_test, title=title)
    print(f"report saved to {path}")
    return 0


def _add_report(commands):
    sub = add_command(
        commands,
        report_command,
        "write an HTML report of a saved model",
        "barenet report barenet-model.npz -o report.html",
    )
    sub.add_argument("model", help="the model file")
    sub.add_argument(
        "--output",
        "-o",
        default="barenet-report.html",
        metavar="PATH",
        help="the HTML file to write (an existing file is left as it is unless --force)",
    )
    force_option(sub, "the report file")
    dataset_option(
        sub, None, "test images (default: those of the data set the model was trained on)"
    )
    data_dir_option(sub)
    own_data_option(sub)
