"""Training dynamics: what happens inside each layer, epoch by epoch, and what it means.

A :class:`DynamicsRecorder` callback measures, before training and after every epoch, on a
fixed probe batch of training images, for each dense layer ``l``:

- ``grad_norm``: ``||dL/dW_l||``, read from :meth:`~barenet.NeuralNetwork.loss_and_gradient`
  by slicing the flat gradient where ``W_l`` sits in the parameter buffer;
- ``weight_norm``: ``||W_l||``, and ``update_ratio``: ``||W_l - W_l(previous epoch)|| / ||W_l||``,
  how much the epoch changed the weights;
- for the activation after a hidden layer: ``dead_fraction`` (units that output 0 for every
  probe image: a dead ReLU never learns again), ``activation_mean`` and ``activation_std``.

:func:`diagnose_dynamics` turns the numbers into words: vanishing or exploding gradients, dead
units. The probe's gradient is computed in training mode, so with dropout it draws from the
network's generator (the run then differs from one without the recorder) and with batch
normalisation it nudges the running statistics like one more batch.
"""

import math

import numpy as np

from barenet import validation as check
from barenet.callback import Callback
from barenet.experiments.options import StudyOptions
from barenet.experiments.summary import format_table, summarize
from barenet.experiments.trial import dataset_spec, load_split, train_network
from barenet.nn.activations import Activation
from barenet.nn.layers import Dense

VANISHING_RATIO = 0.01  # first layer's gradient norm below 1% of the last layer's
EXPLODING_RATIO = 100.0  # ... or above 100 times it
EXPLODING_NORM = 1e3
DEAD_FRACTION = 0.5


def default_networks(dataset="mnist"):
    """A ReLU network beside a deep sigmoid one (whose gradients vanish), named by their layer
    widths for ``dataset`` (a name or a :func:`~barenet.experiments.trial.dataset_spec` dict;
    default MNIST): ``"ReLU 784-128-64-10"`` and ``"sigmoid 784-5x128-10"``."""
    spec = dataset_spec(dataset)
    inputs, classes = spec["n_features"], spec["n_classes"]
    return {
        f"ReLU {inputs}-128-64-{classes}": {"hidden_sizes": [128, 64], "activation": "relu"},
        f"sigmoid {inputs}-5x128-{classes}": {"hidden_sizes": [128] * 5, "activation": "sigmoid"},
    }


def activation_statistics(net, X):
    """For each activation layer in order: ``dead_fraction``, ``activation_mean``, ``_std``.

    ``dead_fraction`` is None for activations whose units cannot die (sigmoid, tanh, GELU...:
    only the ReLU's zero for every input is a unit that never learns again)."""
    stats = []
    for layer, A in zip(net.layers, net.activations(X).values()):
        if isinstance(layer, Activation):
            dead = float(np.mean(np.all(A == 0, axis=0))) if layer.kind == "relu" else None
            stats.append(
                {
                    "dead_fraction": dead,
                    "activation_mean": float(A.mean()),
                    "activation_std": float(A.std()),
                }
            )
    return stats


class DynamicsRecorder(Callback):
    """Callback: per-layer figures on ``(X_probe, y_probe)`` at each epoch end, in ``rows``.

    Epoch 0 is the untrained network. Each row: ``epoch``, ``layer`` (1 = first dense layer),
    ``grad_norm``, ``weight_norm``, ``update_ratio`` (None at epoch 0), ``dead_fraction``,
    ``activation_mean``, ``activation_std`` (None for the output layer), ``train_loss`` and
    ``val_accuracy`` of the epoch (None at epoch 0).
    """

    def __init__(self, X_probe, y_probe):
        self.X, self.y = X_probe, y_probe
        self.rows, self.previous = [], {}

    def on_train_begin(self, trainer):
        self._record(trainer.network, 0, {})

    def on_epoch_end(self, trainer, epoch, logs):
        self._record(trainer.network, epoch + 1, logs)

    def _record(self, net, epoch, logs):
        _, gradient = net.loss_and_gradient(self.X, self.y)
        slices, arrays = net.parameter_slices(), net.named_arrays()
        activations = activation_statistics(net, self.X)
        dense = [i for i, layer in enumerate(net.layers) if isinstance(layer, Dense)]
        for number, i in enumerate(dense, start=1):
            name = f"layers.{i}.W"
            W, before = arrays[name], self.previous.get(name)
            weight_norm = float(np.linalg.norm(W))
            update = None if before is None else float(np.linalg.norm(W - before)) / weight_norm
            row = {
                "epoch": epoch,
                "layer": number,
                "grad_norm": float(np.linalg.norm(gradient[slices[name]])),
                "weight_norm": weight_norm,
                "update_ratio": update,
                "dead_fraction": None,
                "activation_mean": None,
                "activation_std": None,
                "train_loss": logs.get("train_loss"),
                "val_accuracy": logs.get("val_accuracy"),
            }
            if number <= len(activations):
                row.update(activations[number - 1])
            self.rows.append(row)
            self.previous[name] = W.copy()


def dynamics_job(network, training, data, seed, probe_size):
    """A job: train with a :class:`DynamicsRecorder`; returns its rows and the test accuracy."""
    data = load_split(**data)
    recorder = DynamicsRecorder(data["X_train"][:probe_size], data["y_train"][:probe_size])
    _, scores = train_network(network, training, data, seed, callbacks=[recorder])
    return {"layers": recorder.rows, "test_accuracy": scores["test_accuracy"]}


