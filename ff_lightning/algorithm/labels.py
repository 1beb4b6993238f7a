"""Writing labels into inputs (the wrong labels that make negative data: ff_lightning.algorithm.negatives)."""

from typing import Literal

import torch

LabelMode = Literal["overwrite", "concat"]
LABEL_MODES = ("overwrite", "concat")


def embedded_dim(input_dim: int, num_classes: int, mode: LabelMode) -> int:
    return input_dim if mode == "overwrite" else input_dim + num_classes


def embed_label(
    x: torch.Tensor,
    label_code: torch.Tensor,
    mode: LabelMode = "overwrite",
    scale: float | None = None,
) -> torch.Tensor:
    """Write a label code (one row per sample, `num_classes` wide) into the input.

    overwrite: the code replaces the first `num_classes` features (Hinton: the first 10 pixels of
    an MNIST image, which are always blank), scaled by each sample's largest value unless `scale`
    is given. concat: the code is appended, times `scale` (default 1).
    """
    num_classes = label_code.shape[1]
    if mode == "overwrite":
        strength = x.amax(dim=1, keepdim=True) if scale is None else scale
        out = x.clone()
        out[:, :num_classes] = label_code * strength
        return out
    if mode == "concat":
        return torch.cat([x, label_code * (1.0 if scale is None else scale)], dim=1)
    raise ValueError(f"label mode must be one of {LABEL_MODES}, got {mode!r}")


def one_hot(labels: torch.Tensor, num_classes: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.nn.functional.one_hot(labels, num_classes).to(dtype)


def neutral_code(n: int, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """The 'no label' code used for the softmax head: 1/num_classes in every label slot."""
    return torch.full((n, num_classes), 1.0 / num_classes, dtype=like.dtype, device=like.device)
