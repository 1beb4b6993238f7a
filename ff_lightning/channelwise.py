"""ChannelwiseFFModule: convolutional layers trained layer by layer with the channel-wise
competitive objective of Papachristodoulou et al. (AAAI 2024, arXiv 2312.12668).

Each class owns an equal group of every layer's channels. A layer's goodness for class c is the
mean squared activity of group c (goodness.class_goodness), and the layer learns, with its own
optimizer and on its detached input, from the cross-entropy of a softmax over those goodnesses
(goodness.channelwise_loss). No label is written into the image and no negative data is made:
the true class's channels compete with the others' on the same image.

Inference: goodness mode sums each layer's log-softmax over its class goodnesses (layers from
goodness_from_layer on) and picks the largest; head mode is a linear softmax head on the
normalised activities, trained on detached features as FFModule's.
"""

import logging
from collections.abc import Callable, Iterable

import lightning.pytorch as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from ff_lightning.divergence import divergence
from ff_lightning.goodness import channelwise_loss, class_goodness
from ff_lightning.lr_schedules import lr_factor
from ff_lightning.nets import FFConvNet, conv_features, image_shape
from ff_lightning.settings import ChannelwiseSettings, check, check_channel_groups, check_conv

log = logging.getLogger(__name__)

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]

# per-layer training statistics, summed over an epoch's steps: the layer's loss and the share of
# images whose largest class goodness is the true class's
STATS = ("loss", "accuracy")


