"""One whole FF minibatch step as one function of tensors: the negatives drawn, input dropout,
every layer's forward pass, loss and gradient, every layer's Adam step, the softmax head's step,
the epoch statistics and the divergence flag, with no host synchronisation and no Python branch
on a tensor's value. Learning rates and thresholds are tensors, so a schedule changes data, not
the function, and `torch.compile(whole_step, fullgraph=True)` makes it one graph (what a CUDA
graph capture needs; dynamo traces the gradients with
`torch._dynamo.config.trace_autograd_ops`).

The settings that decide the graph's shape (objective, negatives, k, dropout) are fixed in a
`LayerStep` and a `NegativeSampler`, as on the plain path. Adam runs on explicit state
(`AdamState`, the optimizers' own tensors): torch's fused Adam kernel eagerly, its arithmetic
written out in foreach operations when compiled.
"""

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ff_lightning.data.augment import drop_pixels
from ff_lightning.labels import embed_label, neutral_code, one_hot
from ff_lightning.negatives import NegativeSampler
from ff_lightning.nets import FFNet
from ff_lightning.step import LayerStep, layer_step

BETAS = (0.9, 0.999)
EPS = 1e-8


@dataclass
class AdamState:
    """Adam's moments and step counts for a list of parameters, held as tensors. `of` reads them
    from (and keeps them in) a torch.optim.Adam, so its state_dict, the checkpoint and a resume
    on either path see the same moments."""

    params: list[torch.Tensor]
    exp_avg: list[torch.Tensor] = field(default_factory=list)
    exp_avg_sq: list[torch.Tensor] = field(default_factory=list)
    # one per parameter, as torch.optim.Adam keeps them; all hold the same count
    steps: list[torch.Tensor] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.exp_avg:
            self.exp_avg = [torch.zeros_like(p) for p in self.params]
            self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
            self.steps = [torch.zeros((), device=p.device) for p in self.params]

    @classmethod
    def of(cls, optimizer: torch.optim.Optimizer) -> "AdamState":
        """The state of a torch.optim.Adam (see `unsupported`), created in it where it has none."""
        params = [p for group in optimizer.param_groups for p in group["params"]]
        for p in params:
            state = optimizer.state[p]
            if not state:
                state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            # a step count on the parameter's device, so the step adds nothing on the host
            state["step"] = state["step"].to(p.device)
        states = [optimizer.state[p] for p in params]
        return cls(
            params,
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [s["step"] for s in states],
        )


def unsupported(optimizer: torch.optim.Optimizer) -> str | None:
    """Why adam_ cannot step this optimizer (None: it can): adam_ is torch.optim.Adam's update
    with its default betas and eps, no weight decay, one learning rate."""
    if type(optimizer) is not torch.optim.Adam:
        return f"{type(optimizer).__name__}, not Adam"
    lrs = {group["lr"] for group in optimizer.param_groups}
    for group in optimizer.param_groups:
        if group["weight_decay"] or group["amsgrad"] or group["maximize"]:
            return "Adam with weight decay, amsgrad or maximize"
        if tuple(group["betas"]) != BETAS or group["eps"] != EPS:
            return f"Adam with betas {tuple(group['betas'])} and eps {group['eps']}"
    return f"several learning rates {sorted(lrs)}" if len(lrs) > 1 else None


def adam_(state: AdamState, grads: list[torch.Tensor], lr: torch.Tensor) -> None:
    """One Adam step in place (no weight decay, no amsgrad): eagerly, torch.optim.Adam(fused=True)'s
    own kernel, one multi-threaded pass over every tensor; in a compiled graph, the same arithmetic
    written out, the bias corrections in float64 as Adam's Python numbers are."""
    beta1, beta2 = BETAS
    torch._foreach_add_(state.steps, 1)
    if not torch.compiler.is_compiling():
        torch._fused_adam_(
            state.params,
            grads,
            state.exp_avg,
            state.exp_avg_sq,
            [],
            state.steps,
            amsgrad=False,
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            weight_decay=0.0,
            eps=EPS,
            maximize=False,
            grad_scale=None,
            found_inf=None,
        )
        return
    torch._foreach_lerp_(state.exp_avg, grads, 1 - beta1)
    torch._foreach_mul_(state.exp_avg_sq, beta2)
    torch._foreach_addcmul_(state.exp_avg_sq, grads, grads, 1 - beta2)
    step = state.steps[0].double()
    step_size = -(lr.double() / (1 - beta1**step))
    denom = torch._foreach_sqrt(state.exp_avg_sq)
    torch._foreach_div_(denom, torch.sqrt(1 - beta2**step).float())
    torch._foreach_add_(denom, EPS)
    # param + step_size * exp_avg / denom in three operations a graph can hold (its step size a
    # tensor on the device)
    updates = torch._foreach_div(state.exp_avg, denom)
    torch._foreach_mul_(updates, step_size.float())
    torch._foreach_add_(state.params, updates)


