import pytest

from ff_lightning.algorithm.lr_schedules import lr_factor


def test_linear_decay_is_flat_for_half_the_run_then_falls_to_zero():
    factors = [lr_factor("linear_decay", e, 10) for e in range(10)]
    assert factors == pytest.approx([1, 1, 1, 1, 1, 1.0, 0.8, 0.6, 0.4, 0.2])


def test_linear_cooldown_is_the_reference_s_one_epoch_later():
    # loeweX/Forward-Forward: full through epoch epochs // 2, then 2 (1 + epochs - epoch) / epochs
    factors = [lr_factor("linear_cooldown", e, 10) for e in range(10)]
    assert factors == pytest.approx([1, 1, 1, 1, 1, 1, 1.0, 0.8, 0.6, 0.4])


def test_cosine_and_constant():
    assert [lr_factor("cosine", e, 4) for e in range(4)] == pytest.approx(
        [1.0, 0.853553, 0.5, 0.146447], abs=1e-6
    )
    assert {lr_factor("constant", e, 4) for e in range(4)} == {1.0}
    with pytest.raises(ValueError, match="must be one of constant, linear_decay, linear_cooldown, cosine"):
        lr_factor("step", 0, 4)
