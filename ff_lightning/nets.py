"""The network itself, plain PyTorch: a stack of FF layers that each see a normalised input."""

import torch
from torch import nn

from ff_lightning.goodness import goodness, rms_normalise


class FFLayer(nn.Module):
    """Linear + activation applied to the unit-RMS version of its input."""

    def __init__(self, in_dim: int, out_dim: int, activation: nn.Module) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, out_dim)
        self.activation = activation
        # each unit's running mean activity on positive data, for peer normalisation
        self.register_buffer("running_mean", torch.zeros(out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(rms_normalise(x)))


class FFNet(nn.Module):
    """Layers trained by Forward-Forward; no gradient ever flows between them."""

    def __init__(self, input_dim: int, hidden_dims: list[int], activation: nn.Module) -> None:
        super().__init__()
        dims = [input_dim, *hidden_dims]
        self.layers = nn.ModuleList(
            FFLayer(d_in, d_out, activation) for d_in, d_out in zip(dims[:-1], dims[1:], strict=True)
        )

    def activities(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's activity, each layer fed the detached output of the one below."""
        out = []
        h = x
        for layer in self.layers:
            h = layer(h.detach())
            out.append(h)
        return out

    def goodness_per_layer(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [goodness(h) for h in self.activities(x)]

    def head_features(self, x: torch.Tensor, from_layer: int) -> torch.Tensor:
        """Normalised activities of layers >= from_layer, side by side, for the softmax head."""
        acts = self.activities(x)[from_layer:]
        return torch.cat([rms_normalise(h) for h in acts], dim=1)
