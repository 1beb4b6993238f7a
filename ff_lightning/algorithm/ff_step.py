"""One Forward-Forward minibatch, written once, for every FF layer and the softmax head.

Read top to bottom: the wrong labels drawn (uniformly, or hard: in proportion to the head's
belief in them), input dropout, the label written into the positives and the negatives, then
layer by layer its forward pass, goodness, loss and gradient on its detached input (`layer_step`),
then every layer's optimizer step at once, then the head on the upper layers' normalised
activities for the image with a neutral label.

Both training paths run this function and differ only in how a gradient is taken and applied,
the `GradientSteps` they pass: the per-layer path through Lightning's optimizers
(`FFModule`'s `manual_backward`, any torch optimizer, DDP), the whole step through Adam written
out on tensors (`whole_step.py`: no host synchronisation, one compilable graph).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

from ff_lightning.algorithm.labels import embed_label, neutral_code, one_hot
from ff_lightning.algorithm.negatives import NegativeSampler
from ff_lightning.algorithm.nets import FFNet
from ff_lightning.algorithm.step import LayerStep, layer_step
from ff_lightning.data.augment import drop_pixels


@dataclass(frozen=True)
class StepSettings:
    """What every minibatch of a run shares: each layer's step (objective, peer normalisation,
    dropout), the negatives, the input dropout, the first layer the head reads, and how the label
    is written (label_mode, label_scale)."""

    layer_steps: tuple[LayerStep, ...]
    sampler: NegativeSampler
    num_classes: int
    input_dropout: float = 0.0
    from_layer: int = 0
    label_mode: str = "overwrite"
    label_scale: float | None = None
    # hard negatives drawn without a host synchronisation (Gumbel top-k), as a graph needs; the
    # per-layer path keeps torch.multinomial (the same distribution, other random draws)
    in_graph: bool = False


class GradientSteps(Protocol):
    """How a training path takes and applies gradients: `backward(i, loss)` for layer i (the
    head: i = number of layers), then `step_layers()` once every layer has its gradient, then
    `step_head()`."""

    def backward(self, index: int, loss: torch.Tensor) -> None: ...

    def step_layers(self) -> None: ...

    def step_head(self) -> None: ...


def ff_minibatch(
    net: FFNet,
    head: nn.Linear,
    batch: tuple[torch.Tensor, torch.Tensor],
    thetas: torch.Tensor,
    stats: torch.Tensor,
    settings: StepSettings,
    grads: GradientSteps,
    layer_fn: Callable = layer_step,
) -> torch.Tensor:
    """One minibatch (images x, labels y) for every layer of `net` and the head. Adds each layer's
    statistics of this step (step.STATS) to `stats`, and returns the head's loss, its accuracy on
    the minibatch and whether any loss is not finite, as a tensor of three. `layer_fn` is
    `layer_step`, or a compiled version of it."""
    x, y = batch
    n, k, classes = x.shape[0], settings.sampler.per_image, settings.num_classes

    def labelled(images: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        return embed_label(images, code, settings.label_mode, settings.label_scale)

    def features(images: torch.Tensor) -> torch.Tensor:
        return net.head_features(labelled(images, neutral_code(n, classes, images)), settings.from_layer)

    feats = logits = None
    if settings.sampler.needs_beliefs:
        # the head's belief picks each wrong label; the same features (before this step moves
        # the layers) then train the head, so hard negatives cost no extra forward pass
        with torch.no_grad():
            feats = features(x)
            logits = head(feats)
    y_neg = settings.sampler.draw(y, classes, logits, in_graph=settings.in_graph)
    # before the label is written, so the label is never dropped, and once per image, so its
    # positive and negative rows lose the same pixels
    x_in = drop_pixels(x, settings.input_dropout) if settings.input_dropout > 0 else x
    # positives and negatives go through each layer as one batch: one matmul instead of k + 1
    positives = labelled(x_in, one_hot(y, classes, x.dtype))
    h = torch.cat([positives, labelled(x_in.repeat(k, 1), one_hot(y_neg, classes, x.dtype))])
    h = net.first_input(h)
    bad = torch.zeros((), dtype=torch.bool, device=x.device)
    for i, (layer, step) in enumerate(zip(net.layers, settings.layer_steps, strict=True)):
        out, loss, layer_stats, new_mean = layer_fn(layer, h.detach(), thetas[i], n, step, layer.running_mean)
        grads.backward(i, loss)
        stats[i] += layer_stats
        bad = bad | ~torch.isfinite(loss)
        h = out.detach()
        if new_mean is not None:  # peer normalisation on: fixed by the step's settings
            layer.running_mean.copy_(new_mean)
    # every layer learns from the layer below as it was before this step, so stepping them all
    # after the last gradient computes the same as stepping each right after its own
    grads.step_layers()

    if feats is None:
        with torch.no_grad():
            feats = features(x)
    head_logits = head(feats)
    head_loss = F.cross_entropy(head_logits, y)
    correct = (head_logits.detach().argmax(dim=1) == y).float().mean()
    grads.backward(len(net.layers), head_loss)
    grads.step_head()
    return torch.stack([head_loss.detach(), correct, (bad | ~torch.isfinite(head_loss)).float()])
