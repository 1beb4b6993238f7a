from functools import partial

import pytest
import torch
from torch import nn

from ff_lightning.data.synthetic import SyntheticDataModule
from ff_lightning.models.backprop import BPModule
from ff_lightning.models.channelwise import ChannelwiseFFModule
from ff_lightning.models.settings import ChannelwiseSettings
from tests.models.test_ff import RecordsBackward, fit_one_epoch

# 8 x 8 synthetic images: 3 x 3 kernels, pooled to 4 x 4, then 2 x 2
CONV = {"kernel_size": 3, "pool": [True, True]}


def make_module(cls: type = ChannelwiseFFModule, input_dim: int = 64, **kwargs) -> ChannelwiseFFModule:
    """A small channel-wise network on 8 x 8 images; `kwargs` are ChannelwiseSettings fields."""
    settings = {"hidden_dims": [20, 30], "conv": CONV, "optimizer": partial(torch.optim.Adam, lr=1e-3)}
    return cls(ChannelwiseSettings(**(settings | kwargs)), input_dim, 10, nn.ReLU())


class RecordsEachBackward(RecordsBackward, ChannelwiseFFModule):
    pass


def synthetic(num_train: int = 300) -> SyntheticDataModule:
    return SyntheticDataModule(num_train=num_train, num_test=100, input_dim=64, batch_size=100, val_size=0)


def test_training_keeps_every_layers_gradient_local():
    """Each conv layer's channel-wise loss reaches that layer only, the head's loss the head only."""
    torch.manual_seed(0)
    module = make_module(RecordsEachBackward)
    fit_one_epoch(module, synthetic())
    assert module.touched == [{"net.layers.0"}, {"net.layers.1"}, {"head"}] * 3


def test_goodness_prediction_picks_the_class_whose_channels_are_most_active():
    torch.manual_seed(0)
    module = make_module(goodness_from_layer=1)
    last = module.net.layers[1].conv
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
        last.bias[21:24] = 1.0  # channels 21-23: class 7's group (3 channels per class)
    assert module.predict_goodness(torch.rand(5, 64)).tolist() == [7] * 5


def test_learns_the_synthetic_classes_in_both_inference_modes():
    torch.manual_seed(0)
    module = make_module(goodness_from_layer=1)
    dm = synthetic(num_train=2000)
    fit_one_epoch(module, dm, epochs=3)
    x, y = dm.splits["test"]
    for mode in ("goodness", "head"):
        accuracy = (getattr(module, f"predict_{mode}")(x) == y).float().mean().item()
        assert accuracy > 0.9, (mode, accuracy)


def test_has_the_same_layers_as_its_backprop_twin():
    ff = make_module()
    bp = BPModule(64, 10, [20, 30], nn.ReLU(), partial(torch.optim.Adam), conv=CONV)
    assert [m.weight.shape for m in ff.hidden_layers] == [m.weight.shape for m in bp.hidden_layers]
    assert bp(torch.rand(4, 64)).shape == (4, 10)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"hidden_dims": [15, 30]}, "model.hidden_dims must be multiples of the 10 classes"),
        ({"conv": {"kernel_size": 4, "pool": [True, True]}}, "model.conv.kernel_size must be an odd"),
        ({"conv": {"kernel_size": 3, "pool": [True]}}, "model.conv.pool has 1 values"),
        ({"input_dim": 60}, "a conv model needs square images"),
        ({"lr_schedule": "step"}, "model.lr_schedule=step is not an option"),
        ({"conv": CONV | {"grouped": [True, False]}}, r"layer 0 reads 1 and has 20 channels; a grouped"),
        ({"conv": CONV | {"grouped": [True]}}, "model.conv.grouped has 1 values"),
        (
            {"conv": CONV | {"norm": "layer"}},
            "model.conv.norm=layer is not an option; choose one of: rms, batch",
        ),
        ({"class_goodness": "max"}, "model.class_goodness=max is not an option"),
        ({"layer_epochs": [1]}, "model.layer_epochs has 1 values but model.hidden_dims has 2 layers"),
        ({"layer_epochs": [1, 0]}, "every value in model.layer_epochs must be a positive integer, got 0"),
    ],
)
def test_settings_it_cannot_use_are_rejected_in_one_line(settings, message):
    with pytest.raises(ValueError, match=message):
        make_module(**settings)


# the published layout at the synthetic images' size: an ungrouped layer that mixes the classes'
# channels, then one grouped by class, BatchNorm, a class's goodness its channels' mean
PUBLISHED = {
    "hidden_dims": [20, 40, 40],
    "conv": {
        "kernel_size": 3,
        "pool": [False, True, False],
        "grouped": [False, False, True],
        "norm": "batch",
    },
    "class_goodness": "mean",
}


def test_the_published_layout_learns_the_synthetic_classes():
    torch.manual_seed(0)
    module = make_module(goodness_from_layer=2, **PUBLISHED)
    assert [layer.conv.groups for layer in module.net.layers] == [1, 1, 10]
    dm = synthetic(num_train=2000)
    fit_one_epoch(module, dm, epochs=3)
    module.eval()  # BatchNorm's running statistics, as in validation and test
    x, y = dm.splits["test"]
    for mode in ("goodness", "head"):
        accuracy = (getattr(module, f"predict_{mode}")(x) == y).float().mean().item()
        assert accuracy > 0.9, (mode, accuracy)


def test_a_layer_learns_only_in_its_first_layer_epochs():
    torch.manual_seed(0)
    module = make_module(RecordsEachBackward, layer_epochs=[1, 2])
    trainer = fit_one_epoch(module, synthetic(), epochs=2)
    # 3 minibatches an epoch: layer 0 learns in the first epoch only, layer 1 and the head in both
    first, second = [{"net.layers.0"}, {"net.layers.1"}, {"head"}] * 3, [{"net.layers.1"}, {"head"}] * 3
    assert module.touched == first + second
    # and its optimizer stepped only then
    steps = [int(next(iter(opt.state.values()))["step"]) for opt in trainer.optimizers]
    assert steps == [3, 6, 6]


def test_once_every_layer_is_frozen_the_head_reads_the_same_pass():
    torch.manual_seed(0)
    module = make_module(layer_epochs=[1, 1])
    calls = []
    module.net.layers[0].register_forward_hook(lambda *_: calls.append(module.current_epoch))
    fit_one_epoch(module, synthetic(), epochs=2)
    # 3 minibatches an epoch: two passes each while a layer learns (the layers', the head's), then one
    assert calls.count(0) == 6 and calls.count(1) == 3


@pytest.mark.parametrize("layout", [{}, PUBLISHED])
def test_both_inference_modes_from_one_pass_agree_with_each_alone(layout):
    torch.manual_seed(0)
    module = make_module(goodness_from_layer=1 if not layout else 2, **layout)
    fit_one_epoch(module, synthetic())
    module.eval()
    x = torch.rand(50, 64)
    by_goodness, by_head = module.predict_both(x)
    assert torch.equal(by_goodness, module.predict_goodness(x))
    assert torch.equal(by_head, module.predict_head(x))
