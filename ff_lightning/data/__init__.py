"""Datasets, each held whole as tensors on the training device."""
