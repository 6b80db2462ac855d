"""The training loop: the Trainer (fit -> train_epoch -> train_batch), callbacks, checkpoints
and data augmentation."""
