"""Activations: the output range of each bounded one (which the thresholds and the saturation
statistic need), and the activations that torch.nn lacks.

A new activation is a yaml in conf/activation/ naming a module (`_target_: torch.nn.Mish`). A
bounded one declares its range here (torch.nn's modules, by class) or, for a module of one's
own, as its `output_range` attribute."""

import torch
from torch import nn


class _StraightThroughReLUFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # noqa: ANN001 - autograd's signature
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        return grad


class StraightThroughReLU(nn.Module):
    """ReLU forward, identity backward: a unit that is off still learns from the loss.

    Hinton's released code and loeweX/Forward-Forward use this; with the plain ReLU an FF unit
    whose pre-activation is negative for every input gets no gradient and stays dead."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _StraightThroughReLUFn.apply(x)


# the outputs a bounded torch.nn activation can give (lowest, highest): a unit bounded by
# B = max(|lowest|, |highest|) adds at most B^2 to goodness
OUTPUT_RANGES: dict[type, tuple[float, float]] = {
    nn.Tanh: (-1.0, 1.0),
    nn.Sigmoid: (0.0, 1.0),
    nn.Hardtanh: (-1.0, 1.0),
    nn.Softsign: (-1.0, 1.0),
}


def activation_range(activation: nn.Module) -> tuple[float, float] | None:
    """The (lowest, highest) output of a bounded activation module, None for an unbounded one:
    its own `output_range`, else torch.nn's from OUTPUT_RANGES."""
    declared = getattr(activation, "output_range", None)
    if declared is not None:
        return tuple(declared)
    return OUTPUT_RANGES.get(type(activation))


def activation_bound(activation: nn.Module) -> float | None:
    """The bound on |output| of a bounded activation module, None for an unbounded one."""
    span = activation_range(activation)
    return None if span is None else max(abs(v) for v in span)
