"""Architecture comparison: networks of several depths and widths trained alike on one data set.

Each run reports its parameter count, final and best validation accuracy, test accuracy,
training time and its full per-epoch history, so accuracy can be set against size and cost.
"""

from barenet import validation as check
from barenet.experiments.runner import run_jobs
from barenet.experiments.summary import format_table, summarize
from barenet.experiments.trial import (
    architecture_name,
    data_options,
    dataset_spec,
    seeded_jobs,
    training_job,
    training_options,
)

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
    epochs=10,
    seeds=1,
    learning_rate=0.1,
    optimizer="sgd",
    batch_size=64,
    network=None,
    train_size=None,
    val_size=None,
    test_size=None,
    data_dir=None,
    dataset="mnist",
    workers=1,
    scheduler=None,
    results_path=None,
    progress=True,
):
    """Train each architecture (a list of hidden-layer widths) once per seed; one row per run.

    Every network gets the same optimizer, rate, batch size and epochs; ``network`` adds other
    :class:`~barenet.NeuralNetwork` arguments (``{"activation": "tanh"}``). ``seeds``: a count
    or a list of seeds. ``dataset`` names the data set (one of :data:`barenet.DATASETS`): the
    networks get as many inputs as its images have pixels and one output per class.
    ``train_size``, ``val_size``, ``test_size`` take the first images of each part of its
    standard split (all when None). ``workers``, ``scheduler``,
    ``results_path``, ``progress``: how the runs are carried out, see
    :func:`~barenet.experiments.runner.run_jobs`.

    A row: ``architecture`` ("784-128-64-10" on MNIST, "64-128-64-10" on ``digits``),
    ``hidden_sizes``, ``seed``, ``n_parameters``,
    ``final_val_accuracy``, ``best_val_accuracy``, ``best_epoch``, ``test_accuracy``,
    ``test_loss``, ``train_time`` (seconds), ``epochs_run``, ``diverged`` and ``history`` (the
    dict of per-epoch lists from :meth:`~barenet.NeuralNetwork.train`); or, for a failed run,
    ``architecture``, ``hidden_sizes``, ``seed`` and ``error``.
    """
    data = data_options(train_size, val_size, test_size, data_dir, dataset)
    spec = dataset_spec(dataset)
    configs = []
    for hidden in map(check.hidden_sizes, architectures):
        tags = {"architecture": architecture_name(hidden, spec), "hidden_sizes": hidden}
        config = {
            **(network or {}),
            "hidden_sizes": hidden,
            "learning_rate": learning_rate,
            "optimizer": optimizer,
        }
        configs.append((tags, config))
    training = training_options(epochs, batch_size)
    jobs = seeded_jobs(training_job, configs, seeds, training=training, data=data)
    return run_jobs(
        jobs,
        workers=workers,
        scheduler=scheduler,
        results_path=results_path,
        progress=progress,
        desc="architectures",
    )


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
