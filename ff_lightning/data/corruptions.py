"""Corrupted test images in the spirit of MNIST-C (Mu and Gilmer, 2019), made on the fly from the
local test set: noise, blur, geometric changes, contrast and occlusion, each at three fixed
severities, the same images for the same seed.

Every function takes flattened square images in [0, 1], shape (n, side * side), a severity
(1, 2 or 3) and a torch.Generator, and returns images of the same shape in [0, 1]. A geometric
change moves every image by the severity's amount in a direction drawn per image.
"""

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

SEVERITIES = (1, 2, 3)

Corruption = Callable[[torch.Tensor, int, torch.Generator], torch.Tensor]


def _images(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    side = math.isqrt(x.shape[1])
    if side * side != x.shape[1]:
        raise ValueError(f"corruptions need square images, got {x.shape[1]} features per input")
    return x.view(-1, 1, side, side), side


def _signs(n: int, g: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 2, (n,), generator=g).float() * 2 - 1


def gaussian_noise(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    sigma = (0.2, 0.4, 0.6)[severity - 1]
    return (x + sigma * torch.randn(x.shape, generator=g)).clamp(0, 1)


def shot_noise(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    # photon counts: Poisson with `rate` photons at full brightness
    rate = (30.0, 10.0, 4.0)[severity - 1]
    return (torch.poisson(x * rate, generator=g) / rate).clamp(0, 1)


def impulse_noise(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    # salt and pepper: this share of the pixels set to 0 or 1
    share = (0.05, 0.12, 0.25)[severity - 1]
    hit = torch.rand(x.shape, generator=g) < share
    salt = (torch.rand(x.shape, generator=g) < 0.5).float()
    return torch.where(hit, salt, x)


def _blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    images, _ = _images(x)
    kh, kw = kernel.shape
    out = F.conv2d(images, kernel.view(1, 1, kh, kw), padding=(kh // 2, kw // 2))
    return out.reshape(x.shape)


def gaussian_blur(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    sigma = (0.7, 1.1, 1.6)[severity - 1]
    r = torch.arange(-3, 4, dtype=torch.float32)
    w = torch.exp(-(r**2) / (2 * sigma**2))
    w = w / w.sum()
    return _blur(x, torch.outer(w, w))


def motion_blur(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    # a horizontal smear over `length` pixels
    length = (3, 5, 7)[severity - 1]
    return _blur(x, torch.full((1, length), 1.0 / length))


def _affine(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Each image resampled through its own 2 x 3 affine map (output -> input, in [-1, 1]
    coordinates), zeros outside."""
    images, _ = _images(x)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, align_corners=False, padding_mode="zeros").reshape(x.shape)


def rotate(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    angle = math.radians((15.0, 30.0, 45.0)[severity - 1]) * _signs(len(x), g)
    cos, sin = torch.cos(angle), torch.sin(angle)
    zero = torch.zeros_like(angle)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    return _affine(x, theta)


def shift(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    # by `pixels` along each axis, in a direction drawn per image
    _, side = _images(x)
    pixels = (2.0, 4.0, 6.0)[severity - 1]
    d = 2.0 * pixels / side
    dx, dy = d * _signs(len(x), g), d * _signs(len(x), g)
    one, zero = torch.ones(len(x)), torch.zeros(len(x))
    theta = torch.stack([torch.stack([one, zero, dx], 1), torch.stack([zero, one, dy], 1)], 1)
    return _affine(x, theta)


def scale(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    # the digit shrunk to this size (or, for half the images, grown by its inverse)
    factor = (0.8, 0.65, 0.5)[severity - 1]
    s = torch.where(_signs(len(x), g) > 0, 1.0 / factor, factor)  # output -> input: 1/size
    zero = torch.zeros(len(x))
    theta = torch.stack([torch.stack([s, zero, zero], 1), torch.stack([zero, s, zero], 1)], 1)
    return _affine(x, theta)


def shear(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    k = (0.2, 0.4, 0.6)[severity - 1] * _signs(len(x), g)
    one, zero = torch.ones(len(x)), torch.zeros(len(x))
    theta = torch.stack([torch.stack([one, k, zero], 1), torch.stack([zero, one, zero], 1)], 1)
    return _affine(x, theta)


def contrast(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    # the pixels pulled towards each image's mean, keeping this share of their spread
    keep = (0.5, 0.3, 0.15)[severity - 1]
    mean = x.mean(dim=1, keepdim=True)
    return (mean + keep * (x - mean)).clamp(0, 1)


def brightness(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    return (x + (0.2, 0.4, 0.6)[severity - 1]).clamp(0, 1)


def stripe(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    # a vertical bar of this many columns, at a column drawn per image, inverted
    images, side = _images(x)
    width = (2, 4, 6)[severity - 1]
    start = torch.randint(side // 4, 3 * side // 4 - width + 1, (len(x), 1, 1, 1), generator=g)
    cols = torch.arange(side).view(1, 1, 1, side)
    bar = (cols >= start) & (cols < start + width)
    return torch.where(bar, 1.0 - images, images).reshape(x.shape)


def pixelate(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    # down to a coarse grid and back up, nearest neighbour
    images, side = _images(x)
    coarse = (14, 10, 7)[severity - 1] * side // 28
    small = F.interpolate(images, size=(coarse, coarse), mode="area")
    return F.interpolate(small, size=(side, side), mode="nearest").reshape(x.shape)


def occlusion(x: torch.Tensor, severity: int, g: torch.Generator) -> torch.Tensor:
    # a black square of this share of the side, at a place drawn per image
    images, side = _images(x)
    size = max(1, round((0.25, 0.4, 0.55)[severity - 1] * side))
    top = torch.randint(0, side - size + 1, (len(x), 1, 1, 1), generator=g)
    left = torch.randint(0, side - size + 1, (len(x), 1, 1, 1), generator=g)
    rows, cols = torch.arange(side).view(1, 1, side, 1), torch.arange(side).view(1, 1, 1, side)
    box = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    return images.masked_fill(box, 0.0).reshape(x.shape)


CORRUPTIONS: dict[str, Corruption] = {
    "gaussian_noise": gaussian_noise,
    "shot_noise": shot_noise,
    "impulse_noise": impulse_noise,
    "gaussian_blur": gaussian_blur,
    "motion_blur": motion_blur,
    "rotate": rotate,
    "shift": shift,
    "scale": scale,
    "shear": shear,
    "contrast": contrast,
    "brightness": brightness,
    "stripe": stripe,
    "pixelate": pixelate,
    "occlusion": occlusion,
}


def corrupt(x: torch.Tensor, name: str, severity: int, seed: int = 0) -> torch.Tensor:
    """The images under one corruption at one severity: the same for the same seed, whatever was
    drawn before (each corruption and severity has its own generator)."""
    if name not in CORRUPTIONS:
        raise ValueError(f"corruption {name} is not one of: {', '.join(CORRUPTIONS)}")
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity}")
    g = torch.Generator().manual_seed(seed * 1000 + list(CORRUPTIONS).index(name) * 10 + severity)
    return CORRUPTIONS[name](x.float().cpu(), severity, g)
