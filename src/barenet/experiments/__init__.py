"""Studies of training: architectures, learning rates, training dynamics and robustness.

Each study trains networks through barenet's public API, one job per configuration and seed,
and returns plain data: a list of dicts, one per run or measurement, ready for a table or
``pandas.DataFrame(rows)``::

    from barenet.experiments import experiment_with_architectures, summarize_architectures
    rows = experiment_with_architectures([[64], [256]], epochs=3, seeds=2, workers=2)

The options all four studies share (epochs, seeds, data set, workers...) are the fields of
:class:`~barenet.experiments.options.StudyOptions`, given as keywords or as one object.
Jobs run here one after another (default), in local worker processes (``workers=2``), or on a
Dask cluster (``scheduler="tcp://host:8786"``); see :mod:`barenet.experiments.runner`.
Figures of the results are in :mod:`barenet.viz.figures`.
"""

from barenet.experiments.architectures import (
    DEFAULT_ARCHITECTURES,
    architecture_table,
    experiment_with_architectures,
    summarize_architectures,
)
from barenet.experiments.dynamics import (
    DynamicsRecorder,
    analyze_training_dynamics,
    diagnose_dynamics,
    dynamics_table,
)
from barenet.experiments.learning_rates import (
    DEFAULT_GRID,
    centred_average,
    experiment_with_learning_rates,
    learning_rate_range_test,
    learning_rate_table,
    rate_grid,
)
from barenet.experiments.options import StudyOptions
from barenet.experiments.perturbations import PERTURBATIONS, GaussianNoise, fgsm
from barenet.experiments.robustness import robustness_table, score_perturbations, test_robustness
from barenet.experiments.runner import Job, run_jobs
from barenet.experiments.summary import format_table, summarize

__all__ = [
    "DEFAULT_ARCHITECTURES",
    "DEFAULT_GRID",
    "PERTURBATIONS",
    "DynamicsRecorder",
    "StudyOptions",
    "GaussianNoise",
    "Job",
    "analyze_training_dynamics",
    "architecture_table",
    "diagnose_dynamics",
    "dynamics_table",
    "experiment_with_architectures",
    "centred_average",
    "experiment_with_learning_rates",
    "fgsm",
    "format_table",
    "learning_rate_range_test",
    "learning_rate_table",
    "rate_grid",
    "robustness_table",
    "run_jobs",
    "score_perturbations",
    "summarize",
    "summarize_architectures",
    "test_robustness",
]
