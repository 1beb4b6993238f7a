import inspect
from functools import partial

import pytest
from hydra.utils import get_method
from omegaconf import OmegaConf
from torch import nn

from ff_lightning.algorithm.activations import activation_bound
from ff_lightning.algorithm.thresholds import (
    constant,
    custom,
    inverted_pyramid,
    pyramid,
    scheduled,
    thetas,
)
from ff_lightning.declarations import declared_parameters
from ff_lightning.errors import UserInputError
from ff_lightning.run.validate import validate_config
from tests.conftest import CONF_DIR, compose_cfg


def test_constant_defaults_to_number_of_units():
    assert constant(4) == [1.0, 1.0, 1.0, 1.0]
    assert thetas(constant, [2000, 2000, 2000, 2000]) == [2000.0] * 4


def test_constant_multiplier():
    assert constant(3, k=0.5) == [0.5, 0.5, 0.5]


def test_linear_pyramid_matches_hand_computed_list():
    assert pyramid(5, start=0.3, end=0.5) == pytest.approx([0.3, 0.35, 0.4, 0.45, 0.5])
    assert thetas(lambda n, e: pyramid(n, e, start=0.3, end=0.5), [2000, 1000, 500]) == pytest.approx(
        [600.0, 400.0, 250.0]
    )


def test_geometric_pyramid_matches_hand_computed_list():
    assert pyramid(3, start=0.25, end=1.0, shape="geometric") == pytest.approx([0.25, 0.5, 1.0])


def test_pyramid_of_one_layer_is_its_start():
    assert pyramid(1, start=0.3, end=0.5) == [0.3]


def test_a_bad_shape_is_refused_by_the_schedules_own_declaration(tmp_path):
    # thresholds.pyramid declares its shapes in its annotation; the check before a run reads it
    cfg = compose_cfg(["threshold=pyramid", "threshold.shape=spiral"], tmp_path)
    with pytest.raises(
        UserInputError, match="threshold.shape=spiral is not an option; choose one of: linear, geometric"
    ):
        validate_config(cfg)
    cfg = compose_cfg(["threshold=scheduled", "threshold.every=0"], tmp_path)
    with pytest.raises(UserInputError, match="threshold.every must be a positive integer, got 0"):
        validate_config(cfg)


@pytest.mark.parametrize("option", sorted(p.stem for p in (CONF_DIR / "threshold").glob("*.yaml")))
def test_every_schedule_declares_what_each_of_its_settings_allows(option):
    # a schedule's settings (all but num_layers and epoch) carry their range or words, so that a
    # new schedule is checked before a run with nothing added elsewhere
    schedule = get_method(OmegaConf.load(CONF_DIR / "threshold" / f"{option}.yaml")._target_)
    words, numbers, lists = declared_parameters("threshold", schedule)
    settings = [
        name for name in inspect.signature(schedule).parameters if name not in ("num_layers", "epoch")
    ]
    assert settings and {f"threshold.{name}" for name in settings} == set(words) | set(numbers) | set(lists)


def test_custom_needs_one_multiplier_per_layer():
    assert custom(2, multipliers=[0.2, 0.7]) == [0.2, 0.7]
    with pytest.raises(ValueError, match="gave 3 multipliers for 2 layers"):
        thetas(partial(custom, multipliers=[1, 2, 3]), [10, 10])


def test_inverted_pyramid_falls_with_depth():
    assert inverted_pyramid(3, start=0.5, end=0.3) == pytest.approx([0.5, 0.4, 0.3])


def test_scheduled_grows_every_ten_epochs():
    assert scheduled(2, epoch=0) == pytest.approx([0.15, 0.15])
    assert scheduled(2, epoch=9) == pytest.approx([0.15, 0.15])
    assert scheduled(2, epoch=10) == pytest.approx([0.165, 0.165])
    assert scheduled(1, epoch=25) == pytest.approx([0.1815])
    assert scheduled(1, epoch=7, start=1.0, factor=2.0, every=3) == pytest.approx([4.0])


def test_range_fraction_caps_thresholds_of_bounded_activations_only():
    assert activation_bound(nn.Tanh()) == 1.0 and activation_bound(nn.Sigmoid()) == 1.0
    assert activation_bound(nn.ReLU()) is None
    assert thetas(constant, [100, 200], bound=1.0, range_fraction=0.5) == [50.0, 100.0]
    assert thetas(constant, [100, 200], bound=None, range_fraction=0.5) == [100.0, 200.0]
    low = partial(constant, k=0.2)
    assert thetas(low, [100], bound=1.0, range_fraction=0.5) == [20.0]
