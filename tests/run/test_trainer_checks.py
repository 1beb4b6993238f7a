"""The Trainer settings and the machine, checked before a run folder exists (the refusals
themselves, through check_jobs and train.py: tests/test_cli.py's BAD_INPUT)."""

import inspect

from lightning.pytorch import Trainer

from ff_lightning import footprint
from ff_lightning.run.trainer_checks import SUITE_TRAINER_ARGUMENTS
from tests.conftest import compose_cfg


def test_the_suites_trainer_keys_are_trainer_arguments():
    # the fast path trusts these without importing Lightning: each must be a real argument
    assert SUITE_TRAINER_ARGUMENTS <= set(inspect.signature(Trainer.__init__).parameters)


def test_the_paper_network_is_estimated_from_its_config(tmp_path):
    cfg = compose_cfg(["experiment=paper_mnist"], tmp_path)
    # 784 -> 4 x 2000 with biases, and a head over all four layers' activities
    weights = 784 * 2000 + 2000 + 3 * (2000 * 2000 + 2000) + 8000 * 10 + 10
    assert footprint.parameters(cfg) == weights
    assert footprint.checkpoint_bytes(cfg) == 3 * 4 * weights
    # the state twice, the gradients and the activations: under 1 GiB for this network
    assert 7 * 4 * weights < footprint.memory_bytes(cfg) < 2**30
    # conv models are not estimated
    assert footprint.parameters(compose_cfg(["model=ff_cnn"], tmp_path)) is None
