"""Input transforms done on the training device, inside the training loop: augmentation of the
images (jitter) and dropout of their pixels."""

import torch
import torch.nn.functional as F


def jitter(x: torch.Tensor, max_shift: int, side: int) -> torch.Tensor:
    """Shift every flattened side x side image by its own random (dy, dx), each in
    [-max_shift, max_shift], filling with zeros (Hinton's 'jittered' MNIST: up to 2 pixels)."""
    if max_shift <= 0:
        return x
    n = x.shape[0]
    padded = F.pad(x.view(n, side, side), (max_shift,) * 4)
    span = 2 * max_shift + 1
    dy = torch.randint(0, span, (n, 1, 1), device=x.device)
    dx = torch.randint(0, span, (n, 1, 1), device=x.device)
    grid = torch.arange(side, device=x.device)
    rows = dy + grid.view(1, side, 1)
    cols = dx + grid.view(1, 1, side)
    return padded[torch.arange(n, device=x.device).view(n, 1, 1), rows, cols].reshape(n, side * side)


def drop_pixels(x: torch.Tensor, p: float) -> torch.Tensor:
    """Input dropout: each pixel of each image set to 0 with probability p (unscaled: the first
    FF layer normalises its input to unit RMS)."""
    return x * (torch.rand_like(x) >= p).to(x.dtype)
