import pytest
import torch

from ff_lightning.data.augment import jitter
from ff_lightning.data.mnist import MNISTDataModule
from ff_lightning.errors import UserInputError
from ff_lightning.run.jobs import check_jobs
from tests.conftest import CONF_DIR


def test_jitter_shifts_each_image_by_at_most_the_limit_and_keeps_its_pixels():
    torch.manual_seed(0)
    side, n = 12, 500
    x = torch.zeros(n, side, side)
    x[:, 5, 6] = 1.0  # one lit pixel, well inside the border
    out = jitter(x.reshape(n, -1), max_shift=2, side=side).view(n, side, side)
    assert out.shape == (n, side, side) and torch.equal(out.sum(dim=(1, 2)), torch.ones(n))
    where = out.flatten(1).argmax(dim=1)
    dy, dx = where // side - 5, where % side - 6
    assert dy.abs().max() == 2 and dx.abs().max() == 2  # every shift in [-2, 2] occurs at the edges
    assert len(set(zip(dy.tolist(), dx.tolist(), strict=True))) == 25
    assert torch.equal(jitter(x.reshape(n, -1), 0, side), x.reshape(n, -1))


def test_jitter_fills_with_zeros_at_the_border():
    x = torch.ones(1, 4 * 4)
    torch.manual_seed(1)
    out = jitter(x, max_shift=1, side=4).view(4, 4)
    assert out.sum().item() in (9.0, 12.0, 16.0)  # a 1-pixel shift clears one row and/or column


def test_mnist_jitter_applies_to_training_batches_only():
    dm = MNISTDataModule(data_dir="unused", jitter=2, batch_size=4, val_size=0)
    x, y = torch.rand(8, 784), torch.arange(8)
    dm.splits = {"train": (x, y), "val": (x[:0], y[:0]), "test": (x, y)}
    torch.manual_seed(0)
    shifted = torch.cat([b for b, _ in dm.train_dataloader()])
    moved = [not any(torch.equal(row, orig) for orig in x) for row in shifted]
    assert sum(moved) >= 4  # a zero shift (1 in 25) leaves an image as it was
    assert torch.equal(torch.cat([b for b, _ in dm.test_dataloader()]), x)


def test_bad_jitter_is_a_one_line_error():
    # declared once, with the other settings' ranges (ff_lightning.run.validate), and checked before
    # anything is built
    for value in ("-1", "14", "1.5"):
        with pytest.raises(
            UserInputError, match=rf"^dataset.jitter must be an integer from 0 to 13, got {value}$"
        ):
            check_jobs(["trick=jitter", f"dataset.jitter={value}"], CONF_DIR)
