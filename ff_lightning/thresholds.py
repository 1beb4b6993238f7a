"""Threshold schedules: the multiplier k_l of every layer, with theta_l = k_l * units_l.

Each schedule is a function (num_layers, epoch) -> list of multipliers, built from
`conf/threshold/*.yaml` as a partial, so the model can ask again at every epoch.
"""

from collections.abc import Callable

ThresholdSchedule = Callable[[int, int], list[float]]

PYRAMID_SHAPES = ("linear", "geometric")


def constant(num_layers: int, epoch: int = 0, k: float = 1.0) -> list[float]:
    """The same multiplier for every layer (Hinton: k = 1, theta = number of units)."""
    return [float(k)] * num_layers


def pyramid(
    num_layers: int,
    epoch: int = 0,
    start: float = 0.3,
    end: float = 0.5,
    shape: str = "linear",
) -> list[float]:
    """Multipliers that go from `start` (first layer) to `end` (last layer).

    linear: equal steps; geometric: equal ratios. With start < end deeper layers get larger
    thresholds, the paper's pyramidal schedule.
    """
    if shape not in PYRAMID_SHAPES:
        raise ValueError(f"threshold.shape must be one of {', '.join(PYRAMID_SHAPES)}, got {shape!r}")
    if num_layers == 1:
        return [float(start)]
    steps = num_layers - 1
    if shape == "linear":
        return [start + (end - start) * i / steps for i in range(num_layers)]
    if start <= 0 or end <= 0:
        raise ValueError("threshold.start and threshold.end must be > 0 for a geometric pyramid")
    ratio = (end / start) ** (1.0 / steps)
    return [start * ratio**i for i in range(num_layers)]


def custom(num_layers: int, epoch: int = 0, multipliers: list[float] = ()) -> list[float]:
    """An explicit multiplier for every layer (validate checks that there is one per layer)."""
    return [float(k) for k in multipliers]


def inverted_pyramid(
    num_layers: int,
    epoch: int = 0,
    start: float = 0.5,
    end: float = 0.3,
    shape: str = "linear",
) -> list[float]:
    """Multipliers that fall with depth: a pyramid whose first layer has the largest threshold."""
    return pyramid(num_layers, epoch, start=start, end=end, shape=shape)


def scheduled(
    num_layers: int,
    epoch: int = 0,
    start: float = 0.15,
    factor: float = 1.1,
    every: int = 10,
) -> list[float]:
    """One multiplier for all layers that grows during training (the paper's code: 0.15, x1.1
    every 10 epochs), so early training separates positives from negatives at a low bar."""
    return [start * factor ** (epoch // every)] * num_layers


# the outputs a bounded activation module can give (lowest, highest): a unit bounded by
# B = max(|lowest|, |highest|) adds at most B^2 to goodness
ACTIVATION_RANGES = {
    "Tanh": (-1.0, 1.0),
    "Sigmoid": (0.0, 1.0),
    "Hardtanh": (-1.0, 1.0),
    "Softsign": (-1.0, 1.0),
}


def activation_range(activation: object) -> tuple[float, float] | None:
    """The (lowest, highest) output of a bounded activation module, None for an unbounded one."""
    return ACTIVATION_RANGES.get(type(activation).__name__)


def activation_bound(activation: object) -> float | None:
    """The bound on |output| of a bounded activation module, None for an unbounded one."""
    span = activation_range(activation)
    return None if span is None else max(abs(v) for v in span)


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
