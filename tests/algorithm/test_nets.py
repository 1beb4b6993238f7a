"""The conv layers' options (ff_lightning.algorithm.nets): class-wise groups, BatchNorm and the
channels-last layout."""

import copy

import torch
from torch import nn

from ff_lightning.algorithm.goodness import channelwise_loss, class_goodness
from ff_lightning.algorithm.nets import FFConvLayer, FFConvNet

CLASSES = 10


def grouped_layer() -> FFConvLayer:
    torch.manual_seed(0)
    # 20 input channels (2 per class) -> 40 (4 per class), grouped by class
    return FFConvLayer(20, 40, 3, pool=False, activation=nn.ReLU(), groups=CLASSES, norm="rms")


def test_a_grouped_layer_s_class_reads_only_its_own_class_s_channels_below():
    layer = grouped_layer()
    x = torch.rand(3, 20, 6, 6)
    changed = x.clone()
    changed[:, 4:6] += torch.rand(3, 2, 6, 6)  # class 2's input channels only
    # without the unit-RMS rescaling, which couples every channel through the sample's norm
    out, out_changed = (layer.activation(layer.conv(v)) for v in (x, changed))
    differs = (out != out_changed).flatten(2).any(dim=2).any(dim=0)  # per output channel
    assert differs[8:12].all() and not differs[:8].any() and not differs[12:].any()


def test_a_grouped_layer_s_class_loss_reaches_only_its_own_class_s_weights():
    layer = grouped_layer()
    out = layer(torch.rand(4, 20, 6, 6))
    # class 5's goodness alone
    class_goodness(out, CLASSES)[:, 5].sum().backward()
    grad = layer.conv.weight.grad.abs().flatten(1).sum(dim=1)  # per output channel
    assert (grad[20:24] > 0).all() and grad[:20].eq(0).all() and grad[24:].eq(0).all()
    # the weights of a grouped layer are (out, in / groups, k, k): no weight joins two classes
    assert layer.conv.weight.shape == (40, 2, 3, 3)


def test_a_grouped_layer_trains_on_the_channel_wise_loss_without_crossing_groups():
    layer = grouped_layer()
    x = torch.rand(8, 20, 6, 6)
    channelwise_loss(class_goodness(layer(x), CLASSES), torch.randint(0, CLASSES, (8,))).backward()
    assert layer.conv.weight.grad.shape == (40, 2, 3, 3)


def test_batch_norm_follows_the_activation_and_the_pool():
    torch.manual_seed(0)
    # no activation that could leave a channel at zero everywhere (no variance to scale)
    layer = FFConvLayer(1, 10, 3, pool=True, activation=nn.Identity(), norm="batch")
    out = layer(torch.rand(16, 1, 8, 8) * 5 + 3)
    assert out.shape == (16, 10, 4, 4)
    # in training mode, each channel standardised over the batch and positions
    assert torch.allclose(out.mean(dim=(0, 2, 3)), torch.zeros(10), atol=1e-5)
    assert torch.allclose(out.var(dim=(0, 2, 3), unbiased=False), torch.ones(10), atol=1e-2)


def test_the_head_reads_batch_normalised_layers_as_they_are():
    torch.manual_seed(0)
    conv = {"kernel_size": 3, "pool": [True], "grouped": None, "norm": "batch"}
    net = FFConvNet((1, 8, 8), [10], conv, nn.ReLU(), CLASSES).eval()
    x = torch.rand(2, 64)
    assert torch.equal(net.head_features(x, 0), net.activities(x)[0].flatten(1))


def test_label_planes_are_constant_or_carried_by_the_ink():
    conv = {"kernel_size": 3, "pool": [False], "grouped": None, "norm": "rms"}
    image = torch.rand(2, 1, 4, 4)
    code = torch.nn.functional.one_hot(torch.tensor([3, 7]), CLASSES).float()
    x = torch.cat([image.flatten(1), code], dim=1)
    constant = FFConvNet((1, 4, 4), [10], conv, nn.ReLU(), CLASSES, label_planes=CLASSES).first_input(x)
    ink = FFConvNet((1, 4, 4), [10], conv | {"label_planes": "ink"}, nn.ReLU(), CLASSES, label_planes=CLASSES)
    on_ink = ink.first_input(x)
    assert torch.equal(constant[:, 0], image[:, 0]) and torch.equal(on_ink[:, 0], image[:, 0])
    # the true label's plane: ones everywhere, or the image itself; every other plane zero
    assert torch.equal(constant[0, 1 + 3], torch.ones(4, 4)) and torch.equal(on_ink[0, 1 + 3], image[0, 0])
    assert constant[0, 1:].sum() == 16 and on_ink[1, 1:].sum() == image[1].sum()


def test_conv_layers_run_channels_last_with_the_values_of_nchw():
    torch.manual_seed(0)
    conv = {"kernel_size": 3, "pool": [False, True], "grouped": [False, True], "norm": "batch"}
    net = FFConvNet((1, 8, 8), [10, 20], conv, nn.ReLU(), CLASSES)
    nchw = copy.deepcopy(net).to(memory_format=torch.contiguous_format)
    assert all(layer.conv.weight.is_contiguous(memory_format=torch.channels_last) for layer in net.layers)
    x = torch.rand(6, 64)
    for out, expected in zip(net.activities(x), nchw.activities(x), strict=True):
        assert out.is_contiguous(memory_format=torch.channels_last)
        assert expected.is_contiguous()
        # the same sums in another order: fp32 rounding apart (about 1e-7 relative per term, a
        # few hundred terms per output), BatchNorm's unit scale keeps the difference far below the bound
        torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)
