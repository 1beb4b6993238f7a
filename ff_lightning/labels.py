"""Writing labels into inputs, and drawing the wrong labels that make negative data."""

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


def wrong_labels(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """A uniformly random label different from the true one, for every sample.

    Adding an offset in [1, num_classes - 1] modulo num_classes can never give back the true
    label, unlike a permutation of the batch's labels.
    """
    offset = torch.randint(1, num_classes, labels.shape, device=labels.device)
    return (labels + offset) % num_classes


def several_wrong_labels(
    labels: torch.Tensor, num_classes: int, k: int, logits: torch.Tensor | None = None
) -> torch.Tensor:
    """k different wrong labels for every sample, shape (k, n), never the true label: drawn
    without replacement in proportion to the belief in `logits` (the softmax over the wrong
    labels: Hinton's hard negatives) or, without logits, uniformly. With k = num_classes - 1
    every wrong label appears once."""
    if logits is None:
        probs = torch.ones(labels.shape[0], num_classes, device=labels.device)
    else:
        # a head whose weights ran away gives NaN beliefs: those rows draw uniformly, so that
        # the run trains on to the end of its epoch, where the divergence check stops it
        probs = torch.nan_to_num(torch.softmax(logits.float(), dim=1), nan=0.0)
    probs = probs.scatter(1, labels.unsqueeze(1), 0.0)
    # a belief that underflowed to 0 would leave too few labels to draw k of them from
    probs = probs + 1e-12 * (probs == 0).float().scatter(1, labels.unsqueeze(1), 0.0)
    return torch.multinomial(probs, k).T
