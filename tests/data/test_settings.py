"""The datasets' declarations (ff_lightning.data.settings) against their yaml and their code."""

import inspect
from dataclasses import fields

import pytest
from hydra.utils import get_class
from omegaconf import OmegaConf

from ff_lightning.data.settings import DATASETS, LoaderSettings, VectorSettings, dataset_settings
from ff_lightning.errors import UserInputError
from tests.conftest import compose_cfg

# yaml keys that are paths or switches, not settings with a range
_NOT_DECLARED = {"_target_", "data_dir", "cache_dir", "download", "standardize", "vectors"}


def _arguments(cls: type) -> set[str]:
    """Every keyword a datamodule takes, its base classes' included (they receive **kwargs)."""
    return {
        p for klass in cls.__mro__ if "__init__" in vars(klass) for p in inspect.signature(klass).parameters
    }


@pytest.mark.parametrize("option", ["mnist", "imdb", "synthetic"])
def test_each_dataset_declares_exactly_its_yaml_settings(option):
    cfg = compose_cfg([f"dataset={option}"])
    declared = {f.name for f in fields(dataset_settings(cfg.dataset._target_))}
    assert set(cfg.dataset) - _NOT_DECLARED == declared
    # and its datamodule takes every one of them
    assert declared <= _arguments(get_class(cfg.dataset._target_))


def test_every_declared_dataset_is_a_config_option():
    targets = {compose_cfg([f"dataset={o}"]).dataset._target_ for o in ("mnist", "imdb", "synthetic")}
    assert set(DATASETS) == targets


def test_a_dataset_without_a_declaration_is_checked_as_every_dataset():
    assert dataset_settings("my_ff.stripes.StripesDataModule") is LoaderSettings


def test_the_vector_settings_declare_imdb_yaml_keys():
    vectors = OmegaConf.to_container(compose_cfg(["dataset=imdb"]).dataset.vectors)
    assert set(vectors) == {f.name for f in fields(VectorSettings)}
    VectorSettings(**vectors)  # the shipped settings pass their own checks


def test_a_refused_vector_setting_is_one_line():
    with pytest.raises(UserInputError, match=r"^dataset.vectors.negative must be a positive integer, got 0$"):
        VectorSettings(negative=0)
