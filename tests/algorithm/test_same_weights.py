"""The same seed trains the same weights as before a change to the training step's code.

The figures below are recorded with the step as it was before the per-layer step became a typed
configuration and negative sampling a strategy of its own; a refactoring that changes a random
draw, its order, or any arithmetic of a step fails here. Each figure sums one tensor after 1000
synthetic images (10 steps of 100). They hold for the per-layer steps through Lightning's
optimizers; tests/algorithm/test_whole_step.py holds the whole step to the same weights.

The figures carry 8 significant figures and are compared with a relative tolerance of 1e-5, not
rounded: a rounded figure near a rounding edge flips between CPUs (5.4929 on an Intel Xeon,
5.4929508 on an AMD EPYC). `python benchmarks/float_agreement.py` measures the bound: under
every kernel of one machine (an AMD EPYC with torch's AVX512, AVX2 and unvectorised kernels, MKL's
AVX2 and SSE4.2 matrix products, 1 and 2 threads) the sums spread by at most 4.6e-7 of their
value, and they agree with the 5-figure figures first recorded on an Intel Xeon to within those
figures' rounding. A real change is larger: the learning rate 0.01 % off moves some sum of every
setting by 2.1e-5 or more (0.1 % off: 2.1e-4 or more), which the last test checks."""

import pytest
import torch

from ff_lightning.models.ff import FFModule
from tests.models.test_ff import _fit, make_module

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
        2.4730393,
        265.50398,
        0.2764437,
        3.5015751,
        2.748908,
        147.61679,
        0.71082762,
        7.5537232,
        2.5439533,
        138.87605,
        0.56832511,
        7.0099347,
        1.9887659,
        118.11602,
        0.35524566,
        3.1609207,
    ],
    "best": [
        2.6647418,
        280.19244,
        0.33908163,
        4.2540961,
        2.4264198,
        132.61961,
        0.63199565,
        7.9958049,
        2.372756,
        131.65854,
        0.47616372,
        5.4929508,
        2.3036078,
        165.04606,
        0.36989806,
        3.5666521,
    ],
    "k_negatives": [
        2.7598,
        292.99444,
        0.3773242,
        4.7244774,
        2.5176889,
        136.03645,
        0.63004563,
        7.4668091,
        2.3722315,
        133.42109,
        0.51642949,
        5.6357064,
        1.9974236,
        118.26008,
        0.34453848,
        3.2677632,
    ],
    "uniform_k": [
        2.8203629,
        298.22362,
        0.33021908,
        4.1248674,
        2.545168,
        137.60721,
        0.74170069,
        9.3791127,
        2.4073604,
        131.6567,
        0.55827907,
        6.630213,
        1.9207888,
        114.77185,
        0.36117752,
        3.3309245,
    ],
    "peer_dropout": [
        2.4735235,
        265.41764,
        0.2761224,
        3.4837871,
        2.7563027,
        146.62993,
        0.74637279,
        7.781004,
        2.6980907,
        142.77249,
        0.56114578,
        6.7878972,
        1.9836002,
        116.86672,
        0.35056512,
        3.100619,
    ],
    "reference": [
        7.690661,
        797.71649,
        0.10275368,
        0.74785606,
        4.0851278,
        214.55337,
        0.36796354,
        5.4201003,
        4.0047703,
        199.40847,
        0.18891923,
        2.6308818,
        1.2132051,
        76.26227,
    ],
}

# See the module's doc: 20 times the largest spread measured between CPU kernels, and half of
# what the learning rate 0.01 % off moves
RELATIVE_TOLERANCE = 1e-5


def weight_sums(module: FFModule, digits: int | None = 8) -> list[float]:
    """Per tensor: its L2 norm and a sum of |w| weighted by position, which a permutation of
    the weights changes too (sums of signed weights can cancel to near 0, where a relative
    tolerance means nothing). Rounded to `digits` significant figures to record; unrounded with
    None."""
    sums = []
    for p in module.parameters():
        w = p.detach().double().flatten()
        position = 1.0 + torch.arange(w.numel(), dtype=torch.float64) % 7
        for value in (w.norm(), (w.abs() * position).sum()):
            sums.append(value.item() if digits is None else float(f"{value.item():.{digits}g}"))
    return sums


def trained(name: str) -> FFModule:
    torch.manual_seed(0)
    module = make_module(**SETTINGS[name], whole_step=False)
    _fit(module)
    return module


@pytest.mark.parametrize("name", SETTINGS)
def test_a_seed_trains_the_weights_it_trained_before(name):
    sums = weight_sums(trained(name), digits=None)
    assert sums == pytest.approx(RECORDED[name], rel=RELATIVE_TOLERANCE, abs=0)


def test_the_tolerance_catches_the_learning_rate_off_by_a_hundredth_of_a_percent():
    torch.manual_seed(0)
    module = make_module(lr=1e-2 * 1.0001, whole_step=False)
    _fit(module)
    sums = weight_sums(module, digits=None)
    assert sums != pytest.approx(RECORDED["paper"], rel=RELATIVE_TOLERANCE, abs=0)
