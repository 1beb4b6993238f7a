import re

import pytest

from ff_lightning.errors import UserInputError
from ff_lightning.run.command_line import check_group_overrides, check_setting_keys
from ff_lightning.run.jobs import check_jobs
from ff_lightning.run.validate import (
    FRACTION,
    NUMBER_LISTS,
    NUMBERS,
    POSITIVE,
    POSITIVE_INT,
    Number,
    validate_config,
)
from tests.conftest import CONF_DIR, compose_cfg


def test_unknown_group_option_names_setting_and_allowed_values():
    with pytest.raises(UserInputError) as err:
        check_group_overrides(["activation=relu,swish"], CONF_DIR)
    msg = str(err.value)
    assert "activation=swish" in msg and "relu, relu_straight_through, sigmoid, silu" in msg
    assert "\n" not in msg


def test_known_options_and_plain_keys_pass():
    check_group_overrides(
        ["-m", "activation=relu,tanh", "threshold=pyramid", "model.hidden_dims=[1,2]", "seed=1"], CONF_DIR
    )


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (["model.hidden_dims=[500,0]"], "every value in model.hidden_dims must be a positive integer"),
        (["model.hidden_dims=[]"], "model.hidden_dims must be a non-empty list"),
        (["model.optimizer.lr=-0.1"], "model.optimizer.lr must be a positive number"),
        (["model.optimizer.lr=0"], "model.optimizer.lr must be a positive number"),
        (["threshold=custom", "threshold.multipliers=[1,1]"], "threshold.multipliers has 2 values"),
        (["model.goodness_from_layer=4"], "model.goodness_from_layer must be between 0 and 3"),
        (["dataset.batch_size=0"], "dataset.batch_size must be a positive integer"),
        (["trainer.max_epochs=0"], "trainer.max_epochs must be a positive integer"),
        (["dataset.batches_per_step=0"], "dataset.batches_per_step must be an integer >= 1"),
        (["model=backprop_mlp", "dataset.batches_per_step=4"], "needs model=ff_mlp"),
        (["dataset=synthetic", "trick=jitter"], "(trick=jitter) shifts MNIST images and needs dataset=mnist"),
        (["dataset.label_scale=0"], "dataset.label_scale must be a positive number or null, got 0"),
        (["dataset.label_scale=-1.0"], "dataset.label_scale must be a positive number or null, got -1.0"),
        (["dataset.label_scale=abc"], "dataset.label_scale must be a positive number or null, got 'abc'"),
        (["dataset.label_scale=true"], "dataset.label_scale must be a positive number or null, got True"),
        (["dataset=imdb", "dataset.label_scale=0"], "dataset.label_scale must be a positive number or null"),
    ],
)
def test_bad_settings_fail_with_one_line(overrides, fragment, tmp_path):
    cfg = compose_cfg(overrides, tmp_path)
    with pytest.raises(UserInputError) as err:
        validate_config(cfg)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_every_job_of_a_sweep_over_lists_of_tricks_is_checked_before_any_runs():
    check_jobs(["-m", "experiment=paper_mnist", "trick=none,[jitter,best]", "seed=0,1"], CONF_DIR)
    with pytest.raises(UserInputError, match=r"\(trick=jitter\) shifts MNIST images and needs dataset=mnist"):
        check_jobs(["-m", "dataset=synthetic", "trick=best,[symba,jitter]"], CONF_DIR)


def test_default_config_is_valid(tmp_path):
    validate_config(compose_cfg([], tmp_path))


def test_unknown_setting_names_the_ones_that_exist():
    with pytest.raises(UserInputError) as err:
        check_setting_keys(["trainer.max_epoch=3"], CONF_DIR)
    msg = str(err.value)
    assert msg.startswith("trainer.max_epoch is not a setting; trainer has:") and "max_epochs" in msg
    assert "\n" not in msg


def test_setting_keys_follow_the_chosen_group_option():
    check_setting_keys(["model=ff_mlp", "model.goodness_from_layer=0"], CONF_DIR)
    with pytest.raises(UserInputError, match="model.goodness_from_layer is not a setting; model has"):
        check_setting_keys(["model=backprop_mlp,ff_mlp", "model.goodness_from_layer=0"], CONF_DIR)
    check_setting_keys(["+model.extra=1", "hydra.run.dir=x", "experiment=smoke", "seed=2"], CONF_DIR)