def gumbel_wrong_labels(labels: torch.Tensor, logits: torch.Tensor, k: int) -> torch.Tensor:
    """k different wrong labels per image, drawn without replacement in proportion to the
    softmax of `logits` over the wrong labels: the top k of logits + Gumbel noise (exact for
    sampling without replacement), with no synchronising sampler. Shape (k * n,), block j the
    j-th wrong label of every image."""
    logits = torch.nan_to_num(logits.float(), nan=0.0)  # a diverged head: uniform draws
    gumbel = -torch.log(-torch.log(torch.rand_like(logits).clamp_min(1e-20)))
    scores = (logits + gumbel).scatter(1, labels.unsqueeze(1), float("-inf"))
    return scores.topk(k, dim=1).indices.T.flatten()


def whole_step(
    net: FFNet,
    head: nn.Linear,
    layer_opts: list[AdamState],
    head_opt: AdamState,
    x: torch.Tensor,
    y: torch.Tensor,
    thetas: torch.Tensor,
    lr: torch.Tensor,
    head_lr: torch.Tensor,
    stats: torch.Tensor,
    sampler: NegativeSampler,
    steps: list[LayerStep],
    num_classes: int,
    input_dropout: float,
    from_layer: int,
    label_mode: str = "overwrite",
    label_scale: float | None = None,
) -> torch.Tensor:
    """One minibatch for every FF layer of `net` and the head, the label written into the input as
    FFModule writes it (label_mode, label_scale). Adds this step's per-layer statistics
    (step.STATS) to `stats` and returns the head's loss, its accuracy on the minibatch and whether
    anything is not finite, as a tensor of three."""
    n, k = x.shape[0], sampler.per_image

    def labelled(images: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        return embed_label(images, code, label_mode, label_scale)

    def features(images: torch.Tensor) -> torch.Tensor:
        return net.head_features(labelled(images, neutral_code(n, num_classes, images)), from_layer)

    feats = None
    if sampler.needs_beliefs:
        # the head's belief picks the wrong labels; the same features then train the head
        with torch.no_grad():
            feats = features(x)
            y_neg = gumbel_wrong_labels(y, head(feats), k)
    else:
        y_neg = sampler.draw(y, num_classes)
    x_in = drop_pixels(x, input_dropout) if input_dropout > 0 else x
    positives = labelled(x_in, one_hot(y, num_classes, x.dtype))
    h = torch.cat([positives, labelled(x_in.repeat(k, 1), one_hot(y_neg, num_classes, x.dtype))])
    h = net.first_input(h)
    bad = torch.zeros((), dtype=torch.bool, device=x.device)
    all_grads = []
    for i, (layer, step) in enumerate(zip(net.layers, steps, strict=True)):
        out, loss, layer_stats, new_mean = layer_step(
            layer, h.detach(), thetas[i], n, step, layer.running_mean
        )
        all_grads.append(torch.autograd.grad(loss, list(layer.parameters())))
        stats[i] += layer_stats
        bad = bad | ~torch.isfinite(loss)
        h = out.detach()
        if new_mean is not None:  # peer normalisation on: fixed by the step's settings
            layer.running_mean.copy_(new_mean)
    with torch.no_grad():
        # every layer learns from the layer below as it was before this step
        for opt, grads in zip(layer_opts, all_grads, strict=True):
            adam_(opt, list(grads), lr)
    if feats is None:
        with torch.no_grad():
            feats = features(x)
    logits = head(feats)
    head_loss = F.cross_entropy(logits, y)
    correct = (logits.detach().argmax(dim=1) == y).float().mean()
    head_grads = torch.autograd.grad(head_loss, list(head.parameters()))
    with torch.no_grad():
        adam_(head_opt, list(head_grads), head_lr)
    return torch.stack([head_loss.detach(), correct, (bad | ~torch.isfinite(head_loss)).float()])
