"""What a fully connected run will need before it starts: memory for its weights, Adam's state and
activations, and disk for its checkpoints, estimated from the config alone (no torch), so that a
network that cannot fit is refused with one line instead of meeting the out-of-memory killer.

The estimate covers the MLP models (model.hidden_dims); conv models are small at any setting the
suite offers and are not estimated.
"""

import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from ff_lightning.run.validate import dataset_classes

FLOAT_BYTES = 4


def input_dim(cfg: DictConfig) -> int | None:
    """The width of one input row: MNIST's 784 pixels, the synthetic data's input_dim, IMDb's
    review-vector size."""
    target = str(cfg.dataset.get("_target_", ""))
    if target.endswith("MNISTDataModule"):
        return 28 * 28
    if "input_dim" in cfg.dataset:
        return int(cfg.dataset.input_dim)
    dim = OmegaConf.select(cfg, "dataset.vectors.dim", default=None)
    return int(dim) if dim is not None else None


def parameters(cfg: DictConfig) -> int | None:
    """The number of weights and biases of an MLP model (its FF layers and its linear head), or
    None for a model this does not estimate."""
    dims = cfg.model.get("hidden_dims")
    width = input_dim(cfg)
    if dims is None or width is None or cfg.model.get("conv") is not None:
        return None
    dims = [int(d) for d in dims]
    count, previous = 0, width
    for d in dims:
        count += previous * d + d
        previous = d
    # the head reads the activities of every layer it is given: at most all of them
    count += sum(dims) * dataset_classes(cfg) + dataset_classes(cfg)
    return count


def checkpoint_bytes(cfg: DictConfig) -> int | None:
    """One checkpoint: the weights and Adam's two moments of each."""
    count = parameters(cfg)
    return None if count is None else 3 * count * FLOAT_BYTES


def memory_bytes(cfg: DictConfig) -> int | None:
    """Peak memory of training: the checkpoint's state, the gradients, a serialised copy of the
    state while a checkpoint is written, and the activations of a training batch (positives and
    negatives) and of an evaluation batch (goodness inference runs every label)."""
    count = parameters(cfg)
    if count is None:
        return None
    dims = [int(d) for d in cfg.model.hidden_dims]
    state = 3 * count * FLOAT_BYTES
    rows = int(cfg.dataset.get("batch_size", 100)) * (1 + int(cfg.model.get("negatives_per_image", 1)))
    eval_rows = int(cfg.dataset.get("eval_batch_size", 1000)) * dataset_classes(cfg)
    # activations, their gradients and one temporary per layer in training; two layers at a time
    # in evaluation
    activations = (3 * rows * sum(dims) + 2 * eval_rows * max(dims, default=0)) * FLOAT_BYTES
    return 2 * state + count * FLOAT_BYTES + activations


def available_memory() -> int | None:
    """Memory this process can take without swapping (MemAvailable), or None where unknown."""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
