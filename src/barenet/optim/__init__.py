"""Optimizers (whole-buffer updates) and learning-rate schedules."""
