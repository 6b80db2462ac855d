"""Architecture comparison: networks of several depths and widths, fully connected or
convolutional, trained alike on one data set.

Each run reports its parameter count, final and best validation accuracy, test accuracy,
training time and its full per-epoch history, so accuracy can be set against size and cost.
"""

from barenet import validation as check
from barenet.experiments.options import StudyOptions
from barenet.experiments.summary import format_table, summarize
from barenet.experiments.trial import architecture_name, training_job
from barenet.nn.stack import describe_layers, parse_layers

DEFAULT_ARCHITECTURES = ([256], [128, 64], [512, 256, 128, 64], [1024, 512])
METRICS = (
    "n_parameters",
    "final_val_accuracy",
    "best_val_accuracy",
    "test_accuracy",
    "train_time",
)


def experiment_with_architectures(
    architectures=DEFAULT_ARCHITECTURES,
    *,
    learning_rate=0.1,
    optimizer="sgd",
    network=None,
    options=None,
    **study,
):
    """Train each architecture once per seed; one row per run.

    An architecture is a list of hidden-layer widths (``[128, 64]``: a fully connected
    network) or a line of layers (``"conv8x3 relu pool2 flatten dense32 relu"``, see
    :func:`barenet.nn.parse_layers`), under which a Dense layer of one unit per class is added;
    a stack with convolutions or pooling reads the images as ``(height, width, 1)``. Both kinds
    mix in one study, so MLPs and CNNs compare side by side.

    Every network gets the same optimizer, rate, batch size and epochs; ``network`` adds other
    :class:`~barenet.NeuralNetwork` arguments (``{"activation": "tanh"}``; a line of layers
    takes only ``l2``, ``l1`` and ``dtype``, its activations being layers). The options every
    study shares come as keywords (``epochs=10``, ``seeds=1``, ``batch_size=64``,
    ``train_size``, ``val_size``, ``test_size``, ``data_dir``, ``dataset="mnist"``,
    ``workers=1``, ``scheduler``, ``results_path``, ``progress=True``) or as ``options``, a
    :class:`~barenet.experiments.options.StudyOptions` (which says what each one means); the
    keywords replace its fields.

    A row: ``architecture`` ("784-128-64-10" on MNIST, "64-128-64-10" on ``digits``; for a
    line of layers, the line in the words :meth:`~barenet.NeuralNetwork.describe` uses,
    "conv8x3 relu pool2 flatten dense32 relu"), ``hidden_sizes`` (None for a line of layers),
    ``layers`` (the line; only in the rows of a line of layers), ``seed``, ``n_parameters``,
    ``final_val_accuracy``, ``best_val_accuracy``, ``best_epoch``, ``test_accuracy``,
    ``test_loss``, ``train_time`` (seconds), ``epochs_run``, ``diverged`` and ``history`` (the
    dict of per-epoch lists from :meth:`~barenet.NeuralNetwork.train`); or, for a failed run,
    ``architecture``, ``hidden_sizes``, (``layers``), ``seed`` and ``error``.
    """
    study = StudyOptions.of(options, **study)
    spec = study.spec
    configs = []
    for architecture in architectures:
        if isinstance(architecture, str):
            line = describe_layers(parse_layers(architecture))
            tags = {"architecture": line, "hidden_sizes": None, "layers": line}
            shape = {"layers": line}
        else:
            hidden = check.hidden_sizes(architecture)
            tags = {"architecture": architecture_name(hidden, spec), "hidden_sizes": hidden}
            shape = {"hidden_sizes": hidden}
        config = {
            **(network or {}),
            **shape,
            "learning_rate": learning_rate,
            "optimizer": optimizer,
        }
        configs.append((tags, config))
    return study.run(study.jobs(training_job, configs), desc="architectures")


def summarize_architectures(rows):
    """Mean and spread over seeds of each architecture's figures (see :func:`summarize`)."""
    return summarize(rows, ["architecture", "hidden_sizes"], METRICS)


def architecture_table(rows):
    """The architecture comparison as text: one line per architecture, mean ± spread."""
    summary = summarize_architectures(rows)
    for row in summary:  # the same for every seed: no spread to show
        row["parameters"] = row["n_parameters_mean"]
    return format_table(
        summary,
        [
            ("architecture", "architecture", ""),
            ("parameters", "parameters", ",.0f"),
            ("final val acc", "final_val_accuracy_mean", ".2%"),
            ("best val acc", "best_val_accuracy_mean", ".2%"),
            ("test acc", "test_accuracy_mean", ".2%"),
            ("train time (s)", "train_time_mean", ".3g"),
            ("runs", "runs", "d"),
            ("failed", "failed", "d"),
        ],
    )
