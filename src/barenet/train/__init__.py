"""The training loop: :class:`Trainer` (``fit`` -> ``train_epoch`` -> ``train_batch``, which is
``backprop`` then the optimizer's ``step``), callbacks, checkpoints and data augmentation."""

from barenet.train.trainer import Trainer, TrainingInterrupted, clip_by_global_norm

__all__ = ["Trainer", "TrainingInterrupted", "clip_by_global_norm"]
