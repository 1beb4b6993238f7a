"""The backprop twin: the same widths and activation, trained end to end with cross-entropy.

It reads the plain image (no label written in), and logs the same error fields as FFModule so
that reports and sweeps treat both alike; for it both fields hold the plain classification error.
"""

from collections.abc import Callable, Iterable

import lightning.pytorch as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from ff_lightning.algorithm.divergence import divergence
from ff_lightning.algorithm.nets import FFConvNet, conv_shapes, image_shape
from ff_lightning.models.settings import check_conv

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]


def conv_twin(
    input_dim: int, num_classes: int, channels: list[int], conv: dict, activation: nn.Module
) -> nn.Sequential:
    """model=backprop_cnn: the FF conv network's layers themselves (FFConvNet's: each a
    convolution, the activation, the same pools, groups and normalisation), chained end to end,
    then a linear classifier on the last layer's activity."""
    image = image_shape(input_dim)
    pool = list(conv["pool"])
    layers = FFConvNet(image, channels, conv, activation, num_classes).layers
    c, h, w = conv_shapes(image, channels, pool)[-1]
    return nn.Sequential(nn.Unflatten(1, image), *layers, nn.Flatten(), nn.Linear(c * h * w, num_classes))


class BPModule(L.LightningModule):
    def __init__(
        self,
        input_dim: int,
        num_classes: int,
        hidden_dims: list[int],
        activation: nn.Module,
        optimizer: OptimizerFactory,
        conv: dict | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["activation", "optimizer"], logger=False)
        self.hidden_dims = list(hidden_dims)
        if conv is None:
            dims = [input_dim, *hidden_dims]
            layers: list[nn.Module] = []
            for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
                layers += [nn.Linear(d_in, d_out), activation]
            self.net = nn.Sequential(*layers, nn.Linear(dims[-1], num_classes))
        else:
            check_conv(conv, self.hidden_dims, num_classes, input_dim)
            self.net = conv_twin(input_dim, num_classes, self.hidden_dims, conv, activation)
        self.optimizer_factory = optimizer
        self.metrics = nn.ModuleDict(
            {stage: MulticlassAccuracy(num_classes, average="micro") for stage in ("val", "test")}
        )
        self.diverged = False
        self.divergence_reason: str | None = None
        self.first_loss: float | None = None
        self._first_loss: torch.Tensor | None = None
        self._loss_sum = torch.zeros(())
        self._steps = 0

    @property
    def hidden_layers(self) -> list[nn.Linear | nn.Conv2d]:
        return [m for m in self.net.modules() if isinstance(m, nn.Linear | nn.Conv2d)][:-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return self.optimizer_factory(self.parameters())

    def on_train_epoch_start(self) -> None:
        self._loss_sum = torch.zeros((), device=self.device)
        self._steps = 0

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor | None:
        if self.diverged:
            return None  # skips the optimizer step
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self._loss_sum += loss.detach()
        self._steps += 1
        if self.first_loss is None and self._first_loss is None:
            self._first_loss = loss.detach().clone()  # the untrained network's loss, read at epoch end
        return loss

    def epoch_metrics(self) -> dict[str, torch.Tensor]:
        return {"train/loss": self._loss_sum.cpu() / max(self._steps, 1)}

    def on_train_epoch_end(self) -> None:
        metrics = self.epoch_metrics()
        if self.first_loss is None and self._first_loss is not None:
            self.first_loss = float(self._first_loss)
        reason = divergence(float(metrics["train/loss"]), self.first_loss)
        if reason is not None:
            self.diverged = True
            self.divergence_reason = reason
            self.trainer.should_stop = True
        self.log("train/loss", metrics.pop("train/loss"), prog_bar=True)
        self.log_dict(metrics)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["first_loss"] = self.first_loss

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.first_loss = checkpoint.get("first_loss")

    def _eval_step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> None:
        x, y = batch
        self.metrics[stage].update(self(x).argmax(dim=1), y)

    def _eval_epoch_end(self, stage: str) -> None:
        error = 100.0 * (1.0 - self.metrics[stage].compute())
        self.metrics[stage].reset()
        self.log(f"{stage}/error", error, sync_dist=True, prog_bar=stage == "val")
        self.log_dict({f"{stage}/error_goodness": error, f"{stage}/error_head": error}, sync_dist=True)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self._eval_epoch_end("val")

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._eval_epoch_end("test")


def logistic_regression(input_dim: int, num_classes: int, optimizer: OptimizerFactory) -> BPModule:
    """The linear baseline: a BPModule with no hidden layer."""
    return BPModule(input_dim, num_classes, hidden_dims=[], activation=nn.Identity(), optimizer=optimizer)
