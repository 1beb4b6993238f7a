"""Threshold schedules: the multiplier k_l of every layer, with theta_l = k_l * units_l.

Each schedule is a function (num_layers, epoch, **its settings) -> list of multipliers, built
from `conf/threshold/*.yaml` as a partial, so the model can ask again at every epoch. A setting
declares what it allows in its annotation (`k: Annotated[float, POSITIVE]`, a Number's range or
a tuple of words): the checks before a run are built from it (settings.declared_parameters).

Kept free of torch, so that a command line is checked in a second.
"""

from collections.abc import Callable
from typing import Annotated

from ff_lightning.declarations import POSITIVE, POSITIVE_INT

ThresholdSchedule = Callable[[int, int], list[float]]

PYRAMID_SHAPES = ("linear", "geometric")
Multiplier = Annotated[float, POSITIVE]


def constant(num_layers: int, epoch: int = 0, k: Multiplier = 1.0) -> list[float]:
    """The same multiplier for every layer (Hinton: k = 1, theta = number of units)."""
    return [float(k)] * num_layers


def pyramid(
    num_layers: int,
    epoch: int = 0,
    start: Multiplier = 0.3,
    end: Multiplier = 0.5,
    shape: Annotated[str, PYRAMID_SHAPES] = "linear",
) -> list[float]:
    """Multipliers that go from `start` (first layer) to `end` (last layer).

    linear: equal steps; geometric: equal ratios. With start < end deeper layers get larger
    thresholds, the paper's pyramidal schedule.
    """
    if num_layers == 1:
        return [float(start)]
    steps = num_layers - 1
    if shape == "linear":
        return [start + (end - start) * i / steps for i in range(num_layers)]
    ratio = (end / start) ** (1.0 / steps)
    return [start * ratio**i for i in range(num_layers)]


def custom(
    num_layers: int, epoch: int = 0, multipliers: Annotated[list[float], POSITIVE] = ()
) -> list[float]:
    """An explicit multiplier for every layer (validate checks that there is one per layer)."""
    return [float(k) for k in multipliers]


def inverted_pyramid(
    num_layers: int,
    epoch: int = 0,
    start: Multiplier = 0.5,
    end: Multiplier = 0.3,
    shape: Annotated[str, PYRAMID_SHAPES] = "linear",
) -> list[float]:
    """Multipliers that fall with depth: a pyramid whose first layer has the largest threshold."""
    return pyramid(num_layers, epoch, start=start, end=end, shape=shape)


def scheduled(
    num_layers: int,
    epoch: int = 0,
    start: Multiplier = 0.15,
    factor: Annotated[float, POSITIVE] = 1.1,
    every: Annotated[int, POSITIVE_INT] = 10,
) -> list[float]:
    """One multiplier for all layers that grows during training (the paper's code: 0.15, x1.1
    every 10 epochs), so early training separates positives from negatives at a low bar."""
    return [start * factor ** (epoch // every)] * num_layers


def thetas(
    schedule: ThresholdSchedule,
    units: list[int],
    epoch: int = 0,
    bound: float | None = None,
    range_fraction: float | None = None,
) -> list[float]:
    """Absolute thresholds theta_l = k_l * units_l for the given epoch.

    With a bounded activation (|a| <= bound) the largest reachable goodness is units * bound^2,
    so theta = units is out of reach for positives. `range_fraction` caps every theta at that
    fraction of the reachable maximum; it changes nothing for unbounded activations.
    """
    ks = schedule(len(units), epoch)
    if len(ks) != len(units):
        raise ValueError(f"threshold schedule gave {len(ks)} multipliers for {len(units)} layers")
    out = [k * n for k, n in zip(ks, units, strict=True)]
    if bound is not None and range_fraction is not None:
        out = [min(t, range_fraction * n * bound**2) for t, n in zip(out, units, strict=True)]
    return out
