"""Negative data: which wrong labels an image is shown with, the negative-sampling strategy."""

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class NegativeSampler:
    """Draws `per_image` wrong labels for every image of a minibatch: uniformly, or (hard) in
    proportion to the head's belief in them (Hinton's hard negatives)."""

    kind: str = "uniform"
    per_image: int = 1

    @property
    def needs_beliefs(self) -> bool:
        """Whether draw() wants the head's logits for the minibatch."""
        return self.kind == "hard"

    def draw(
        self,
        labels: torch.Tensor,
        num_classes: int,
        logits: torch.Tensor | None = None,
        in_graph: bool = False,
    ) -> torch.Tensor:
        """per_image x n wrong labels, flat: block j holds every image's j-th wrong label.
        in_graph: hard negatives by Gumbel top-k, which needs no host synchronisation."""
        if self.per_image == 1 and logits is None:
            return wrong_labels(labels, num_classes)
        if in_graph and logits is not None:
            return gumbel_wrong_labels(labels, logits, self.per_image)
        return several_wrong_labels(labels, num_classes, self.per_image, logits).flatten()


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


def gumbel_wrong_labels(labels: torch.Tensor, logits: torch.Tensor, k: int) -> torch.Tensor:
    """k different wrong labels per image, drawn without replacement in proportion to the
    softmax of `logits` over the wrong labels: the top k of logits + Gumbel noise (exact for
    sampling without replacement), with no synchronising sampler. Shape (k * n,), block j the
    j-th wrong label of every image."""
    logits = torch.nan_to_num(logits.float(), nan=0.0)  # a diverged head: uniform draws
    gumbel = -torch.log(-torch.log(torch.rand_like(logits).clamp_min(1e-20)))
    scores = (logits + gumbel).scatter(1, labels.unsqueeze(1), float("-inf"))
    return scores.topk(k, dim=1).indices.T.flatten()
