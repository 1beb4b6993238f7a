import math

import pytest
import torch
import torch.nn.functional as F

from ff_lightning.algorithm.goodness import (
    channelwise_loss,
    class_goodness,
    ff_loss,
    goodness,
    log_symba_loss,
    peer_normalisation_loss,
    rms_normalise,
    symba_loss,
    threshold_accuracy,
)


def test_goodness_is_sum_of_squares():
    h = torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
    assert torch.allclose(goodness(h), torch.tensor([14.0, 1.25]))


def test_goodness_is_fp32_for_bf16_input():
    h = torch.ones(2, 2000, dtype=torch.bfloat16) * 1.01
    assert goodness(h).dtype == torch.float32


def test_ff_loss_matches_hand_computed_values():
    g_pos = torch.tensor([3.0, 1.0])
    g_neg = torch.tensor([0.0, 4.0])
    theta = 2.0

    def softplus(v):
        return math.log1p(math.exp(v))

    expected = (softplus(2 - 3) + softplus(2 - 1)) / 2 + (softplus(0 - 2) + softplus(4 - 2)) / 2
    assert math.isclose(ff_loss(g_pos, g_neg, theta).item(), expected, rel_tol=1e-6)


def test_ff_loss_is_small_when_every_sample_is_on_the_right_side():
    assert ff_loss(torch.tensor([100.0]), torch.tensor([0.0]), 50.0).item() < 1e-20


def test_rms_normalise_gives_unit_root_mean_square():
    x = torch.randn(5, 784) * 7 + 3
    out = rms_normalise(x)
    assert torch.allclose(out.pow(2).mean(dim=1), torch.ones(5), atol=1e-5)
    # direction is kept
    assert torch.allclose(out / out.norm(dim=1, keepdim=True), x / x.norm(dim=1, keepdim=True), atol=1e-6)


def test_threshold_accuracy_counts_both_sides():
    g_pos = torch.tensor([3.0, 1.0])  # one above theta=2, one below
    g_neg = torch.tensor([0.0, 1.5])  # both below
    assert threshold_accuracy(g_pos, g_neg, 2.0).item() == 0.75


def test_symba_loss_matches_hand_computed_values():
    g_pos, g_neg = torch.tensor([3.0, 1.0]), torch.tensor([1.0, 1.5])
    # softplus(-4 * 2) and softplus(-4 * -0.5), averaged over the two pairs
    expected = (math.log1p(math.exp(-8.0)) + math.log1p(math.exp(2.0))) / 2
    assert symba_loss(g_pos, g_neg, alpha=4.0).item() == pytest.approx(expected, rel=1e-6)
    # only the gap counts: shifting both goodnesses changes nothing
    assert symba_loss(g_pos + 100, g_neg + 100).item() == pytest.approx(expected, rel=1e-6)


def test_log_symba_loss_compares_ratios_and_ignores_the_scale():
    g_pos, g_neg = torch.tensor([4.0, 10.0]), torch.tensor([2.0, 20.0])
    # softplus(-2 * log 2) = log(1 + 1/4) and softplus(-2 * log 0.5) = log(1 + 4)
    expected = (math.log1p(0.25) + math.log1p(4.0)) / 2
    assert log_symba_loss(g_pos, g_neg, alpha=2.0).item() == pytest.approx(expected, rel=1e-5)
    # weights scaled by s scale every goodness by s^2: the loss stays, where SymBa's falls
    assert log_symba_loss(49 * g_pos, 49 * g_neg, alpha=2.0).item() == pytest.approx(expected, rel=1e-5)
    assert symba_loss(49 * g_pos, 49 * g_neg, alpha=2.0) != pytest.approx(symba_loss(g_pos, g_neg, alpha=2.0))


def test_peer_normalisation_loss_is_the_spread_of_mean_activities():
    assert peer_normalisation_loss(torch.full((5,), 0.7)).item() == 0.0
    # mean 1, deviations -1 and +1: mean square 1
    assert peer_normalisation_loss(torch.tensor([0.0, 2.0])).item() == pytest.approx(1.0)


def test_symba_with_several_wrong_labels_is_symba_for_one_and_a_label_softmax_for_all():
    torch.manual_seed(0)
    n, alpha = 6, 0.7
    g = torch.rand(10, n) * 5  # the goodness of every label for every image
    y = torch.randint(0, 10, (n,))
    g_pos = g[y, torch.arange(n)]
    wrong = torch.stack([torch.tensor([c for c in range(10) if c != yi]) for yi in y.tolist()], dim=1)
    g_neg = g.gather(0, wrong)  # (9, n): row j is every image's j-th wrong label
    # one wrong label as a (1, n) block is the pairwise SymBa loss
    torch.testing.assert_close(symba_loss(g_pos, g_neg[:1], alpha), symba_loss(g_pos, g_neg[0], alpha))
    # all of them: the cross-entropy of a softmax over alpha * G
    expected = torch.nn.functional.cross_entropy(alpha * g.T, y)
    torch.testing.assert_close(symba_loss(g_pos, g_neg, alpha), expected)
    # the order of the wrong labels does not matter
    torch.testing.assert_close(symba_loss(g_pos, g_neg.flip(0), alpha), expected)


def test_conv_goodness_sums_channels_and_averages_positions():
    h = torch.zeros(1, 3, 2, 2)
    h[0, :, 0, 0] = torch.tensor([1.0, 2.0, 2.0])  # 9 at one position, 0 at the other three
    assert goodness(h).tolist() == [9.0 / 4]


def test_class_goodness_is_each_channel_groups_goodness():
    # 2 classes, 4 channels: channels 0-1 are class 0's, 2-3 class 1's
    h = torch.zeros(1, 4, 2, 2)
    h[0, 0] = 2.0  # class 0: 4 at every position
    h[0, 3, 1, 1] = 2.0  # class 1: 4 at one position of four
    assert class_goodness(h, 2).tolist() == [[4.0, 1.0]]
    # mean: the same, averaged over each class's 2 channels
    assert class_goodness(h, 2, "mean").tolist() == [[2.0, 0.5]]


def test_ff_loss_averaged_over_all_rows_is_the_reference_s_binary_cross_entropy():
    g_pos, g_neg, theta = torch.tensor([3.0, 1.0]), torch.tensor([0.5, 4.0]), 2.0
    bce = F.binary_cross_entropy_with_logits(torch.cat([g_pos, g_neg]) - theta, torch.tensor([1.0, 1, 0, 0]))
    assert ff_loss(g_pos, g_neg, theta, "mean").item() == pytest.approx(bce.item())
    # one negative per image: half of the sum of the two means
    assert ff_loss(g_pos, g_neg, theta, "sum").item() == pytest.approx(2 * bce.item())


def test_channelwise_loss_is_the_cross_entropy_over_class_goodness():
    g = torch.tensor([[3.0, 1.0, 0.0], [0.0, 0.0, 5.0]])
    y = torch.tensor([0, 2])
    expected = -(torch.log_softmax(g, dim=1)[[0, 1], y]).mean()
    assert channelwise_loss(g, y).item() == pytest.approx(expected.item())
