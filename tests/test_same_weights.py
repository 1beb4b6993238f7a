"""The same seed trains the same weights as before a change to the training step's code.

The figures below were recorded with the step as it was before the per-layer step became a typed
configuration and negative sampling a strategy of its own; a refactoring that changes a random
draw, its order, or any arithmetic of a step fails here. Each figure sums one tensor
after 1000 synthetic images (10 steps of 100), rounded to 5 significant figures so that the last
bit of a different CPU's kernels cannot matter. They hold for the per-layer steps through
Lightning's optimizers; tests/test_whole_step.py holds the whole step to the same weights."""

import pytest
import torch

from ff_lightning.module import FFModule
from tests.test_module import _fit, make_module

SETTINGS = {
    "paper": {},
    "best": {"negatives": "hard", "objective": "symba", "goodness_from_layer": 0, "input_dropout": 0.2},
    "k_negatives": {"negatives": "hard", "negatives_per_image": 3, "objective": "symba"},
    "uniform_k": {"negatives_per_image": 4, "objective": "symba_log"},
    "peer_dropout": {"peer_normalisation": 0.03, "peer_mean_init": 0.5, "dropout": 0.3},
    "reference": {"init": "reference", "lr_schedule": "linear_decay"},
}

RECORDED: dict[str, list[float]] = {
    "paper": [
        2.473,
        265.5,
        0.27644,
        3.5016,
        2.7489,
        147.62,
        0.71083,
        7.5537,
        2.544,
        138.88,
        0.56833,
        7.0099,
        1.9888,
        118.12,
        0.35525,
        3.1609,
    ],
    "best": [
        2.6647,
        280.19,
        0.33908,
        4.2541,
        2.4264,
        132.62,
        0.632,
        7.9958,
        2.3728,
        131.66,
        0.47616,
        5.4929,
        2.3036,
        165.05,
        0.3699,
        3.5667,
    ],
    "k_negatives": [
        2.7598,
        292.99,
        0.37732,
        4.7245,
        2.5177,
        136.04,
        0.63005,
        7.4668,
        2.3722,
        133.42,
        0.51643,
        5.6357,
        1.9974,
        118.26,
        0.34454,
        3.2678,
    ],
    "uniform_k": [
        2.8204,
        298.22,
        0.33022,
        4.1249,
        2.5452,
        137.61,
        0.7417,
        9.3791,
        2.4074,
        131.66,
        0.55828,
        6.6302,
        1.9208,
        114.77,
        0.36118,
        3.3309,
    ],
    "peer_dropout": [
        2.4735,
        265.42,
        0.27612,
        3.4838,
        2.7563,
        146.63,
        0.74637,
        7.781,
        2.6981,
        142.77,
        0.56115,
        6.7879,
        1.9836,
        116.87,
        0.35057,
        3.1006,
    ],
    "reference": [
        7.6907,
        797.72,
        0.10275,
        0.74786,
        4.0851,
        214.55,
        0.36796,
        5.4201,
        4.0048,
        199.41,
        0.18892,
        2.6309,
        1.2132,
        76.262,
    ],
}


def weight_sums(module: FFModule) -> list[float]:
    """Per tensor: its L2 norm and a sum of |w| weighted by position, which a permutation of
    the weights changes too (sums of signed weights can cancel to near 0, where 5 figures are
    noise)."""
    sums = []
    for p in module.parameters():
        w = p.detach().double().flatten()
        position = 1.0 + torch.arange(w.numel(), dtype=torch.float64) % 7
        for value in (w.norm(), (w.abs() * position).sum()):
            sums.append(float(f"{value.item():.5g}"))
    return sums


def trained(name: str) -> FFModule:
    torch.manual_seed(0)
    module = make_module(**SETTINGS[name], whole_step=False)
    _fit(module)
    return module


@pytest.mark.parametrize("name", SETTINGS)
def test_a_seed_trains_the_weights_it_trained_before(name):
    assert weight_sums(trained(name)) == RECORDED[name]
