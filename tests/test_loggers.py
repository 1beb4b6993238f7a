import pytest
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from ff_lightning.loggers import as_list, logger_list, run_name, sweep_group, wandb_of
from tests.conftest import compose_cfg


def as_multirun(sweep_dir: str) -> None:
    compose_cfg([f"hydra.sweep.dir={sweep_dir}", "hydra.mode=MULTIRUN"])
    assert HydraConfig.get().mode == RunMode.MULTIRUN


@pytest.mark.parametrize(
    ("sweep_dir", "group"),
    [
        # a sweep script's folder: the ablation's name is kept with the time
        ("outputs/sweeps/threshold_ablation/2026-12-01_10-00-00", "threshold_ablation/2026-12-01_10-00-00"),
        # Hydra's default folder: the time alone
        ("outputs/multirun/2026-12-01_10-00-00_123456", "2026-12-01_10-00-00_123456"),
        # a folder the user named
        ("/tmp/lr_sweep", "lr_sweep"),
    ],
)
def test_a_sweeps_group_is_its_name(sweep_dir, group):
    as_multirun(sweep_dir)
    assert sweep_group() == group


def test_a_single_run_has_no_group():
    compose_cfg(["seed=1"])
    assert sweep_group() is None


def test_a_run_is_named_by_its_own_choices():
    compose_cfg(["activation=tanh", "seed=1", "hydra.run.dir=/tmp/x", "logger=wandb", "overwrite=true"])
    assert run_name() == "activation=tanh seed=1"
    compose_cfg([])
    assert run_name() == "defaults"


def test_logger_lists():
    assert as_list(None) == [] and as_list(False) == []
    loggers = logger_list(a="first", b="second")
    assert loggers == ["first", "second"] and wandb_of(loggers) is None
