"""The network itself, plain PyTorch: a stack of FF layers (fully connected or convolutional)
that each see a normalised input."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ff_lightning.algorithm.goodness import goodness, rms_normalise


class FFLayer(nn.Module):
    """Linear + activation applied to the unit-RMS version of its input."""

    def __init__(self, in_dim: int, out_dim: int, activation: nn.Module) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, out_dim)
        self.activation = activation
        # each unit's running mean activity on positive data, for peer normalisation
        self.register_buffer("running_mean", torch.zeros(out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(rms_normalise(x)))


class FFNet(nn.Module):
    """Layers trained by Forward-Forward; no gradient ever flows between them."""

    def __init__(self, input_dim: int, hidden_dims: list[int], activation: nn.Module) -> None:
        super().__init__()
        dims = [input_dim, *hidden_dims]
        self.layers = nn.ModuleList(
            FFLayer(d_in, d_out, activation) for d_in, d_out in zip(dims[:-1], dims[1:], strict=True)
        )

    def first_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the first layer reads, from a label-embedded input."""
        return x

    def activities(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's activity, each layer fed the detached output of the one below."""
        out = []
        h = self.first_input(x)
        for layer in self.layers:
            h = layer(h.detach())
            out.append(h)
        return out

    def goodness_per_layer(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [goodness(h) for h in self.activities(x)]

    def head_features(self, x: torch.Tensor, from_layer: int) -> torch.Tensor:
        """Normalised activities of layers >= from_layer, side by side, for the softmax head."""
        acts = self.activities(x)[from_layer:]
        return torch.cat([rms_normalise(h) for h in acts], dim=1)


class FFConvLayer(nn.Module):
    """Convolution + activation (+ a 2 x 2 max-pool), normalised one of two ways: `rms` applies
    it to the unit-RMS version of its input (the whole activity map of a sample normalised as
    one vector), `batch` puts a BatchNorm after the pool (Papachristodoulou et al. 2024). With
    `groups` > 1 its channels split into that many groups, each reading only its own group of
    the input's channels."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        pool: bool,
        activation: nn.Module,
        groups: int = 1,
        norm: str = "rms",
    ):
        super().__init__()
        # channels-last (NHWC) weights make the convolutions, and so every activity after them,
        # run channels-last: oneDNN's CPU kernels then run the conv networks' forward pass about
        # 1.8x as fast (benchmarks/bench_conv_layout.py); values and logical shapes are NCHW's
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, groups=groups
        ).to(memory_format=torch.channels_last)
        self.activation = activation
        self.pool = pool
        # BatchNorm's eps as the published network's
        self.batch_norm = nn.BatchNorm2d(out_channels, eps=1e-4) if norm == "batch" else None
        # kept so that a conv layer reads like an FF layer to the module; peer normalisation is
        # not offered for conv layers
        self.register_buffer("running_mean", torch.zeros(out_channels))

    @property
    def linear(self) -> nn.Conv2d:
        """The layer's weights (named as the MLP's, for the weight statistics)."""
        return self.conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.activation(self.conv(x if self.batch_norm is not None else rms_normalise(x)))
        h = F.max_pool2d(h, 2) if self.pool else h
        return self.batch_norm(h) if self.batch_norm is not None else h


def image_shape(input_dim: int) -> tuple[int, int, int]:
    """A flat square one-channel image's (channels, height, width)."""
    side = math.isqrt(input_dim)
    return 1, side, side


def conv_shapes(
    image: tuple[int, int, int], channels: list[int], pool: list[bool]
) -> list[tuple[int, int, int]]:
    """Each conv layer's output shape (channels, height, width) for images of shape `image`."""
    _, height, width = image
    shapes = []
    for c, p in zip(channels, pool, strict=True):
        if p:
            height, width = height // 2, width // 2
        shapes.append((c, height, width))
    return shapes


def conv_features(image: tuple[int, int, int], channels: list[int], pool: list[bool], from_layer: int) -> int:
    """How many values the softmax head reads: every channel at every position of the layers
    from `from_layer` on."""
    return sum(c * h * w for c, h, w in conv_shapes(image, channels, pool)[from_layer:])


class FFConvNet(FFNet):
    """Conv layers trained layer by layer. With `label_planes` (the label-in-image objective) the
    input is the flat image followed by the label code (label_mode concat), and the first layer
    sees the image with the code as planes, one per class: constant, so that every position sees
    the label, or (conv.label_planes=ink) the code times the image, so that only the digit's
    strokes carry it. Without (the channel-wise objective) it sees the plain image."""

    def __init__(
        self,
        image: tuple[int, int, int],
        channels: list[int],
        conv: dict,
        activation: nn.Module,
        num_classes: int,
        label_planes: int = 0,
    ) -> None:
        """`conv`: model.conv's settings (ConvSettings): kernel size, pools, the layers grouped
        by class (num_classes groups each) and the normalisation."""
        nn.Module.__init__(self)
        self.image = image
        ins = [image[0] + label_planes, *channels[:-1]]
        grouped = conv.get("grouped") or [False] * len(channels)
        norm = conv.get("norm", "rms")
        # BatchNorm's output is already normalised: the head reads it as it is
        self.head_norm = norm != "batch"
        self.label_on_ink = conv.get("label_planes", "constant") == "ink"
        self.layers = nn.ModuleList(
            FFConvLayer(c_in, c_out, conv["kernel_size"], p, activation, num_classes if g else 1, norm)
            for c_in, c_out, p, g in zip(ins, channels, conv["pool"], grouped, strict=True)
        )

    def first_input(self, x: torch.Tensor) -> torch.Tensor:
        c, height, width = self.image
        pixels = c * height * width
        images = x[:, :pixels].view(-1, c, height, width)
        if x.shape[1] == pixels:
            return images
        code = x[:, pixels:, None, None].expand(-1, -1, height, width)
        if self.label_on_ink:
            # the label's plane holds the image itself, the others zeros: the label exists only
            # where the digit's strokes are, so a unit's patch and its label meet in one input
            code = code * images.amax(dim=1, keepdim=True)
        return torch.cat([images, code], dim=1)

    def head_features(self, x: torch.Tensor, from_layer: int) -> torch.Tensor:
        return self.features_of(self.activities(x)[from_layer:])

    def features_of(self, acts: list[torch.Tensor]) -> torch.Tensor:
        """What the head reads from these layers' activities: each flattened, normalised unless
        BatchNorm already did."""
        return torch.cat([(rms_normalise(h) if self.head_norm else h).flatten(1) for h in acts], dim=1)
