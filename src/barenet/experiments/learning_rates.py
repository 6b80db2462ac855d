"""Learning rates: a grid of rates per optimizer, and the learning-rate range test.

The grid trains one network per (optimizer, rate, seed) and keeps each full history. The range
test (Smith 2017, "Cyclical learning rates for training neural networks") takes one short run
whose rate grows exponentially from batch to batch and records the loss at each rate: the loss
falls while the rate is useful and shoots up once it is too large. A good rate sits somewhat
below the rate of the lowest loss; we suggest a tenth of it, a common rule of thumb.
"""

import math

import numpy as np

from barenet import validation as check
from barenet.experiments.options import StudyOptions
from barenet.experiments.summary import format_table, summarize
from barenet.experiments.trial import build_network, data_options, load_split, training_job
from barenet.train.trainer import Trainer

DEFAULT_GRID = {"sgd": (0.01, 0.03, 0.1, 0.3, 1.0), "adam": (0.0003, 0.001, 0.003, 0.01)}
METRICS = ("final_val_accuracy", "best_val_accuracy", "test_accuracy", "train_time", "diverged")


def experiment_with_learning_rates(
    grid=DEFAULT_GRID,
    *,
    hidden_sizes=(128, 64),
    network=None,
    options=None,
    **study,
):
    """Train one network per optimizer, learning rate and seed; one row per run.

    ``grid`` maps an optimizer name (or a name such as ``"momentum"``) to its learning rates.
    The other arguments are those of
    :func:`~barenet.experiments.architectures.experiment_with_architectures`, with the options
    of :class:`~barenet.experiments.options.StudyOptions` as keywords. A row holds
    ``optimizer``, ``learning_rate``, ``seed`` and the figures of a run (accuracies, time,
    ``diverged``, ``history``); a rate so large that the loss diverged is not an error: the row
    says ``"diverged": True`` and holds the scores of the last finite weights.
    """
    study = StudyOptions.of(options, **study)
    hidden = check.hidden_sizes(hidden_sizes)
    configs = [
        (
            {"optimizer": optimizer, "learning_rate": float(rate)},
            {
                **(network or {}),
                "hidden_sizes": hidden,
                "optimizer": optimizer,
                "learning_rate": rate,
            },
        )
        for optimizer, rates in grid.items()
        for rate in rates
    ]
    return study.run(study.jobs(training_job, configs), desc="learning rates")


def learning_rate_table(rows):
    """The grid as text: one line per optimizer and rate, mean ± spread over seeds."""
    return format_table(
        summarize(rows, ["optimizer", "learning_rate"], METRICS),
        [
            ("optimizer", "optimizer", ""),
            ("learning rate", "learning_rate", "g"),
            ("final val acc", "final_val_accuracy_mean", ".2%"),
            ("best val acc", "best_val_accuracy_mean", ".2%"),
            ("test acc", "test_accuracy_mean", ".2%"),
            ("diverged", "diverged_mean", ".0%"),
            ("runs", "runs", "d"),
        ],
    )


