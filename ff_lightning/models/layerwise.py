"""What the layer-by-layer LightningModules share (FFModule, ChannelwiseFFModule): manual
optimisation with one optimizer per layer and one for the softmax head, the learning-rate
schedule, the epoch's per-layer statistics, the divergence check, and the test of both
inference modes. A subclass builds `net` (its `layers`) and `head`, trains a minibatch, and
predicts in both modes (`predict_goodness`, `predict_head`)."""

from collections.abc import Callable, Iterable

import lightning.pytorch as L
import torch
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from ff_lightning.algorithm.divergence import divergence
from ff_lightning.algorithm.lr_schedules import lr_factor

# per-layer accuracies (shares of samples): logged in %, like the errors
PERCENT_STATS = ("threshold_acc", "accuracy")

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]


def optimizer_factory(value: OptimizerFactory | dict | None) -> OptimizerFactory | None:
    """An optimizer setting as a factory of optimizers: a partial torch.optim class as given, or
    its config (FFSettings' default, {_target_: torch.optim.Adam, _partial_: true, ...})."""
    if isinstance(value, dict):
        from hydra.utils import instantiate

        return instantiate(value)
    return value


class LayerwiseModule(L.LightningModule):
    net: nn.Module
    head: nn.Linear

    def __init__(
        self,
        num_classes: int,
        num_layers: int,
        stats: tuple[str, ...],
        optimizer: OptimizerFactory,
        head_optimizer: OptimizerFactory | None,
        lr_schedule: str,
        divergence_check_every: int,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.num_classes = num_classes
        # the per-layer statistics a step adds up (the first is the layer's loss)
        self.stat_names = stats
        self.optimizer_factory = optimizer
        self.head_optimizer_factory = head_optimizer or optimizer
        self.lr_schedule = lr_schedule
        self.lr_factor = 1.0
        self.divergence_check_every = divergence_check_every
        self.metrics = nn.ModuleDict(
            {
                f"{stage}_{mode}": MulticlassAccuracy(num_classes, average="micro")
                for stage in ("val", "test")
                for mode in ("goodness", "head")
            }
        )
        self.diverged = False
        self.divergence_reason: str | None = None
        # the untrained network's loss (its first step's), the scale a diverging loss is judged by
        self.first_loss: float | None = None
        self._first_loss: torch.Tensor | None = None
        self._stats = torch.zeros(num_layers, len(stats))
        self._head_loss = torch.zeros(())
        self._head_correct = torch.zeros(())
        # whether any loss of the epoch was not finite (a step's flag, or-ed without a sync)
        self._not_finite = torch.zeros((), dtype=torch.bool)
        self._steps = 0

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        opts = [self.optimizer_factory(layer.parameters()) for layer in self.net.layers]
        opts.append(self.head_optimizer_factory(self.head.parameters()))
        for opt in opts:
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])  # what model.lr_schedule scales
        return opts

    def on_train_epoch_start(self) -> None:
        self.lr_factor = lr_factor(self.lr_schedule, self.current_epoch, self.trainer.max_epochs)
        for opt in self.optimizers():
            for group in opt.optimizer.param_groups:
                group["lr"] = group["initial_lr"] * self.lr_factor
        self._stats = torch.zeros(len(self.net.layers), len(self.stat_names), device=self.device)
        self._head_loss = torch.zeros((), device=self.device)
        self._head_correct = torch.zeros((), device=self.device)
        self._not_finite = torch.zeros((), dtype=torch.bool, device=self.device)
        self._steps = 0

    def _after_minibatch(self) -> None:
        self._steps += 1
        if self.first_loss is None and self._first_loss is None:
            self._first_loss = self._stats[:, 0].sum().clone()  # read at the next check: no sync here
        # a divergence check syncs with the device, so it runs every few steps, not every step
        if self._steps % self.divergence_check_every == 0:
            self._check_divergence()

    def _check_divergence(self) -> None:
        if self.first_loss is None and self._first_loss is not None:
            self.first_loss = float(self._first_loss)
        mean_loss = float(self._stats[:, 0].sum()) / max(self._steps, 1)
        if self._not_finite or not torch.isfinite(self._head_loss):
            mean_loss = float("nan")
        reason = divergence(mean_loss, self.first_loss)
        if reason is not None:
            self.diverged = True
            self.divergence_reason = reason
            self.trainer.should_stop = True

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["first_loss"] = self.first_loss

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.first_loss = checkpoint.get("first_loss")

    def epoch_metrics(self) -> dict[str, torch.Tensor]:
        """This epoch's training metrics so far, averaged over its steps."""
        steps = max(self._steps, 1)
        means = (self._stats / steps).cpu()
        logs = {"train/loss": means[:, 0].sum(), "train/head_loss": self._head_loss.cpu() / steps}
        logs["train/head_accuracy"] = 100 * self._head_correct.cpu() / steps
        logs["train/lr_factor"] = torch.tensor(self.lr_factor)
        for i, row in enumerate(means):
            for name, value in zip(self.stat_names, row, strict=True):
                logs[f"train/layer{i}/{name}"] = 100 * value if name in PERCENT_STATS else value
        return logs

    def on_train_epoch_end(self) -> None:
        self._check_divergence()
        metrics = self.epoch_metrics()
        # the loss and the validation errors are what the progress bar shows
        self.log("train/loss", metrics.pop("train/loss"), on_epoch=True, prog_bar=True)
        self.log_dict(metrics, on_epoch=True)

    # -- evaluation -----------------------------------------------------------------------------
    def predict_goodness(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predict_head(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predict_both(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The predicted classes in goodness and in head inference (a subclass whose two modes
        read one pass computes it once)."""
        return self.predict_goodness(x), self.predict_head(x)

    def _eval_step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> None:
        x, y = batch
        by_goodness, by_head = self.predict_both(x)
        self.metrics[f"{stage}_goodness"].update(by_goodness, y)
        self.metrics[f"{stage}_head"].update(by_head, y)

    def _eval_epoch_end(self, stage: str) -> None:
        for mode in ("goodness", "head"):
            metric = self.metrics[f"{stage}_{mode}"]
            error = 100.0 * (1.0 - metric.compute())
            self.log(f"{stage}/error_{mode}", error, sync_dist=True, prog_bar=stage == "val")
            metric.reset()

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self._eval_epoch_end("val")

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._eval_epoch_end("test")
