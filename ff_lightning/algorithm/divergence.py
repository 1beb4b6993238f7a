"""When a training run counts as diverged.

Two signs, checked on the mean training loss of the epoch so far:
- it is not finite (NaN or inf);
- it is more than GROWTH_LIMIT times the loss of the untrained network (the first step's, before
  any update). The steps have then made the network far worse than knowing nothing: its weights
  and goodness are running away. A learning rate of 1e6 takes an FF network's loss from about
  1e3 to 1e17 without ever reaching inf, and its test error to chance.

A network that learns nothing stays near its first loss (tanh with an unreachable threshold),
and one that learns goes down, so neither is flagged: ending at chance level is a finding that
results.json records apart (`at_chance`), not a divergence.
"""

import math

GROWTH_LIMIT = 1e3
# below this the first loss is no scale to compare with (a SymBa loss starts near 0.7 a layer)
SMALLEST_REFERENCE = 1.0


def divergence(mean_loss: float, first_loss: float | None) -> str | None:
    """Why a run whose epoch-mean loss is `mean_loss` has diverged, or None if it has not."""
    if not math.isfinite(mean_loss):
        return f"the training loss became {mean_loss}"
    if first_loss is None or not math.isfinite(first_loss):
        return None
    reference = max(first_loss, SMALLEST_REFERENCE)
    if mean_loss > GROWTH_LIMIT * reference:
        return (
            f"the training loss grew to {mean_loss:.3g}, over {GROWTH_LIMIT:g} times the untrained "
            f"network's {first_loss:.3g}"
        )
    return None
