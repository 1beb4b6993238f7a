import logging

import pytest
import torch

from ff_lightning.data.synthetic import SyntheticDataModule
from ff_lightning.data.tensors import TensorBatches
from ff_lightning.errors import UserInputError


def test_shuffled_batches_cover_every_sample_once_per_pass():
    x = torch.arange(250).float().unsqueeze(1)
    y = torch.arange(250)
    batches = TensorBatches(x, y, batch_size=100, shuffle=True)
    assert len(batches) == 3
    seen = torch.cat([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(250))
    assert not torch.equal(seen, y)
    for xb, yb in batches:
        assert torch.equal(xb.squeeze(1).long(), yb)


def test_unshuffled_batches_keep_order():
    y = torch.arange(10)
    batches = TensorBatches(y.float().unsqueeze(1), y, batch_size=4, shuffle=False)
    assert [b.tolist() for _, b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_val_size_larger_than_training_set_is_an_error():
    dm = SyntheticDataModule(num_train=100, val_size=100)
    with pytest.raises(UserInputError, match="dataset.val_size=100 leaves no training data"):
        dm.prepare_splits()


def test_synthetic_keeps_label_pixels_blank():
    dm = SyntheticDataModule(num_train=100, num_test=10, val_size=10, batch_size=10)
    dm.setup()
    assert dm.splits["train"][0][:, :10].abs().max() == 0


def test_grouped_batches_hold_consecutive_minibatches_and_a_ragged_tail():
    y = torch.arange(10)
    batches = TensorBatches(y.float().unsqueeze(1), y, batch_size=2, shuffle=False, group=2)
    assert len(batches) == 3
    groups = [[b.tolist() for _, b in group] for group in batches]
    assert groups == [[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[8, 9]]]


def test_ranks_take_equal_disjoint_parts_of_the_same_shuffled_epoch():
    y = torch.arange(251)
    parts = []
    for rank in (0, 1):
        torch.manual_seed(7)  # every rank is seeded alike, so all draw the same permutation
        batches = TensorBatches(y.float().unsqueeze(1), y, batch_size=50, shuffle=True, rank=rank, world=2)
        assert len(batches) == 3  # 125 samples each: 50, 50, 25
        parts.append(torch.cat([yb for _, yb in batches]).tolist())
    assert len(parts[0]) == len(parts[1]) == 125
    assert not set(parts[0]) & set(parts[1])
    # evaluation is never split: every rank scores the whole set
    whole = TensorBatches(y.float().unsqueeze(1), y, batch_size=100, shuffle=False, rank=1, world=2)
    assert torch.cat([yb for _, yb in whole]).tolist() == y.tolist()


def test_a_validation_split_that_leaves_less_than_a_batch_is_refused():
    dm = SyntheticDataModule(num_train=150, num_test=10, val_size=100, batch_size=100)
    with pytest.raises(
        UserInputError, match="^dataset.val_size=100 leaves 50 training samples, fewer than one batch"
    ):
        dm.prepare_splits()


def test_a_train_subset_larger_than_the_data_says_so(caplog):
    caplog.set_level(logging.WARNING, logger="ff_lightning")
    dm = SyntheticDataModule(num_train=150, num_test=10, val_size=0, batch_size=10, train_subset=1000)
    dm.prepare_splits()
    assert len(dm.splits["train"][1]) == 150
    assert "dataset.train_subset=1000 is more than the 150 training samples there are" in caplog.text
