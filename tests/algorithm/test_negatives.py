import pytest
import torch

from ff_lightning.algorithm.negatives import NegativeSampler, several_wrong_labels, wrong_labels


def test_wrong_labels_never_equal_the_true_label_and_cover_all_others():
    torch.manual_seed(0)
    y = torch.arange(10).repeat(2000)
    neg = wrong_labels(y, 10)
    assert not (neg == y).any()
    assert neg.min() >= 0 and neg.max() <= 9
    # uniform over the 9 wrong labels: every (true, wrong) pair shows up about 2000/9 times
    pairs = torch.bincount(y * 10 + neg, minlength=100).view(10, 10)
    off_diagonal = pairs[~torch.eye(10, dtype=torch.bool)]
    assert off_diagonal.min() > 150 and off_diagonal.max() < 300


def test_wrong_labels_for_two_classes_flip_the_label():
    y = torch.tensor([0, 1, 1, 0])
    assert torch.equal(wrong_labels(y, 2), torch.tensor([1, 0, 0, 1]))


def test_one_hard_wrong_label_follows_the_belief_and_is_never_the_true_label():
    torch.manual_seed(0)
    n = 20000
    labels = torch.zeros(n, dtype=torch.long)
    # belief over 4 classes: the true class 0 is the most likely, then 3 (3 times class 1), 2 never
    logits = torch.log(torch.tensor([0.7, 0.075, 1e-30, 0.225])).expand(n, 4)
    drawn = several_wrong_labels(labels, 4, 1, logits)[0]
    assert (drawn != labels).all() and (drawn != 2).all()
    share = torch.bincount(drawn, minlength=4).float() / n
    # among the wrong labels: 0.075 and 0.225 of 0.3, i.e. 1/4 and 3/4
    assert share[1].item() == pytest.approx(0.25, abs=0.015)
    assert share[3].item() == pytest.approx(0.75, abs=0.015)


def test_hard_wrong_labels_survive_a_belief_that_underflows():
    logits = torch.tensor([[1000.0, -1000.0, -1000.0]])
    for _ in range(20):
        assert several_wrong_labels(torch.tensor([0]), 3, 1, logits).item() in (1, 2)
        assert sorted(several_wrong_labels(torch.tensor([0]), 3, 2, logits)[:, 0].tolist()) == [1, 2]


def test_hard_wrong_labels_from_a_diverged_head_are_drawn_uniformly():
    # non-finite logits (a head whose weights ran away) must not stop the run before the
    # divergence check at the end of the epoch can record it
    logits = torch.tensor([[float("nan"), 1.0, 2.0], [float("inf"), float("inf"), 0.0]])
    for _ in range(20):
        drawn = several_wrong_labels(torch.tensor([0, 2]), 3, 1, logits)[0]
        assert drawn[0].item() in (1, 2) and drawn[1].item() in (0, 1)


def test_several_wrong_labels_are_distinct_never_true_and_all_of_them_for_k_9():
    torch.manual_seed(0)
    labels = torch.randint(0, 10, (500,))
    drawn = several_wrong_labels(labels, 10, 3)
    assert drawn.shape == (3, 500)
    assert (drawn != labels).all()
    assert all(len(set(col.tolist())) == 3 for col in drawn.T)
    assert set(drawn.flatten().tolist()) == set(range(10))
    every = several_wrong_labels(labels, 10, 9)
    assert all(
        sorted(col.tolist() + [y]) == list(range(10)) for col, y in zip(every.T, labels.tolist(), strict=True)
    )


def test_several_hard_wrong_labels_follow_the_belief():
    torch.manual_seed(0)
    labels = torch.zeros(2000, dtype=torch.long)
    logits = torch.full((2000, 10), -30.0)
    logits[:, 0] = 5.0  # the true label: never drawn, however strong the belief
    logits[:, 3] = 4.0
    logits[:, 7] = 4.0
    drawn = several_wrong_labels(labels, 10, 2, logits)
    assert sorted(set(drawn.flatten().tolist())) == [3, 7]
    # a third label must come from the (underflowed) rest, not repeat 3 or 7
    drawn = several_wrong_labels(labels, 10, 3, logits)
    assert all(len(set(col.tolist())) == 3 and 0 not in col for col in drawn.T)


def test_the_sampler_draws_one_block_of_wrong_labels_per_negative_of_an_image():
    torch.manual_seed(0)
    labels = torch.randint(0, 10, (200,))
    for sampler, logits in (
        (NegativeSampler(), None),
        (NegativeSampler("hard", 3), torch.randn(200, 10)),
        (NegativeSampler("uniform", 9), None),
    ):
        drawn = sampler.draw(labels, 10, logits).view(sampler.per_image, 200)
        assert sampler.needs_beliefs == (logits is not None)
        assert not (drawn == labels).any()
        # an image's k wrong labels are k different ones
        assert all(len(set(column.tolist())) == sampler.per_image for column in drawn.T)
