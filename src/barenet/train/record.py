"""How a network was trained: the record a model file keeps beside its weights.

``net.training_info`` is a :class:`TrainingRecord`. ``NeuralNetwork.train`` fills in the run's
settings, the early stopping reports its best epoch, and the command line adds the data set and
the test accuracy; the model card, the report and ``barenet evaluate`` read it back.
"""

from dataclasses import asdict, dataclass, fields


@dataclass
class TrainingRecord:
    """The settings and outcome of the last ``train`` call (None: not recorded).

    ``epochs``, ``batch_size``: as asked; ``schedule``, ``augment``: their configs;
    ``clip_norm``; ``early_stopping``: the patience; ``n_train``, ``n_val``: samples seen;
    ``best_epoch`` and ``best_value`` of the figure early stopping ``monitor``-ed (epochs
    counted from 1); ``dataset``: the data set's name; ``data``: the path of your own data
    (a folder, .npz or .csv) when it was trained on that; ``test_accuracy`` on its test split,
    or, for a regression network, ``test_r2`` (and the loss, ``test_loss``); ``workers``: the
    threads that shared each step (None: a file from before they could).
    """

    epochs: int | None = None
    batch_size: int | None = None
    schedule: dict | None = None
    augment: dict | None = None
    clip_norm: float | None = None
    early_stopping: int | None = None
    n_train: int | None = None
    n_val: int | None = None
    monitor: str | None = None
    best_epoch: int | None = None
    best_value: float | None = None
    dataset: str | None = None
    data: str | None = None
    test_accuracy: float | None = None
    test_r2: float | None = None
    test_loss: float | None = None
    workers: int | None = None

    def to_dict(self):
        """The fields that were recorded, JSON-able, as the model file stores them."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data):
        """The record a model file holds; files from before the record kept the best value
        under ``best_<monitor>``, and unknown keys are dropped."""
        data = dict(data or {})
        for key in [k for k in data if k.startswith("best_") and k != "best_epoch"]:
            if key != "best_value":
                data.setdefault("monitor", key[len("best_") :])
                data["best_value"] = data.pop(key)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