def learning_rate_range_test(
    *,
    optimizer="sgd",
    hidden_sizes=(128, 64),
    network=None,
    min_lr=1e-5,
    max_lr=10.0,
    steps=300,
    batch_size=64,
    seed=0,
    smoothing=0.98,
    stop_factor=4.0,
    train_size=None,
    data_dir=None,
    dataset="mnist",
):
    """One run whose rate grows from ``min_lr`` to ``max_lr`` over ``steps`` batches.

    The loop takes the trainer's own step, :meth:`~barenet.train.trainer.Trainer.train_batch`,
    one batch at a time, with the rate set before each step (``train`` records the loss per
    epoch only, and this needs it per batch). While running, the loss is smoothed by an
    exponential moving average (weight ``smoothing``, bias-corrected), and the run stops once
    that exceeds ``stop_factor`` times its lowest value. The lowest loss is then found on a
    centred moving average (:func:`centred_average`), which does not lag as the exponential one
    does (about 50 batches at 0.98, half a decade of rates). The batches are drawn from the
    first ``train_size`` training images of ``dataset`` (all when None).

    Returns ``{"optimizer", "hidden_sizes", "learning_rates", "losses", "smoothed_losses"`` (lists,
    one value per step taken), ``"min_loss_learning_rate"`` (rate of the lowest centred average),
    ``"suggested_learning_rate"`` (a tenth of it) ``}``.
    """
    min_lr = check.positive_float("min_lr", min_lr)
    max_lr = check.number("max_lr", max_lr, low=min_lr, low_inclusive=False)
    steps = check.positive_int("steps", steps, minimum=2)
    config = {**(network or {}), "hidden_sizes": check.hidden_sizes(hidden_sizes)}
    settings = {**config, "optimizer": optimizer, "learning_rate": min_lr}
    net = build_network(settings, seed, dataset)  # fails before loading the data
    data = load_split(**data_options(train_size, 1, 1, data_dir, dataset))
    rates = min_lr * (max_lr / min_lr) ** (np.arange(steps) / (steps - 1))
    batches = _batches(len(data["y_train"]), batch_size, steps, np.random.default_rng(seed))
    X = data["X_train"].astype(net.dtype, copy=False)  # train_batch takes checked batches
    trainer, losses, smoothed = Trainer(net, batch_size=batch_size), [], []
    with np.errstate(over="ignore", invalid="ignore"):  # the end of the test is divergence
        for rate, idx in zip(rates, batches):
            net.optimizer.learning_rate = float(rate)
            loss, _ = trainer.train_batch(X[idx], data["y_train"][idx])
            losses.append(loss)
            smoothed.append(_average(smoothed, loss, smoothing, len(losses)))
            if not math.isfinite(smoothed[-1]) or smoothed[-1] > stop_factor * min(smoothed):
                break
    best = int(np.nanargmin(centred_average(losses)))
    return {
        "optimizer": optimizer,
        "hidden_sizes": config["hidden_sizes"],
        "learning_rates": rates[: len(losses)].tolist(),
        "losses": losses,
        "smoothed_losses": smoothed,
        "min_loss_learning_rate": float(rates[best]),
        "suggested_learning_rate": float(rates[best] / 10),
    }


def _batches(n, batch_size, steps, rng):
    """``steps`` index arrays of ``batch_size`` (at most ``n``), reshuffling after each pass."""
    batch_size = min(batch_size, n)
    per_pass = n // batch_size
    out = []
    while len(out) < steps:
        order = rng.permutation(n)
        out += [order[i * batch_size : (i + 1) * batch_size] for i in range(per_pass)]
    return out[:steps]


RANGE_WINDOW = 15  # batches in the centred moving average of the range test


def centred_average(values, window=RANGE_WINDOW):
    """The mean of each value's neighbours, ``window // 2`` on either side (fewer at the ends):
    a smoothing without lag, unlike an exponential average, which trails the raw values by about
    ``1 / (1 - smoothing)`` steps (50 at 0.98: half a decade of a 300-step range test)."""
    values = np.asarray(values, dtype=float)
    half = max(int(window) // 2, 0)
    finite = np.isfinite(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(finite, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(finite)])
    index = np.arange(len(values))
    low, high = np.maximum(index - half, 0), np.minimum(index + half + 1, len(values))
    n = counts[high] - counts[low]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[high] - sums[low]) / n, np.nan)


def _average(smoothed, loss, beta, count):
    """The bias-corrected moving average after ``count`` losses, the last being ``loss``."""
    previous = smoothed[-1] * (1 - beta ** (count - 1)) if smoothed else 0.0
    return (beta * previous + (1 - beta) * loss) / (1 - beta**count)


def rate_grid(optimizers=None, rates=None):
    """``{optimizer: rates}``: the given rates for each optimizer, else its default ones
    (:data:`DEFAULT_GRID`); every default optimizer when none is named."""
    optimizers = optimizers or list(DEFAULT_GRID)
    if rates:
        return {name: rates for name in optimizers}
    missing = [name for name in optimizers if name not in DEFAULT_GRID]
    if missing:
        raise check.BarenetError(
            f"no default learning rates for {', '.join(missing)}: give --learning-rates"
        )
    return {name: DEFAULT_GRID[name] for name in optimizers}
