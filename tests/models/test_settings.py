import inspect
from dataclasses import fields

import pytest
import torch
from omegaconf import OmegaConf

from ff_lightning.declarations import Number, check, declared
from ff_lightning.errors import UserInputError
from ff_lightning.models.ff import FFModule
from ff_lightning.models.settings import FFSettings
from ff_lightning.run.builders import build, build_model
from ff_lightning.run.jobs import check_jobs
from tests.conftest import CONF_DIR, compose_cfg, tiny_overrides

SETTINGS = [f for f in fields(FFSettings) if f.name != "_target_"]


@pytest.mark.parametrize("f", SETTINGS, ids=lambda f: f.name)
def test_every_word_or_number_setting_declares_what_it_allows(f):
    # a new FF setting is declared with its words or range, so that validate and FFModule check it
    if f.type in (str, int, float, float | None):
        words, numbers = declared("model", FFSettings)
        assert f"model.{f.name}" in words or f"model.{f.name}" in numbers


def test_ffmodule_is_built_from_its_typed_settings(tmp_path):
    # a knob is one FFSettings field: the composed config's value reaches the module through the
    # settings object, with no constructor argument of its own
    params = inspect.signature(FFModule).parameters
    assert params["settings"].annotation is FFSettings and len(params) <= 8
    cfg = compose_cfg(tiny_overrides("model.objective=symba", "model.symba_alpha=2.5"), tmp_path)
    datamodule = build(cfg.dataset)
    datamodule.prepare_splits()
    model = build_model(cfg, datamodule)
    assert isinstance(model.settings, FFSettings) and model.settings.symba_alpha == 2.5
    assert {step.symba_alpha for step in model.step_settings.layer_steps} == {2.5}
    # the optimizer's config became its partial class
    assert isinstance(model.optimizer_factory(model.head.parameters()), torch.optim.Adam)


def test_model_ff_mlp_is_the_schema_with_its_defaults(tmp_path):
    cfg = compose_cfg(["model=ff_mlp"], tmp_path)
    assert OmegaConf.to_container(cfg.model) == OmegaConf.to_container(OmegaConf.structured(FFSettings))
    assert OmegaConf.get_type(cfg.model) is FFSettings


@pytest.mark.parametrize(
    ("override", "line"),
    [
        ("model.symba_alpha=abc", "model.symba_alpha must be a positive number, got 'abc'"),
        ("model.negatives_per_image=2.5", "model.negatives_per_image must be a positive integer, got 2.5"),
        ("model.hidden_dims=[500,x]", "every value in model.hidden_dims must be a positive integer, got 'x'"),
        ("model.compile_step=maybe", "model.compile_step: Value 'maybe' is not a valid bool (type str)"),
        ("model.input_dropout=1", "model.input_dropout must be a number in [0, 1), got 1.0"),
    ],
)
def test_a_value_of_the_wrong_type_or_range_names_the_setting(override, line):
    with pytest.raises(UserInputError) as err:
        check_jobs(["experiment=smoke", override], CONF_DIR)
    assert str(err.value) == line


def test_check_reads_the_declarations():
    check("model", FFSettings, {"objective": "symba", "dropout": 0.5, "unknown": object()})
    with pytest.raises(
        ValueError, match=r"^model.init=he is not an option; choose one of: default, reference$"
    ):
        check("model", FFSettings, {"init": "he"})
    assert Number(integer=True, low=1).describe() == "an integer >= 1"
