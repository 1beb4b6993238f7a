"""A LightningDataModule over in-memory tensors, and the minibatch iterable it hands to Lightning.

The whole dataset lives on the training device; a minibatch is an index into it, so the
training loop does no per-sample Python work and no host-to-device copies.
"""

import logging
import math
from collections.abc import Callable

import lightning.pytorch as L
import torch

from ff_lightning.errors import UserInputError

log = logging.getLogger("ff_lightning")


class TensorBatches:
    """Minibatches of (x, y) sliced from device tensors, reshuffled at every pass when asked.

    With group > 1 every item is a list of up to `group` consecutive minibatches: the model takes
    one optimizer step per minibatch, and Lightning's per-step work is paid once per group.

    With several processes (DDP) each rank trains on its own slice of every epoch's shuffled
    order: all ranks draw the same permutation (same seed) and take equal, disjoint parts of it,
    so they take the same number of steps. `batch_size` is per process.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        shuffle: bool,
        group: int = 1,
        rank: int = 0,
        world: int = 1,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.x, self.y, self.batch_size, self.shuffle, self.group = x, y, batch_size, shuffle, group
        self.rank, self.world = rank, world
        # applied to every shuffled (training) minibatch's inputs, on their device
        self.transform = transform

    def _samples(self) -> int:
        return len(self.y) // self.world if self.shuffle else len(self.y)

    def __len__(self) -> int:
        return math.ceil(math.ceil(self._samples() / self.batch_size) / self.group)

    def __iter__(self):
        if self.group == 1:
            yield from self._minibatches()
            return
        items = []
        for item in self._minibatches():
            items.append(item)
            if len(items) == self.group:
                yield items
                items = []
        if items:
            yield items

    def _minibatches(self):
        n = len(self.y)
        if self.shuffle:
            # the global generator is seeded by the run's seed, so the order is reproducible
            order = torch.randperm(n, device=self.x.device)
            n = self._samples()
            order = order[self.rank * n : (self.rank + 1) * n]
            for start in range(0, n, self.batch_size):
                idx = order[start : start + self.batch_size]
                x = self.x[idx]
                yield (self.transform(x) if self.transform else x), self.y[idx]
        else:
            for start in range(0, n, self.batch_size):
                yield self.x[start : start + self.batch_size], self.y[start : start + self.batch_size]


class TensorDataModule(L.LightningDataModule):
    """Train/val/test splits as tensors; subclasses only say how to load train and test sets."""

    input_dim: int
    num_classes: int
    # how a label enters the input (see ff_lightning.algorithm.labels.embed_label)
    label_mode: str = "overwrite"
    label_scale: float | None = None
    # applied to training minibatches on the device (MNIST: dataset.jitter)
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None

    def __init__(
        self,
        batch_size: int = 100,
        eval_batch_size: int = 1000,
        val_size: int = 5000,
        train_subset: int | None = None,
        batches_per_step: int = 1,
    ) -> None:
        super().__init__()
        self.batches_per_step = batches_per_step
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.val_size = val_size
        self.train_subset = train_subset
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def check_declared_classes(self, declared: int | None) -> None:
        """A dataset whose classes are fixed (MNIST's 10, IMDb's 2) takes `num_classes` only as
        the fact its yaml declares for the checks before a run: any other count is refused."""
        if declared is not None and declared != self.num_classes:
            name = type(self).__name__.removesuffix("DataModule")
            raise ValueError(f"dataset.num_classes: {name} has {self.num_classes} classes, got {declared}")

    def load(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return x_train, y_train, x_test, y_test: float features (N, D) and int64 labels."""
        raise NotImplementedError

    def prepare_splits(self) -> None:
        """Load once and split; the validation set is the last `val_size` training samples."""
        if self.splits:
            return
        x_train, y_train, x_test, y_test = self.load()
        n_train = len(y_train) - self.val_size
        if n_train <= 0:
            raise UserInputError(
                f"dataset.val_size={self.val_size} leaves no training data "
                f"(the training set has {len(y_train)} samples)"
            )
        if n_train < self.batch_size:
            raise UserInputError(
                f"dataset.val_size={self.val_size} leaves {n_train} training samples, fewer than one "
                f"batch (dataset.batch_size={self.batch_size}); the training set has {len(y_train)}"
            )
        if self.train_subset is not None and self.train_subset > n_train:
            log.warning(
                "dataset.train_subset=%d is more than the %d training samples there are; training on all %d",
                self.train_subset,
                n_train,
                n_train,
            )
        keep = n_train if self.train_subset is None else min(self.train_subset, n_train)
        self.splits = {
            "train": (x_train[:keep], y_train[:keep]),
            "val": (x_train[n_train:], y_train[n_train:]),
            "test": (x_test, y_test),
        }

    def setup(self, stage: str | None = None) -> None:
        self.prepare_splits()
        device = self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")
        self.splits = {k: (x.to(device), y.to(device)) for k, (x, y) in self.splits.items()}

    def train_dataloader(self) -> TensorBatches:
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        return TensorBatches(
            *self.splits["train"],
            self.batch_size,
            shuffle=True,
            group=self.batches_per_step,
            rank=rank,
            world=world,
            transform=self.augment,
        )

    def val_dataloader(self) -> TensorBatches:
        return TensorBatches(*self.splits["val"], self.eval_batch_size, shuffle=False)

    def test_dataloader(self) -> TensorBatches:
        return TensorBatches(*self.splits["test"], self.eval_batch_size, shuffle=False)
