"""The FF model's settings (model=ff_mlp), typed: each one's type, default, and allowed words or
range, declared once, in FFSettings. Hydra checks the types when it composes a config
(conf/model/ff_mlp.yaml extends this schema) and ff_lightning.run.validate checks the words and
ranges before anything trains; FFModule checks the same declarations when built from Python.

Kept free of torch, so that a command line is checked in a second."""

import math
from dataclasses import dataclass, field
from typing import Any

from ff_lightning.algorithm.lr_schedules import LR_SCHEDULES
from ff_lightning.declarations import (
    FRACTION,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    Number,
    check,
    list_setting,
    setting,
)

# the layer objectives: Hinton's threshold loss, SymBa on G_pos - G_neg, SymBa on log(G_pos / G_neg)
OBJECTIVES = ("threshold", "symba", "symba_log")
# how the threshold loss averages over a batch's positive and negative rows
LOSS_AVERAGES = ("sum", "mean")
# wrong labels: uniform, or hard (in proportion to the softmax head's belief in them)
NEGATIVES = ("uniform", "hard")
# weights: PyTorch's default, or loeweX/Forward-Forward's
INITS = ("default", "reference")
# a conv layer's normalisation: of its input to unit RMS, or BatchNorm of its output
CONV_NORMS = ("rms", "batch")
# how model=ff_cnn writes the label beside the image
LABEL_PLANES = ("constant", "ink")
# a class's goodness in a channel-wise layer: its channels' squared activity summed or averaged
CLASS_GOODNESS = ("sum", "mean")
# torch.compile's modes
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def _adam() -> dict[str, Any]:
    # one of these per FF layer. fused: one multi-threaded kernel per step for all tensors (CPU and
    # GPU) instead of one per tensor
    return {
        "_target_": "torch.optim.Adam",
        "_partial_": True,
        "lr": 0.001,
        "weight_decay": 0.0,
        "fused": True,
    }


@dataclass
class ConvSettings:
    """A convolutional FF network's layer shapes (model=ff_cnn, ff_cnn_channelwise, backprop_cnn);
    model.hidden_dims are then the layers' channels."""

    # every layer's square kernel, odd, so that the padding keeps the image's size
    kernel_size: int = setting(3, POSITIVE_INT)
    # a 2 x 2 max-pool after each layer or not, one true/false per layer
    pool: list[bool] = field(default_factory=lambda: [True, True, True])
    # class-wise grouped convolutions, one true/false per layer (null: none): a grouped layer's
    # channels split into one group per class, each group reading only the same class's channels
    # of the layer below (the "CFSE" blocks of Papachristodoulou et al. 2024)
    grouped: list[bool] | None = None
    # rms: each layer reads the unit-RMS version of its input; batch: BatchNorm after the
    # activation and the pool, as Papachristodoulou et al. 2024
    norm: str = setting("rms", words=CONV_NORMS)
    # model=ff_cnn: the label's planes beside the image, constant (every position sees the label)
    # or ink (the label's plane holds the image, so only the strokes carry the label)
    label_planes: str = setting("constant", words=LABEL_PLANES)


