import pytest
import torch

from ff_lightning.algorithm.labels import (
    embed_label,
    neutral_code,
    one_hot,
)


def test_overwrite_writes_one_hot_times_image_max_into_first_pixels():
    x = torch.rand(4, 784) * 0.5
    x[:, :10] = 0.3
    y = torch.tensor([0, 3, 9, 5])
    out = embed_label(x, one_hot(y, 10, x.dtype))
    for i, label in enumerate(y.tolist()):
        expected = torch.zeros(10)
        expected[label] = x[i].max()
        assert torch.equal(out[i, :10], expected)
    assert torch.equal(out[:, 10:], x[:, 10:])
    assert x[0, 0] == 0.3  # the input is not modified in place


def test_concat_appends_scaled_code():
    x = torch.randn(3, 300)
    y = torch.tensor([0, 1, 1])
    out = embed_label(x, one_hot(y, 2, x.dtype), mode="concat", scale=5.0)
    assert out.shape == (3, 302)
    assert torch.equal(out[:, :300], x)
    assert torch.equal(out[:, 300:], torch.tensor([[5.0, 0.0], [0.0, 5.0], [0.0, 5.0]]))


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="overwrite"):
        embed_label(torch.zeros(1, 20), torch.zeros(1, 10), mode="sideways")


def test_neutral_code_is_uniform():
    code = neutral_code(3, 10, torch.zeros(1))
    assert torch.allclose(code, torch.full((3, 10), 0.1))
