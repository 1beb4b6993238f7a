"""One FF layer's training step: its forward pass, goodness, loss and epoch statistics.

A plain function of tensors and a frozen configuration, so that torch.compile can turn it (and its
backward) into one graph per layer.
"""

from dataclasses import dataclass

import torch
from torch import nn

from ff_lightning.algorithm.goodness import (
    ff_loss,
    goodness,
    log_symba_loss,
    peer_normalisation_loss,
    symba_loss,
    threshold_accuracy,
)

# per layer, summed over the steps of an epoch: loss (peer normalisation's included), mean G_pos,
# mean G_neg, threshold accuracy, peer normalisation's share of the loss, and the share of units
# saturated on positive data (a bounded activation's output within SATURATED of either end of
# its range, where its slope is nearly 0; always 0 for an unbounded activation)
STATS = ("loss", "goodness_pos", "goodness_neg", "threshold_acc", "peer_loss", "saturated")
SATURATED = 0.05


@dataclass(frozen=True)
class LayerStep:
    """What a layer's step does, fixed for a run: the objective (SymBa's alpha), peer
    normalisation (strength, running-mean momentum), dropout on the layer's input, the
    negatives per image (k blocks of negative rows after the positives), and the output range
    of a bounded activation (for the saturation statistic)."""

    objective: str = "threshold"
    symba_alpha: float = 4.0
    peer_normalisation: float = 0.0
    peer_momentum: float = 0.9
    dropout: float = 0.0
    negatives_per_image: int = 1
    output_range: tuple[float, float] | None = None
    # the threshold loss's average over positive and negative rows (goodness.ff_loss)
    loss_average: str = "sum"


def layer_step(
    layer: nn.Module,
    h: torch.Tensor,
    theta: torch.Tensor,
    n: int,
    step: LayerStep,
    running_mean: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """One FF layer on positives (rows < n) and k blocks of negatives (row j * n + n + i: the
    image of row i with its j-th wrong label): its output, its loss, the epoch statistics of
    this step (STATS), and with peer normalisation the layer's new running mean activity.

    With dropout, each image loses the same input units in its positive and its negative rows, so
    that the pair's goodness gap compares the two labels on the same evidence. The layer
    normalises its input to unit RMS, so the kept units need no rescaling."""
    k = step.negatives_per_image
    if step.dropout > 0:
        keep = torch.rand(n, *h.shape[1:], device=h.device) >= step.dropout
        h = h * keep.repeat(k + 1, *[1] * (h.dim() - 1)).to(h.dtype)
    out = layer(h)
    g = goodness(out)
    g_pos, g_neg = g[:n], g[n:]
    if k > 1 and step.objective != "threshold":
        g_neg = g_neg.view(k, n)  # the SymBa losses compare each image's labels with each other
    if step.objective == "symba":
        loss = symba_loss(g_pos, g_neg, step.symba_alpha)
    elif step.objective == "symba_log":
        loss = log_symba_loss(g_pos, g_neg, step.symba_alpha)
    else:
        loss = ff_loss(g_pos, g_neg, theta, step.loss_average)
    new_mean = None
    peer_loss = torch.zeros((), device=loss.device, dtype=loss.dtype)
    if step.peer_normalisation > 0:
        # the running mean of each unit's activity on positive data; the newest batch's share of
        # it carries the gradient, as in Hinton's code
        momentum = step.peer_momentum
        new_mean = momentum * running_mean + (1.0 - momentum) * out[:n].float().mean(dim=0)
        peer_loss = step.peer_normalisation * peer_normalisation_loss(new_mean)
        loss = loss + peer_loss
        new_mean = new_mean.detach()
    with torch.no_grad():
        accuracy = threshold_accuracy(g_pos, g_neg, theta)
        saturated = torch.zeros((), device=loss.device, dtype=loss.dtype)
        if step.output_range is not None:
            low, high = step.output_range
            margin = SATURATED * (high - low)
            pos = out[:n]
            saturated = ((pos <= low + margin) | (pos >= high - margin)).float().mean()
        stats = torch.stack([loss, g_pos.mean(), g_neg.mean(), accuracy, peer_loss.detach(), saturated])
    return out, loss, stats, new_mean
