import pytest

from ff_lightning.errors import UserInputError
from ff_lightning.validate import check_group_overrides, validate_config
from tests.conftest import CONF_DIR, compose_cfg


def test_unknown_group_option_names_setting_and_allowed_values():
    with pytest.raises(UserInputError) as err:
        check_group_overrides(["activation=relu,swish"], CONF_DIR)
    msg = str(err.value)
    assert "activation=swish" in msg and "relu, sigmoid, silu" in msg and "\n" not in msg


def test_known_options_and_plain_keys_pass():
    check_group_overrides(
        ["-m", "activation=relu,tanh", "threshold=pyramid", "model.hidden_dims=[1,2]", "seed=1"], CONF_DIR
    )


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (["model.hidden_dims=[500,0]"], "model.hidden_dims must hold positive integers"),
        (["model.hidden_dims=[]"], "model.hidden_dims must be a non-empty list"),
        (["model.optimizer.lr=-0.1"], "model.optimizer.lr must be a positive number"),
        (["model.optimizer.lr=0"], "model.optimizer.lr must be a positive number"),
        (["threshold=custom", "threshold.multipliers=[1,1]"], "threshold.multipliers has 2 values"),
        (["model.goodness_from_layer=4"], "model.goodness_from_layer must be between 0 and 3"),
        (["dataset.batch_size=0"], "dataset.batch_size must be a positive number"),
        (["trainer.max_epochs=0"], "trainer.max_epochs must be a positive number"),
    ],
)
def test_bad_settings_fail_with_one_line(overrides, fragment, tmp_path):
    cfg = compose_cfg(overrides, tmp_path)
    with pytest.raises(UserInputError) as err:
        validate_config(cfg)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_default_config_is_valid(tmp_path):
    validate_config(compose_cfg([], tmp_path))
