import math

import pytest

from ff_lightning.algorithm.divergence import GROWTH_LIMIT, divergence


@pytest.mark.parametrize("loss", [math.nan, math.inf, -math.inf])
def test_a_loss_that_is_not_finite_has_diverged(loss):
    assert divergence(loss, 10.0).startswith("the training loss became")


def test_a_loss_far_above_the_untrained_networks_has_diverged():
    assert divergence(GROWTH_LIMIT * 800.0 + 1, 800.0) is not None
    assert divergence(GROWTH_LIMIT * 800.0, 800.0) is None
    assert divergence(900.0, 800.0) is None  # a run that learns nothing stays near its first loss


def test_a_small_first_loss_is_no_scale():
    # a SymBa loss starts near 0.7 a layer: 1000 times that is still an ordinary loss
    assert divergence(600.0, 0.6) is None
    assert divergence(GROWTH_LIMIT + 1, 0.6) is not None


def test_without_a_first_loss_only_non_finite_counts():
    assert divergence(1e30, None) is None
    assert divergence(math.nan, None) is not None