def analyze_training_dynamics(
    networks=None,
    *,
    learning_rate=0.1,
    optimizer="sgd",
    probe_size=1000,
    options=None,
    **study,
):
    """Record the per-layer dynamics of each network; one row per network, seed, epoch, layer.

    ``networks`` maps a name to :class:`~barenet.NeuralNetwork` arguments (default
    :func:`default_networks` of ``dataset``: a ReLU network beside a deep sigmoid one, whose
    gradients vanish).
    Each row: ``network``, ``seed``, ``test_accuracy`` of the run, and the figures of
    :class:`DynamicsRecorder`; a failed run gives one row with ``network``, ``seed`` and
    ``error``. The other arguments are those of
    :func:`~barenet.experiments.architectures.experiment_with_architectures`, with the options
    of :class:`~barenet.experiments.options.StudyOptions` as keywords.
    """
    study = StudyOptions.of(options, **study)
    networks = default_networks(study.spec) if networks is None else networks
    configs = [
        ({"network": name}, {"learning_rate": learning_rate, "optimizer": optimizer, **config})
        for name, config in networks.items()
    ]
    probe_size = check.positive_int("probe_size", probe_size)
    jobs = study.jobs(dynamics_job, configs, probe_size=probe_size)
    return study.run(jobs, desc="dynamics", expand=_flatten)


def _flatten(entry):
    """A job's entry as rows, one per measurement; a failed job's entry as it is."""
    if "error" in entry:
        return [entry]
    head = {"network": entry["network"], "seed": entry["seed"]}
    head["test_accuracy"] = entry["test_accuracy"]
    return [{**head, **row} for row in entry["layers"]]


def diagnose_dynamics(rows):
    """Plain-language findings about each network's dynamics: a list of sentences.

    Vanishing gradients: the first layer's gradient norm below ``VANISHING_RATIO`` times the
    last layer's (averaged over seeds); exploding: above ``EXPLODING_RATIO`` times it, above
    ``EXPLODING_NORM``, or not finite; dead units: over ``DEAD_FRACTION`` of a hidden layer.
    """
    findings = []
    for name in dict.fromkeys(row["network"] for row in rows):
        runs = [row for row in rows if row["network"] == name and "error" not in row]
        if runs:
            findings.append(_diagnose(name, runs))
    return findings


def _mean_by(rows, key, value):
    """``{row[key]: mean of row[value]}`` over ``rows``, skipping None."""
    groups = {}
    for row in rows:
        if row[value] is not None:
            groups.setdefault(row[key], []).append(row[value])
    return {k: float(np.mean(v)) for k, v in groups.items()}


def _diagnose(name, runs):
    last_epoch = max(row["epoch"] for row in runs)
    n_layers = max(row["layer"] for row in runs)
    states = {}  # when: (first layer's gradient norm / last layer's, largest norm)
    for epoch in dict.fromkeys((0, last_epoch)):
        norms = _mean_by([r for r in runs if r["epoch"] == epoch], "layer", "grad_norm")
        first, last = norms[1], norms[n_layers]
        when = "before training" if epoch == 0 else f"after epoch {epoch}"
        states[when] = (first / last if last > 0 else math.inf, max(norms.values()))
    vanishing = [
        f"{ratio:.1e} times the last layer's {when}"
        for when, (ratio, _) in states.items()
        if ratio < VANISHING_RATIO
    ]
    exploding = [
        f"{when} (largest norm {top:.3g}, first layer's {ratio:.3g}x the last's)"
        for when, (ratio, top) in states.items()
        if not math.isfinite(top) or top > EXPLODING_NORM or ratio > EXPLODING_RATIO
    ]
    problems = []
    if vanishing:
        problems.append(
            "vanishing gradients: the first layer's gradient norm is "
            + " and ".join(vanishing)
            + ", so the first layers barely learn"
        )
    if exploding:
        problems.append("exploding gradients " + " and ".join(exploding))
    dead = _mean_by([r for r in runs if r["epoch"] == last_epoch], "layer", "dead_fraction")
    problems += [
        f"{fraction:.0%} of the units of hidden layer {layer} are dead"
        for layer, fraction in dead.items()
        if fraction > DEAD_FRACTION
    ]
    if problems:
        return f"{name}: " + "; ".join(problems) + "."
    ratio, _ = states[list(states)[-1]]
    units = f", and no hidden layer has over {DEAD_FRACTION:.0%} dead units" if dead else ""
    return (
        f"{name}: healthy: after epoch {last_epoch} the first layer's gradient norm is "
        f"{ratio:.2g} times the last layer's{units}."
    )


def dynamics_table(rows):
    """Each network's layers after its last epoch, mean ± spread over seeds, as text."""
    rows = [row for row in rows if "error" not in row]
    last = max((row["epoch"] for row in rows), default=0)
    metrics = ("grad_norm", "weight_norm", "update_ratio", "dead_fraction", "activation_mean")
    summary = summarize([r for r in rows if r["epoch"] == last], ["network", "layer"], metrics)
    return format_table(
        summary,
        [
            ("network", "network", ""),
            ("layer", "layer", "d"),
            (f"grad norm (epoch {last})", "grad_norm_mean", ".3g"),
            ("weight norm", "weight_norm_mean", ".3g"),
            ("update/weight", "update_ratio_mean", ".3g"),
            ("dead units", "dead_fraction_mean", ".0%"),
            ("mean activation", "activation_mean_mean", ".3g"),
        ],
    )
