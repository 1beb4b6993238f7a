"""Learning-rate schedules over epochs, as a factor of each optimizer's configured rate.

Not torch's LR schedulers: under manual optimization Lightning steps none of them, a LambdaLR
would wrap this same function, and torch's CosineAnnealingLR steps its rate recursively, which
rounds differently from this closed form. The factor is set from the epoch number at each
epoch's start, so a resumed run needs no scheduler state from its checkpoint (older checkpoints
have none), and it is logged as `train/lr_factor`."""

import math

LR_SCHEDULES = ("constant", "linear_decay", "linear_cooldown", "cosine")


def lr_factor(schedule: str, epoch: int, max_epochs: int) -> float:
    """The factor for epoch `epoch` (0-based) of `max_epochs`.

    linear_decay: Hinton's: the full rate for the first half, then down linearly, reaching 0
    at the end of the last epoch (the last epoch runs at 2/max_epochs of the rate).
    linear_cooldown: loeweX/Forward-Forward's: the full rate up to epoch max_epochs // 2, then
    2 (1 + max_epochs - epoch) / max_epochs (its last epoch at 4 / max_epochs of the rate).
    cosine: from 1 down to near 0 along half a cosine."""
    if schedule == "constant":
        return 1.0
    if schedule == "linear_decay":
        return min(1.0, 2.0 * (max_epochs - epoch) / max_epochs)
    if schedule == "linear_cooldown":
        return 1.0 if epoch <= max_epochs // 2 else 2.0 * (1 + max_epochs - epoch) / max_epochs
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * epoch / max_epochs))
    raise ValueError(f"model.lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {schedule!r}")
