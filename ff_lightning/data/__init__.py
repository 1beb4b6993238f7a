"""Datasets, each held whole as tensors on the training device; what their settings allow is
declared in ff_lightning.data.settings."""
