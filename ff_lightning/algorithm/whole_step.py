"""The whole step: one FF minibatch (ff_step.ff_minibatch) with Adam written out on tensors. Every
layer's Adam step and the head's, the epoch statistics and the divergence flag are one function
of tensors, with no host synchronisation and no Python branch on a tensor's value. Learning
rates and thresholds are tensors, so a schedule changes data, not the function, and
`torch.compile(whole_step, fullgraph=True)` makes it one graph (what a CUDA graph capture needs;
dynamo traces the gradients with `torch._dynamo.config.trace_autograd_ops`).

The settings that decide the graph's shape (objective, negatives, k, dropout) are fixed in the
run's `StepSettings`, as on the per-layer path. Adam runs on explicit state (`AdamState`, the
optimizers' own tensors): torch's fused Adam kernel eagerly, its arithmetic written out in
foreach operations when compiled.
"""

from dataclasses import dataclass, field

import torch
from torch import nn

from ff_lightning.algorithm.ff_step import StepSettings, ff_minibatch
from ff_lightning.algorithm.nets import FFNet
from ff_lightning.algorithm.step import layer_step

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


class AdamSteps:
    """The whole step's gradients (GradientSteps): torch.autograd.grad of each loss for its own
    parameters, then adam_ on every layer's state at once and on the head's. `lrs`: each
    layer's rate, then the head's, as tensors, so a schedule changes data, not a compiled graph."""

    def __init__(self, layers: list[AdamState], head: AdamState, lrs: list[torch.Tensor]):
        self.states = [*layers, head]
        self.lrs = list(lrs)
        self.grads: list[list[torch.Tensor]] = [[] for _ in self.states]

    def backward(self, index: int, loss: torch.Tensor) -> None:
        self.grads[index] = list(torch.autograd.grad(loss, self.states[index].params))

    def step_layers(self) -> None:
        with torch.no_grad():
            for state, grads, lr in zip(self.states[:-1], self.grads[:-1], self.lrs[:-1], strict=True):
                adam_(state, grads, lr)

    def step_head(self) -> None:
        with torch.no_grad():
            adam_(self.states[-1], self.grads[-1], self.lrs[-1])


def whole_step(
    net: FFNet,
    head: nn.Linear,
    batch: tuple[torch.Tensor, torch.Tensor],
    thetas: torch.Tensor,
    stats: torch.Tensor,
    settings: StepSettings,
    adam: AdamSteps,
) -> torch.Tensor:
    """ff_minibatch with Adam written out: see ff_step.ff_minibatch for what it computes and
    returns. `settings.in_graph` should be true (hard negatives without a host synchronisation)."""
    return ff_minibatch(net, head, batch, thetas, stats, settings, adam, layer_step)