@dataclass
class FFSettings:
    """model=ff_mlp: a fully connected network trained layer by layer with Forward-Forward
    (ff_lightning.models.ff.FFModule). The defaults are the paper's; every trick is off."""

    _target_: str = "ff_lightning.models.ff.FFModule"
    hidden_dims: list[int] = field(default_factory=lambda: [2000, 2000, 2000, 2000])
    # goodness inference and the softmax head use layers >= this index (Hinton: skip the first)
    goodness_from_layer: int = setting(1, NON_NEGATIVE_INT)
    # each FF layer's optimizer (a partial torch.optim class)
    optimizer: Any = field(default_factory=_adam)
    # the softmax head's optimizer (null: same as the layers')
    head_optimizer: Any = None
    # steps between checks for a NaN/inf loss (each check waits for the device)
    divergence_check_every: int = setting(50, POSITIVE_INT)
    # with a bounded activation (tanh, sigmoid), cap every theta at this fraction of the largest
    # reachable goodness (units * bound^2); null: no cap. No effect on unbounded activations.
    threshold_range_fraction: float | None = setting(
        None, Number(low=0, high=1, open_low=True, nullable=True)
    )
    # compile each layer's step (forward, goodness, loss and their backward) with torch.compile;
    # null: on for CUDA, where CUDA graphs remove the kernel-launch overhead of batch-100 steps,
    # off elsewhere. true on CPU compiles with inductor's default mode (no CUDA graphs).
    compile_step: bool | None = None
    # torch.compile mode on CUDA ("reduce-overhead": CUDA graphs)
    compile_mode: str = setting("reduce-overhead", words=COMPILE_MODES)
    # train each minibatch with one function of tensors (ff_lightning/algorithm/whole_step.py: every layer's
    # step, Adam on the optimizers' own state, the head) instead of an optimizer step per layer
    # through Lightning; with compile_step, compiled whole (fullgraph). The same weights for the
    # same draws; hard negatives are drawn by a Gumbel top-k (the same distribution, other draws).
    # null: on for the CPU, where the benchmark measured it faster, when the optimizers are plain
    # Adam and one process trains; true elsewhere falls back to the per-layer steps with one
    # warning line
    whole_step: bool | None = None
    # -- tricks beyond the paper (all off here, so that experiment=paper_mnist stays the paper) --
    # the layer objective: threshold (Hinton: softplus(theta - G_pos) + softplus(G_neg - theta)) or
    # symba (softplus(-symba_alpha * (G_pos - G_neg)) on the same image with its true and wrong
    # label) or symba_log (the same on log G: softplus(-symba_alpha * log(G_pos / G_neg)), blind to
    # scale)
    objective: str = setting("threshold", words=OBJECTIVES)
    symba_alpha: float = setting(4.0, POSITIVE)
    # the threshold loss over a batch: sum (the mean over positives plus the mean over negatives,
    # Hinton's) or mean (the mean over all positive and negative rows, loeweX/Forward-Forward's
    # binary cross-entropy: half the gradient, so half of SGD's step)
    threshold_loss_average: str = setting("sum", words=LOSS_AVERAGES)
    # wrong labels: uniform, or hard (drawn in proportion to the softmax head's belief in them)
    negatives: str = setting("uniform", words=NEGATIVES)
    # wrong labels per image, each a negative row (1 up to the classes - 1): with SymBa the loss is
    # then log(1 + sum_j exp(-alpha * (G_pos - G_neg_j))), with all 9 a softmax over the labels'
    # goodness in every layer; the threshold loss averages over the negatives. k + 1 rows per image
    # instead of 2, so each step costs more on a CPU (docs/performance.md)
    negatives_per_image: int = setting(1, POSITIVE_INT)
    # peer normalisation strength (Hinton: 0.03): keeps each unit's running mean activity near the
    # layer's average; peer_momentum is the running mean's decay (Hinton: 0.9)
    peer_normalisation: float = setting(0.0, NON_NEGATIVE)
    peer_momentum: float = setting(0.9, FRACTION)
    # the running mean activity peer normalisation starts from (loeweX/Forward-Forward: 0.5)
    peer_mean_init: float = setting(0.0, NON_NEGATIVE)
    # weights: default (PyTorch's), or reference (loeweX/Forward-Forward: N(0, 1/sqrt(fan_out)),
    # zero biases, a bias-free head starting at zero)
    init: str = setting("default", words=INITS)
    # dropout on the input of every layer but the first (the image and its label are never
    # dropped), in training only; an image's positive and negative rows lose the same units
    dropout: float = setting(0.0, FRACTION)
    # dropout on the input pixels (never the label), in training only, the same pixels in an
    # image's positive and negative rows; the first layer rescales its input to unit RMS
    input_dropout: float = setting(0.0, FRACTION)
    # learning rate over epochs: constant, linear_decay (Hinton: full for the first half, then down
    # to 0), cosine
    lr_schedule: str = setting("constant", words=LR_SCHEDULES)
    # convolutional layers instead of fully connected ones (model=ff_cnn): hidden_dims are then
    # their channels; null: fully connected (model=ff_mlp)
    conv: ConvSettings | None = None


# the conv models' default channels per layer: multiples of MNIST's 10 classes, as the channel-wise
# objective needs, and the same for every conv model so that FF and its backprop twin match
CONV_CHANNELS = (20, 80, 240)


@dataclass
class ConvFFSettings(FFSettings):
    """model=ff_cnn: FFSettings with conv layers (the label in the image as constant planes)."""

    hidden_dims: list[int] = field(default_factory=lambda: list(CONV_CHANNELS))
    conv: ConvSettings | None = field(default_factory=ConvSettings)


