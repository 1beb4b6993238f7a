import pytest
import torch

from ff_lightning.data.corruptions import CORRUPTIONS, SEVERITIES, corrupt
from ff_lightning.data.mnist import load_mnist


@pytest.fixture(scope="module")
def digits(mnist_dir) -> torch.Tensor:
    return load_mnist(mnist_dir, download=False)["x_test"][:64].reshape(64, -1).float() / 255.0


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_a_corruption_changes_the_images_more_with_severity_and_repeats_for_a_seed(name, digits):
    changes = []
    for severity in SEVERITIES:
        out = corrupt(digits, name, severity, seed=0)
        assert out.shape == digits.shape and out.dtype == torch.float32
        assert 0.0 <= out.min() and out.max() <= 1.0
        assert torch.equal(out, corrupt(digits, name, severity, seed=0))
        changes.append((out - digits).abs().mean().item())
    assert 0 < changes[0] <= changes[1] <= changes[2], changes
    # another seed draws other noise or directions; a corruption without draws gives the same
    drawn = not torch.equal(corrupt(digits, name, 2, seed=1), corrupt(digits, name, 2, seed=0))
    assert drawn == (name not in ("gaussian_blur", "motion_blur", "contrast", "brightness", "pixelate"))


def test_the_same_seed_gives_the_same_images_whatever_was_drawn_before(digits):
    first = corrupt(digits, "rotate", 3, seed=5)
    torch.rand(1000)
    corrupt(digits, "gaussian_noise", 1, seed=5)
    assert torch.equal(corrupt(digits, "rotate", 3, seed=5), first)


def test_bad_names_and_shapes_are_refused(digits):
    with pytest.raises(ValueError, match="corruption fog is not one of: gaussian_noise"):
        corrupt(digits, "fog", 1)
    with pytest.raises(ValueError, match="severity must be one of"):
        corrupt(digits, "rotate", 4)
    with pytest.raises(ValueError, match="square images"):
        corrupt(torch.rand(2, 100 + 1), "rotate", 1)
