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
    """An explicit multiplier for every layer."""
    if len(multipliers) != num_layers:
        raise ValueError(
            f"threshold.multipliers has {len(multipliers)} values for {num_layers} layers; "
            "give one multiplier per layer"
        )
    return [float(k) for k in multipliers]


def thetas(schedule: ThresholdSchedule, units: list[int], epoch: int = 0) -> list[float]:
    """Absolute thresholds theta_l = k_l * units_l for the given epoch."""
    ks = schedule(len(units), epoch)
    if len(ks) != len(units):
        raise ValueError(f"threshold schedule gave {len(ks)} multipliers for {len(units)} layers")
    return [k * n for k, n in zip(ks, units, strict=True)]
