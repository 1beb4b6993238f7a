import json

import torch

from ff_lightning.run.train import train
from tests.conftest import compose_cfg, tiny_overrides


def bp_overrides(*extra: str) -> list[str]:
    return [o for o in tiny_overrides("model=backprop_mlp", *extra) if "goodness_from_layer" not in o]


def test_backprop_twin_trains_and_writes_the_same_fields(tmp_path):
    results = train(compose_cfg(bp_overrides("trainer.max_epochs=3"), tmp_path))
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["status"] == "completed"
    assert on_disk["test/error_goodness"] == on_disk["test/error_head"] == on_disk["metrics"]["test/error"]
    assert on_disk["test/error_goodness"] < 50.0  # the synthetic clusters are easy
    assert set(results["weights"]) == {"layer0", "layer1"}  # hidden layers only, as for FF
    assert results["weights"]["layer0"]["shape"] == [32, 64]


def test_backprop_divergence_is_recorded(tmp_path):
    results = train(compose_cfg(bp_overrides("model.optimizer.lr=1e30"), tmp_path))
    assert results["status"] == "diverged"


def test_backprop_uses_the_chosen_activation(tmp_path):
    from hydra.utils import instantiate

    cfg = compose_cfg(["model=backprop_mlp", "activation=tanh", "model.hidden_dims=[8]"], tmp_path)
    model = instantiate(cfg.model, input_dim=4, num_classes=3, activation=instantiate(cfg.activation))
    assert isinstance(model.net[1], torch.nn.Tanh)
    assert model(torch.zeros(2, 4)).shape == (2, 3)
