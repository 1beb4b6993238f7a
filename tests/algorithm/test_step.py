import torch
from torch import nn

from ff_lightning.algorithm.activations import activation_range
from ff_lightning.algorithm.nets import FFLayer
from ff_lightning.algorithm.step import STATS, LayerStep, layer_step


def _stats(activation: nn.Module, scale: float) -> dict[str, float]:
    torch.manual_seed(0)
    layer = FFLayer(20, 50, activation)
    with torch.no_grad():
        layer.linear.weight.mul_(scale)
    step = LayerStep(output_range=activation_range(activation))
    _, _, stats, _ = layer_step(layer, torch.randn(16, 20), torch.tensor(50.0), 8, step)
    return dict(zip(STATS, stats.tolist(), strict=True))


def test_saturated_share_counts_units_at_either_end_of_a_bounded_range():
    # small weights: tanh and sigmoid near their middles; large ones: pinned at their ends
    assert _stats(nn.Tanh(), 0.01)["saturated"] == 0.0
    assert _stats(nn.Tanh(), 1000.0)["saturated"] > 0.95
    assert _stats(nn.Sigmoid(), 0.01)["saturated"] == 0.0
    # both ends count: with large weights about half the sigmoid units sit at 0, half at 1
    assert _stats(nn.Sigmoid(), 1000.0)["saturated"] > 0.95
    # unbounded: no range, no saturation
    assert activation_range(nn.ReLU()) is None
    assert _stats(nn.ReLU(), 1000.0)["saturated"] == 0.0
