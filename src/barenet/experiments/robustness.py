"""Robustness: how the accuracy of trained networks falls as their test images are damaged.

Each network is scored on the test images under every perturbation of
:data:`~barenet.experiments.perturbations.PERTURBATIONS` at growing strengths: Gaussian and
salt-and-pepper noise, occlusion, shifts, rotations, and the FGSM attack beside random noise of
the same size. The damaged images depend only on the perturbation and its strength, never on
the network, so all networks face the very same images. Networks trained with Gaussian noise
added to their training images can be compared with plainly trained ones.
"""

import numpy as np

from barenet import validation as check
from barenet.data.datasets import check_fits
from barenet.errors import BarenetError
from barenet.experiments.options import StudyOptions
from barenet.experiments.perturbations import (
    PERTURBATIONS,
    GaussianNoise,
    default_strengths,
    image_shape_of,
)
from barenet.experiments.summary import format_table, summarize
from barenet.experiments.trial import load_split, train_network
from barenet.network import NeuralNetwork, load_model

__all__ = [
    "GaussianNoise",
    "robustness_table",
    "score_perturbations",
    "test_robustness",
]

IMAGE_SEED = 1234  # seeds the random damage, the same for every network


def score_perturbations(net, X, y, perturbations=None, image_shape=None):
    """Accuracy of ``net`` on ``(X, y)`` under each perturbation and strength.

    ``perturbations`` maps names of :data:`PERTURBATIONS` to lists of strengths (None: every
    perturbation; a None list: its :func:`~barenet.experiments.perturbations.default_strengths`
    for the images' size). ``image_shape`` ``(height, width)`` of the images in the rows of
    ``X`` defaults to the network's ``image_shape``, else square. Returns rows
    ``{"perturbation", "strength", "accuracy"}``.
    """
    if image_shape is None:
        image_shape = getattr(net, "image_shape", None)
    rows = []
    for p, (name, strengths) in enumerate(_chosen(perturbations).items()):
        spec = PERTURBATIONS[name]
        if strengths is None:
            strengths = default_strengths(name, image_shape_of(X, image_shape))
        for s, strength in enumerate(strengths):
            if spec.needs_model:
                damaged = spec.fn(net, X, y, strength)
            else:
                damaged = spec.fn(X, strength, _image_rng(p, s), image_shape=image_shape)
            accuracy = float((net.predict(damaged) == y).mean())
            rows.append({"perturbation": name, "strength": strength, "accuracy": accuracy})
    return rows


def _image_rng(p, s):
    return np.random.default_rng([IMAGE_SEED, p, s])


def _chosen(perturbations):
    """``{name: strengths}`` with names checked against :data:`PERTURBATIONS`; strengths are
    lists, or None for the defaults (which depend on the size of the images)."""
    if perturbations is None:
        return dict.fromkeys(PERTURBATIONS)
    if isinstance(perturbations, (list, tuple)):
        perturbations = {name: None for name in perturbations}
    unknown = sorted(set(perturbations) - set(PERTURBATIONS))
    if unknown:
        raise BarenetError(f"unknown perturbations {unknown}; choose from {sorted(PERTURBATIONS)}")
    return {
        name: None if strengths is None else list(strengths)
        for name, strengths in perturbations.items()
    }


def robustness_job(network, training, data, seed, perturbations):
    """A job: train one network, then score it under every perturbation."""
    data = load_split(**data)
    net, _ = train_network(network, training, data, seed)
    curves = score_perturbations(
        net, data["X_test"], data["y_test"], perturbations, data["image_shape"]
    )
    return {"curves": curves}


def test_robustness(
    model=None,
    *,
    perturbations=None,
    noise_training=None,
    hidden_sizes=(128, 64),
    learning_rate=0.1,
    optimizer="sgd",
    options=None,
    **study,
):
    """Accuracy under damaged test images; one row per network, seed, perturbation, strength.

    The test images are those of ``dataset`` (one of :data:`barenet.DATASETS`). With ``model``
    (a :class:`~barenet.NeuralNetwork` or the path of a saved one, taking as many inputs as
    those images have pixels) that network is scored and nothing is trained. Otherwise a
    ``hidden_sizes`` network is trained once per seed, and, if ``noise_training`` is a noise
    level sigma, a second one per seed whose training images get Gaussian noise of that sigma.
    ``perturbations``: names, or a dict of name to strengths (default: all of
    :data:`PERTURBATIONS`, with strengths in pixels scaled to the images' size, see
    :func:`~barenet.experiments.perturbations.default_strengths`). The other arguments are
    those of :func:`~barenet.experiments.architectures.experiment_with_architectures`, with the
    options of :class:`~barenet.experiments.options.StudyOptions` as keywords.

    A row: ``training`` ("plain", "noise σ=0.3" or "given model"), ``seed``, ``perturbation``,
    ``strength``, ``accuracy``; a failed run gives one row with ``training``, ``seed``, ``error``.
    """
    chosen = _chosen(perturbations)
    study = StudyOptions.of(options, **study)
    if model is not None:
        net = model if isinstance(model, NeuralNetwork) else load_model(model)
        _check_model_fits(net, study.dataset)
        split = load_split(**study.data)
        X, y = split["X_test"], split["y_test"]
        rows = score_perturbations(net, X, y, chosen, split["image_shape"])
        return [{"training": "given model", "seed": None, **row} for row in rows]
    config = {
        "hidden_sizes": check.hidden_sizes(hidden_sizes),
        "learning_rate": learning_rate,
        "optimizer": optimizer,
    }
    jobs = []
    for name, augment in _training_variants(noise_training).items():
        training = study.training(augment=augment)
        configs = [({"training": name}, config)]
        jobs += study.jobs(robustness_job, configs, training, perturbations=chosen)
    return study.run(jobs, desc="robustness", expand=_flatten)


# pytest collects module-level functions named test_*; this one is a study, not a test.
test_robustness.__test__ = False


def _check_model_fits(net, dataset):
    """A BarenetError, before any data is loaded, if ``net`` was not made for ``dataset``."""
    check_fits(dataset, net.input_size, net.output_size, hint=": choose its data set")


def _training_variants(noise_training):
    variants = {"plain": None}
    if noise_training is not None:
        sigma = check.positive_float("noise_training", noise_training)
        variants[f"noise σ={sigma:g}"] = GaussianNoise(sigma)
    return variants


def _flatten(entry):
    """A job's entry as rows, one per measurement; a failed job's entry as it is."""
    if "error" in entry:
        return [entry]
    head = {"training": entry["training"], "seed": entry["seed"]}
    return [{**head, **row} for row in entry["curves"]]


def robustness_table(rows):
    """Accuracy per perturbation and strength (columns: one per kind of training), as text."""
    rows = [row for row in rows if "error" not in row]
    summary = summarize(rows, ["perturbation", "strength", "training"], ["accuracy"])
    trainings = list(dict.fromkeys(row["training"] for row in summary))
    table = {}
    for row in summary:
        key = (row["perturbation"], row["strength"])
        line = table.setdefault(key, {"perturbation": key[0], "strength": key[1]})
        line[f"{row['training']}_mean"] = row["accuracy_mean"]
        line[f"{row['training']}_std"] = row["accuracy_std"]
        line["runs"] = row["runs"]
    columns = [("perturbation", "perturbation", ""), ("strength", "strength", "g")]
    columns += [(f"accuracy ({name})", f"{name}_mean", ".2%") for name in trainings]
    return format_table(list(table.values()), columns)
