"""ChannelwiseFFModule: convolutional layers trained layer by layer with the channel-wise
competitive objective of Papachristodoulou et al. (AAAI 2024, arXiv 2312.12668).

Each class owns an equal group of every layer's channels. A layer's goodness for class c is the
squared activity of group c, summed over its channels and averaged over positions
(goodness.class_goodness), and the layer learns, with its own
optimizer and on its detached input, from the cross-entropy of a softmax over those goodnesses
(goodness.channelwise_loss). No label is written into the image and no negative data is made:
the true class's channels compete with the others' on the same image.

Inference: goodness mode sums each layer's log-softmax over its class goodnesses (layers from
goodness_from_layer on) and picks the largest; head mode is a linear softmax head on the
normalised activities, trained on detached features as FFModule's.
"""

from dataclasses import asdict, fields, is_dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ff_lightning.algorithm.goodness import channelwise_loss, class_goodness
from ff_lightning.algorithm.nets import FFConvNet, conv_features, image_shape
from ff_lightning.declarations import check
from ff_lightning.models.layerwise import LayerwiseModule, optimizer_factory
from ff_lightning.models.settings import (
    ChannelwiseSettings,
    check_channel_groups,
    check_conv,
    check_layer_epochs,
)

# per-layer training statistics, summed over an epoch's steps: the layer's loss and the share of
# images whose largest class goodness is the true class's
STATS = ("loss", "accuracy")


class ChannelwiseFFModule(LayerwiseModule):
    """Channel-wise FF for conv networks (see the module's docstring). The settings' defaults,
    types and ranges are their declarations in ff_lightning.models.settings.ChannelwiseSettings."""

    def __init__(
        self, settings: ChannelwiseSettings, input_dim: int, num_classes: int, activation: nn.Module
    ) -> None:
        """`settings`: the model's own (model.*, each declared with its type and range in
        ChannelwiseSettings); the input size and classes come from the data."""
        s = settings
        check("model", ChannelwiseSettings, {f.name: getattr(s, f.name) for f in fields(ChannelwiseSettings)})
        hidden_dims = list(s.hidden_dims)
        conv = asdict(s.conv) if is_dataclass(s.conv) else dict(s.conv)
        check_conv(conv, hidden_dims, num_classes, input_dim)
        check_channel_groups(hidden_dims, num_classes)
        if not 0 <= s.goodness_from_layer < len(hidden_dims):
            raise ValueError(
                f"model.goodness_from_layer must be between 0 and {len(hidden_dims) - 1} "
                f"for {len(hidden_dims)} layers, got {s.goodness_from_layer}"
            )
        check_layer_epochs(s.layer_epochs, len(hidden_dims))
        super().__init__(
            num_classes,
            len(hidden_dims),
            STATS,
            optimizer_factory(s.optimizer),
            optimizer_factory(s.head_optimizer),
            s.lr_schedule,
            s.divergence_check_every,
        )
        self.save_hyperparameters(ignore=["settings", "activation"], logger=False)
        self.hidden_dims = hidden_dims
        self.goodness_from_layer = s.goodness_from_layer
        self.over_channels = s.class_goodness
        self.layer_epochs = None if s.layer_epochs is None else list(s.layer_epochs)
        image = image_shape(input_dim)
        self.net = FFConvNet(image, hidden_dims, conv, activation, num_classes)
        head_in = conv_features(image, hidden_dims, conv["pool"], s.goodness_from_layer)
        self.head = nn.Linear(head_in, num_classes)

    def learns(self, layer: int) -> bool:
        """Whether a layer learns in this epoch (model.layer_epochs)."""
        return self.layer_epochs is None or self.current_epoch < self.layer_epochs[layer]

    # -- inference ------------------------------------------------------------------------------
    @torch.no_grad()
    def predict_goodness(self, x: torch.Tensor) -> torch.Tensor:
        """The class whose channels are most active, every layer's vote a log-softmax."""
        return self._vote(self.net.activities(x)[self.goodness_from_layer :])

    def _vote(self, acts: list[torch.Tensor]) -> torch.Tensor:
        votes = sum(F.log_softmax(self.class_goodness(h), dim=1) for h in acts)
        return votes.argmax(dim=1)

    @torch.no_grad()
    def predict_both(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both inference modes read the same layers: one pass for the two."""
        acts = self.net.activities(x)[self.goodness_from_layer :]
        return self._vote(acts), self.head(self.net.features_of(acts)).argmax(dim=1)

    @torch.no_grad()
    def head_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.head_features(x, self.goodness_from_layer)

    @torch.no_grad()
    def predict_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.head_features(x)).argmax(dim=1)

    # -- training -------------------------------------------------------------------------------
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
        outs = []
        for i, (layer, opt) in enumerate(zip(self.net.layers, layer_opts, strict=True)):
            learns = self.learns(i)
            # the detached input: this layer's loss never reaches the layer below
            with torch.set_grad_enabled(learns):
                out = layer(h.detach())
                g = self.class_goodness(out)
                loss = channelwise_loss(g, y)
            if learns:
                opt.zero_grad(set_to_none=True)
                self.manual_backward(loss)
                opt.step()
            correct = (g.detach().argmax(dim=1) == y).float().mean()
            self._stats[i] += torch.stack([loss.detach(), correct])
            h = out.detach()
            outs.append(h)

        if any(self.learns(i) for i in range(len(outs))):
            # the head reads the layers as they are after this step's updates
            features = self.head_features(x)
        else:
            # no layer changed: the outputs above are what a second pass would give (BatchNorm's
            # running statistics then move once a step, not twice)
            with torch.no_grad():
                features = self.net.features_of(outs[self.goodness_from_layer :])
        logits = self.head(features)
        head_loss = F.cross_entropy(logits, y)
        self._head_correct += (logits.detach().argmax(dim=1) == y).float().mean()
        head_opt.zero_grad(set_to_none=True)
        self.manual_backward(head_loss)
        head_opt.step()
        self._head_loss += head_loss.detach()
        self._after_minibatch()

    def class_goodness(self, h: torch.Tensor) -> torch.Tensor:
        return class_goodness(h, self.num_classes, self.over_channels)

    @property
    def hidden_layers(self) -> list[nn.Conv2d]:
        return [layer.conv for layer in self.net.layers]