def test_settings_that_resolve_only_in_a_run_or_are_list_items_exist():
    # paths.output_dir is ${hydra:runtime.output_dir}: it exists, but resolves only inside a run
    check_setting_keys(["paths.output_dir=/tmp/x", "model.hidden_dims.1=30"], CONF_DIR)
    with pytest.raises(UserInputError, match="model.hidden_dims.9 is not a setting"):
        check_setting_keys(["model.hidden_dims.9=30"], CONF_DIR)


def test_unknown_trick_in_a_list_lists_the_tricks():
    with pytest.raises(
        UserInputError, match=r"^trick=decay is not an option; choose one of: all_labels, best, "
    ):
        check_group_overrides(["trick=best,[symba,decay]"], CONF_DIR)


@pytest.mark.parametrize(
    ("spec", "good", "bad", "described"),
    [
        (POSITIVE, [1e-9, 3], [0, -1, float("nan"), float("inf"), True, "1"], "a positive number"),
        (POSITIVE_INT, [1, 7], [0, 1.0, 2.5, False], "a positive integer"),
        (FRACTION, [0, 0.5], [1, -0.1], "a number in [0, 1)"),
        (Number(integer=True, low=0, high=13), [0, 13], [14, -1], "an integer from 0 to 13"),
        (Number(low=0, open_low=True, nullable=True), [None, 2.0], [0], "a positive number or null"),
    ],
)
def test_number_specs_allow_and_describe(spec, good, bad, described):
    assert all(spec.allows(v) for v in good)
    assert not any(spec.allows(v) for v in bad)
    assert spec.describe() == described


def test_every_number_setting_names_a_key_of_some_config():
    # a misspelt key in NUMBERS would silently check nothing
    from omegaconf import OmegaConf

    options = [[], ["dataset=imdb"], ["dataset=synthetic"], ["threshold=scheduled"], ["threshold=custom"]]
    options += [["weight_averaging=ema", "threshold=pyramid"], ["model=backprop_mlp"], ["model=ff_cnn"]]
    options += [["model=ff_cnn_channelwise"]]
    found = set()
    for overrides in options:
        cfg = compose_cfg(overrides)
        for key in [*NUMBERS, *NUMBER_LISTS]:
            if OmegaConf.select(cfg, key, default="<absent>") != "<absent>":
                found.add(key)
    optional = {"model.optimizer.momentum", "model.optimizer.eps", "model.head_optimizer.lr"}
    optional |= {"model.head_optimizer.weight_decay", "model.head_optimizer.momentum"}
    assert (set(NUMBERS) | set(NUMBER_LISTS)) - found - optional == set()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model=ff_cnn", "model.conv.kernel_size=4"], "model.conv.kernel_size must be an odd"),
        (["model=ff_cnn", "model.conv.pool=[true]"], "model.conv.pool has 1 values but model.hidden_dims"),
        (["model=ff_cnn_channelwise", "model.hidden_dims=[15,30,60]"], "multiples of the 10 classes"),
        (["model=ff_cnn_channelwise", "trainer=ddp_cpu"], "model=ff_cnn_channelwise trains in one process"),
        (["model=backprop_cnn", "dataset=imdb"], "images: use dataset=mnist, not IMDbDataModule"),
        (["experiment=cwcomp_mnist", "model.layer_epochs=[2,3]"], "model.layer_epochs has 2 values"),
        (
            ["experiment=cwcomp_mnist", "model.layer_epochs=[2,3,0,1]"],
            "model.layer_epochs must be a positive",
        ),
        (
            ["experiment=cwcomp_mnist", "model.conv.grouped=[true,true,false,true]"],
            "layer 0 reads 1 and has 20",
        ),
        (["experiment=cwcomp_mnist", "model.conv.norm=group"], "model.conv.norm=group is not an option"),
        (["model=ff_cnn", "model.conv.label_planes=paint"], "model.conv.label_planes=paint is not an option"),
        (
            ["experiment=cwcomp_mnist", "model=backprop_cnn", "model.conv.grouped=[false]"],
            "conv.grouped has 1",
        ),
    ],
)
def test_conv_settings_that_do_not_fit_stop_before_anything_is_written(overrides, message, tmp_path):
    with pytest.raises(UserInputError, match=re.escape(message)):
        check_jobs([*overrides, f"hydra.run.dir={tmp_path}/run"], CONF_DIR)
    assert not (tmp_path / "run").exists()
