"""The Forward-Forward objective: goodness, the per-layer loss, and layer-input normalisation.

Hinton (2022), section 3.3: p(positive) = sigmoid(G - theta) with G the sum of squared activities,
so a layer's loss is softplus(theta - G_pos) + softplus(G_neg - theta).
"""

import torch
import torch.nn.functional as F

EPS = 1e-8


def rms_normalise(h: torch.Tensor) -> torch.Tensor:
    """Scale each sample's activity to unit root-mean-square.

    Only the direction of the previous layer's activity vector reaches the next layer, so the
    next layer cannot read goodness (the length) and must find new features.
    """
    # every dimension but the batch: a conv layer's whole activity map counts as one vector
    return h / torch.sqrt(h.pow(2).mean(dim=tuple(range(1, h.dim())), keepdim=True) + EPS)


def goodness(h: torch.Tensor) -> torch.Tensor:
    """Sum of squared activities per sample, always in fp32 (bf16 sums of 2000 squares are too
    coarse). A conv layer's activity (batch, channels, height, width) counts each position as a
    vector of `channels` units: the sum over channels, averaged over positions, so its goodness
    has the scale of `channels` units (theta = channels), not of every position at once."""
    g = h.float().pow(2)
    return g.sum(dim=1) if h.dim() == 2 else g.sum(dim=1).mean(dim=(1, 2))


def class_goodness(h: torch.Tensor, num_classes: int, over_channels: str = "sum") -> torch.Tensor:
    """The channel-wise objective's goodness: a conv layer's channels split into `num_classes`
    equal groups, class c's goodness that of group c alone (its squared activity averaged over
    positions, then summed or averaged over the group's channels: `over_channels`, sum or mean).
    Shape (batch, num_classes), fp32."""
    n, c, height, width = h.shape
    per_channel = h.float().pow(2).view(n, num_classes, c // num_classes, height * width).mean(dim=3)
    return per_channel.mean(dim=2) if over_channels == "mean" else per_channel.sum(dim=2)


def channelwise_loss(g: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Papachristodoulou et al. (2024)'s channel-wise competitive loss: the cross-entropy of a
    softmax over the per-class goodnesses, so that the true class's channels grow and the other
    classes' shrink on the same image; no negative data."""
    return F.cross_entropy(g, labels)


def ff_loss(
    g_pos: torch.Tensor, g_neg: torch.Tensor, theta: float | torch.Tensor, average: str = "sum"
) -> torch.Tensor:
    """The threshold loss: softplus(theta - G_pos) on positives, softplus(G_neg - theta) on
    negatives. `average` sum: the mean over positives plus the mean over negatives (Hinton's);
    mean: the mean over all rows at once, as loeweX/Forward-Forward's binary cross-entropy over
    the positive and negative rows (half the gradient with one negative per image, which halves
    SGD's step)."""
    pos, neg = F.softplus(theta - g_pos), F.softplus(g_neg - theta)
    if average == "mean":
        return torch.cat([pos.flatten(), neg.flatten()]).mean()
    return pos.mean() + neg.mean()


def symba_loss(g_pos: torch.Tensor, g_neg: torch.Tensor, alpha: float = 4.0) -> torch.Tensor:
    """SymBa (Lee & Song 2023): mean of softplus(-alpha * (G_pos - G_neg)) over same-image pairs
    (row i of the positives and row i of the negatives are one image with two labels). No
    threshold: only the gap between the true and the wrong label's goodness counts.

    With several wrong labels per image (`g_neg` of shape (k, n): row j holds every image's j-th
    wrong label), the loss is log(1 + sum_j exp(-alpha * (G_pos - G_neg_j))), which is SymBa for
    k = 1 and, with all wrong labels, the cross-entropy of a softmax over alpha * G: each layer
    then classifies by its goodness, and the wrong label nearest to the true one gets most of
    the gradient."""
    if g_neg.dim() == 1:
        return F.softplus(-alpha * (g_pos - g_neg)).mean()
    margins = -alpha * (g_pos.unsqueeze(0) - g_neg)
    return torch.logsumexp(F.pad(margins, (0, 0, 1, 0)), dim=0).mean()


def log_symba_loss(g_pos: torch.Tensor, g_neg: torch.Tensor, alpha: float = 4.0) -> torch.Tensor:
    """SymBa on log goodness: mean of softplus(-alpha * log(G_pos / G_neg)). A layer cannot lower
    it by scaling its weights up (the ratio does not change), only by separating the two labels,
    whereas SymBa's gap, and so its loss, keeps improving as the weights grow."""
    return symba_loss(torch.log(g_pos + EPS), torch.log(g_neg + EPS), alpha)


def peer_normalisation_loss(running_mean: torch.Tensor) -> torch.Tensor:
    """Hinton's peer normalisation: the squared distance of every unit's running mean activity
    from the layer's average, so that no unit stays always off or always on."""
    return (running_mean.mean() - running_mean).pow(2).mean()


def threshold_accuracy(g_pos: torch.Tensor, g_neg: torch.Tensor, theta: float | torch.Tensor) -> torch.Tensor:
    """Share of samples on the right side of the threshold (positives above, negatives below)."""
    right = (g_pos > theta).float().sum() + (g_neg < theta).float().sum()
    return right / (g_pos.numel() + g_neg.numel())