@dataclass
class ChannelwiseSettings:
    """model=ff_cnn_channelwise: conv layers trained layer by layer with the channel-wise
    competitive objective (ff_lightning.models.channelwise.ChannelwiseFFModule): every class owns an
    equal group of each layer's channels; no label goes in and no negative data is made."""

    _target_: str = "ff_lightning.models.channelwise.ChannelwiseFFModule"
    # each layer's channels, a multiple of the classes (each class owns channels / classes)
    hidden_dims: list[int] = field(default_factory=lambda: list(CONV_CHANNELS))
    conv: ConvSettings = field(default_factory=ConvSettings)
    # goodness inference (the per-class goodness, summed as log-softmax over layers) and the
    # softmax head use layers >= this index
    goodness_from_layer: int = setting(0, NON_NEGATIVE_INT)
    # each layer's optimizer (a partial torch.optim class)
    optimizer: Any = field(default_factory=_adam)
    # the softmax head's optimizer (null: same as the layers')
    head_optimizer: Any = None
    divergence_check_every: int = setting(50, POSITIVE_INT)
    # learning rate over epochs: constant, linear_decay, cosine
    lr_schedule: str = setting("constant", words=LR_SCHEDULES)
    # a class's goodness: its channels' mean squared activity summed over them (sum) or averaged
    # (mean, as Papachristodoulou et al. 2024); averaged over positions either way
    class_goodness: str = setting("sum", words=CLASS_GOODNESS)
    # the epochs each layer learns in, one count per layer: layer i learns in the first
    # layer_epochs[i] epochs and afterwards only passes its output up (the head learns in every
    # epoch); null: every layer learns in every epoch
    layer_epochs: list[int] | None = list_setting(None, POSITIVE_INT)


def check_conv(
    conv: dict[str, Any], channels: list[int], num_classes: int, input_dim: int | None = None
) -> None:
    """The rules a conv network adds beyond its settings' types: an odd kernel, one pool (and
    grouping) flag per layer, grouped layers' channels in whole groups per class (check_grouped),
    and (given the input's size) square images still there after the pools."""
    check("model.conv", ConvSettings, {k: v for k, v in conv.items() if k in ("norm", "label_planes")})
    kernel, pool = conv.get("kernel_size"), list(conv.get("pool") or [])
    if not isinstance(kernel, int) or kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"model.conv.kernel_size must be an odd positive integer, got {kernel!r}")
    for name in ("pool", "grouped"):
        flags = conv.get(name)
        if (name == "pool" or flags is not None) and len(list(flags or [])) != len(channels):
            raise ValueError(
                f"model.conv.{name} has {len(list(flags or []))} values but model.hidden_dims has "
                f"{len(channels)} layers; give one true/false per layer"
            )
    check_grouped(conv, channels, num_classes)
    if input_dim is None:
        return
    side = math.isqrt(input_dim)
    if side * side != input_dim:
        raise ValueError(f"a conv model needs square images (MNIST), got {input_dim} input features")
    if side >> sum(bool(p) for p in pool) < 1:
        raise ValueError(f"model.conv.pool halves the {side} x {side} image too often ({pool})")


def check_channel_groups(channels: list[int], num_classes: int) -> None:
    """The channel-wise objective gives every class an equal group of each layer's channels."""
    if any(c % num_classes for c in channels):
        raise ValueError(
            f"model.hidden_dims must be multiples of the {num_classes} classes (each class owns an "
            f"equal group of every layer's channels), got {list(channels)}"
        )


def check_grouped(conv: dict[str, Any], channels: list[int], num_classes: int) -> None:
    """A class-wise grouped layer (model.conv.grouped) splits its input and its output channels
    into one group per class: both must be multiples of the classes, so the image's own
    channel(s) can never be grouped."""
    ins = [1, *channels[:-1]]
    for i, flag in enumerate(conv.get("grouped") or []):
        if flag and (ins[i] % num_classes or channels[i] % num_classes):
            raise ValueError(
                f"model.conv.grouped: layer {i} reads {ins[i]} and has {channels[i]} channels; a grouped "
                f"layer needs both to be multiples of the {num_classes} classes (the first layer, "
                "which reads the image, cannot be grouped)"
            )


def check_layer_epochs(layer_epochs: list[int] | None, num_layers: int) -> None:
    """model.layer_epochs gives one count per layer, or is null."""
    if layer_epochs is not None and len(layer_epochs) != num_layers:
        raise ValueError(
            f"model.layer_epochs has {len(layer_epochs)} values but model.hidden_dims has "
            f"{num_layers} layers; give one count per layer or null"
        )


def check_negatives_per_image(per_image: int, num_classes: int) -> None:
    """An image has num_classes - 1 wrong labels to be shown with, each at most once."""
    if not 1 <= per_image < num_classes:
        raise ValueError(
            f"model.negatives_per_image must be between 1 and {num_classes - 1} (the wrong labels "
            f"there are), got {per_image}"
        )


def register_schemas() -> None:
    """Put the schemas in Hydra's ConfigStore: conf/model/<name>.yaml extends `<name>_schema`
    (ff_mlp, ff_cnn, ff_cnn_channelwise)."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    store.store(group="model", name="ff_mlp_schema", node=FFSettings)
    store.store(group="model", name="ff_cnn_schema", node=ConvFFSettings)
    store.store(group="model", name="ff_cnn_channelwise_schema", node=ChannelwiseSettings)
