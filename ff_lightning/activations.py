"""Activations that torch.nn lacks."""

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