class ChannelwiseFFModule(L.LightningModule):
    """Channel-wise FF for conv networks (see the module's docstring). The settings' defaults,
    types and ranges are their declarations in ff_lightning.settings.ChannelwiseSettings."""

    def __init__(
        self,
        input_dim: int,
        num_classes: int,
        hidden_dims: list[int],
        conv: dict,
        activation: nn.Module,
        optimizer: OptimizerFactory,
        head_optimizer: OptimizerFactory | None = None,
        goodness_from_layer: int = ChannelwiseSettings.goodness_from_layer,
        divergence_check_every: int = ChannelwiseSettings.divergence_check_every,
        lr_schedule: str = ChannelwiseSettings.lr_schedule,
    ) -> None:
        super().__init__()
        settings = {"goodness_from_layer": goodness_from_layer, "lr_schedule": lr_schedule}
        check("model", ChannelwiseSettings, settings | {"divergence_check_every": divergence_check_every})
        check_conv(conv, hidden_dims, input_dim)
        check_channel_groups(hidden_dims, num_classes)
        if not 0 <= goodness_from_layer < len(hidden_dims):
            raise ValueError(
                f"model.goodness_from_layer must be between 0 and {len(hidden_dims) - 1} "
                f"for {len(hidden_dims)} layers, got {goodness_from_layer}"
            )
        self.automatic_optimization = False
        self.save_hyperparameters(ignore=["activation", "optimizer", "head_optimizer"], logger=False)
        self.num_classes = num_classes
        self.hidden_dims = list(hidden_dims)
        self.goodness_from_layer = goodness_from_layer
        self.divergence_check_every = divergence_check_every
        self.lr_schedule = lr_schedule
        self.optimizer_factory = optimizer
        self.head_optimizer_factory = head_optimizer or optimizer

        image = image_shape(input_dim)
        pool = list(conv["pool"])
        self.net = FFConvNet(image, self.hidden_dims, conv["kernel_size"], pool, activation)
        self.head = nn.Linear(conv_features(image, self.hidden_dims, pool, goodness_from_layer), num_classes)
        self.metrics = nn.ModuleDict(
            {
                f"{stage}_{mode}": MulticlassAccuracy(num_classes, average="micro")
                for stage in ("val", "test")
                for mode in ("goodness", "head")
            }
        )
        self.lr_factor = 1.0
        self.diverged = False
        self.divergence_reason: str | None = None
        self.first_loss: float | None = None
        self._first_loss: torch.Tensor | None = None
        self._stats = torch.zeros(len(self.hidden_dims), len(STATS))
        self._head_loss = torch.zeros(())
        self._head_correct = torch.zeros(())
        self._steps = 0

    # -- inference ------------------------------------------------------------------------------
    @torch.no_grad()
    def predict_goodness(self, x: torch.Tensor) -> torch.Tensor:
        """The class whose channels are most active, every layer's vote a log-softmax."""
        acts = self.net.activities(x)[self.goodness_from_layer :]
        votes = sum(F.log_softmax(class_goodness(h, self.num_classes), dim=1) for h in acts)
        return votes.argmax(dim=1)

    @torch.no_grad()
    def head_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.head_features(x, self.goodness_from_layer)

    @torch.no_grad()
    def predict_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.head_features(x)).argmax(dim=1)

    # -- training -------------------------------------------------------------------------------
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
        self._stats = torch.zeros(len(self.hidden_dims), len(STATS), device=self.device)
        self._head_loss = torch.zeros((), device=self.device)
        self._head_correct = torch.zeros((), device=self.device)
        self._steps = 0

    def training_step(
        self,
        batch: tuple[torch.Tensor, torch.Tensor] | list[tuple[torch.Tensor, torch.Tensor]],
        batch_idx: int,
    ) -> None:
        for x, y in batch if isinstance(batch, list) else [batch]:
            if self.diverged:
                return
            self._train_minibatch(x, y)

    def _train_minibatch(self, x: torch.Tensor, y: torch.Tensor) -> None:
        *layer_opts, head_opt = self.optimizers()
        h = self.net.first_input(x)
        for i, (layer, opt) in enumerate(zip(self.net.layers, layer_opts, strict=True)):
            # the detached input: this layer's loss never reaches the layer below
            out = layer(h.detach())
            g = class_goodness(out, self.num_classes)
            loss = channelwise_loss(g, y)
            opt.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            opt.step()
            correct = (g.detach().argmax(dim=1) == y).float().mean()
            self._stats[i] += torch.stack([loss.detach(), correct])
            h = out.detach()

        logits = self.head(self.head_features(x))
        head_loss = F.cross_entropy(logits, y)
        self._head_correct += (logits.detach().argmax(dim=1) == y).float().mean()
        head_opt.zero_grad(set_to_none=True)
        self.manual_backward(head_loss)
        head_opt.step()
        self._head_loss += head_loss.detach()

        self._steps += 1
        if self.first_loss is None and self._first_loss is None:
            self._first_loss = self._stats[:, 0].sum().clone()
        if self._steps % self.divergence_check_every == 0:
            self._check_divergence()

    def _check_divergence(self) -> None:
        if self.first_loss is None and self._first_loss is not None:
            self.first_loss = float(self._first_loss)
        mean_loss = float(self._stats[:, 0].sum()) / max(self._steps, 1)
        if not torch.isfinite(self._head_loss):
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
        logs["train/head_accuracy"] = self._head_correct.cpu() / steps
        logs["train/lr_factor"] = torch.tensor(self.lr_factor)
        for i, row in enumerate(means):
            for name, value in zip(STATS, row, strict=True):
                logs[f"train/layer{i}/{name}"] = value
        return logs

    def on_train_epoch_end(self) -> None:
        self._check_divergence()
        metrics = self.epoch_metrics()
        self.log("train/loss", metrics.pop("train/loss"), on_epoch=True, prog_bar=True)
        self.log_dict(metrics, on_epoch=True)

    # -- evaluation -----------------------------------------------------------------------------
    def _eval_step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> None:
        x, y = batch
        self.metrics[f"{stage}_goodness"].update(self.predict_goodness(x), y)
        self.metrics[f"{stage}_head"].update(self.predict_head(x), y)

    def _eval_epoch_end(self, stage: str) -> None:
        for mode in ("goodness", "head"):
            metric = self.metrics[f"{stage}_{mode}"]
            self.log(f"{stage}/error_{mode}", 100.0 * (1.0 - metric.compute()), prog_bar=stage == "val")
            metric.reset()

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self._eval_epoch_end("val")

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._eval_epoch_end("test")

    @property
    def hidden_layers(self) -> list[nn.Conv2d]:
        return [layer.conv for layer in self.net.layers]
