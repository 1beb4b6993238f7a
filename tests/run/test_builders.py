"""The one place that builds objects: each model gets only the settings its constructor takes."""

import pytest

from ff_lightning.errors import UserInputError
from ff_lightning.models.backprop import BPModule
from ff_lightning.models.ff import FFModule
from ff_lightning.run.builders import build, build_model
from tests.conftest import compose_cfg, tiny_overrides


@pytest.mark.parametrize(
    ("model", "expected", "layers"),
    [("ff_mlp", FFModule, [32, 32]), ("backprop_mlp", BPModule, [32, 32]), ("logreg", BPModule, [])],
)
def test_every_model_of_an_ff_experiment_sweep_builds_from_the_same_config(model, expected, layers, tmp_path):
    # best_mnist sets FF settings (hard negatives, SymBa, ...) that the other models never take
    cfg = compose_cfg(
        [*tiny_overrides("experiment=best_mnist"), "model.hidden_dims=[32,32]", f"model={model}"], tmp_path
    )
    datamodule = build(cfg.dataset)
    built = build_model(cfg, datamodule)
    assert type(built) is expected
    assert list(built.hidden_dims) == layers


def test_a_models_own_check_is_the_users_error(tmp_path):
    cfg = compose_cfg(tiny_overrides("model.peer_momentum=1.5"), tmp_path)
    with pytest.raises(UserInputError, match="model.peer_momentum"):
        build_model(cfg, build(cfg.dataset))
