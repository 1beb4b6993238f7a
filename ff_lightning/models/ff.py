"""FFModule: Forward-Forward training as a LightningModule with manual optimisation.

Every FF layer has its own optimizer and learns from its own loss on its detached input; a
linear softmax head learns from the normalised activities of the upper layers, fed a neutral
label. Both inference modes (goodness over labels, and the head) are evaluated.
"""

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, fields, is_dataclass, replace

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ff_lightning.algorithm.activations import activation_bound, activation_range
from ff_lightning.algorithm.ff_step import StepSettings, ff_minibatch
from ff_lightning.algorithm.labels import embed_label, embedded_dim, neutral_code, one_hot
from ff_lightning.algorithm.negatives import NegativeSampler
from ff_lightning.algorithm.nets import FFConvNet, FFNet, conv_features, image_shape
from ff_lightning.algorithm.step import STATS, LayerStep, layer_step
from ff_lightning.algorithm.thresholds import ThresholdSchedule, thetas
from ff_lightning.algorithm.whole_step import AdamState, AdamSteps, unsupported, whole_step
from ff_lightning.declarations import check
from ff_lightning.models.distributed import average_, average_gradients, world_size
from ff_lightning.models.layerwise import LayerwiseModule, optimizer_factory
from ff_lightning.models.settings import FFSettings, check_conv, check_negatives_per_image

log = logging.getLogger(__name__)


def reference_init(net: FFNet, head: nn.Linear) -> None:
    """loeweX/Forward-Forward's initialisation: every FF weight drawn from N(0, 1/sqrt(fan_out)),
    zero biases, and the head's weights at zero."""
    with torch.no_grad():
        for layer in net.layers:
            nn.init.normal_(layer.linear.weight, mean=0.0, std=layer.linear.out_features**-0.5)
            nn.init.zeros_(layer.linear.bias)
        nn.init.zeros_(head.weight)


class LightningSteps:
    """The per-layer path's gradients (ff_step.GradientSteps): Lightning's manual_backward into
    each parameter's .grad (precision plugins included), then each Lightning optimizer's step, so
    any torch optimizer trains; under DDP the gradients (and the peer-normalisation means) are
    averaged across processes first."""

    def __init__(self, module: "FFModule") -> None:
        self.module = module
        self.opts = module.optimizers()

    def backward(self, index: int, loss: torch.Tensor) -> None:
        self.opts[index].zero_grad(set_to_none=True)
        self.module.manual_backward(loss)

    def step_layers(self) -> None:
        module = self.module
        if module._world > 1:
            average_gradients(module.net.layers)
            if module.step_settings.layer_steps[0].peer_normalisation > 0:
                average_([layer.running_mean for layer in module.net.layers])
        for opt in self.opts[:-1]:
            opt.step()

    def step_head(self) -> None:
        if self.module._world > 1:
            average_gradients([self.module.head])
        self.opts[-1].step()


class FFModule(LayerwiseModule):
    """Forward-Forward training (see the module's docstring). The FF settings' defaults, types
    and ranges are their declarations in ff_lightning.models.settings.FFSettings."""

    def __init__(
        self,
        settings: FFSettings,
        input_dim: int,
        num_classes: int,
        activation: nn.Module,
        threshold: ThresholdSchedule,
        label_mode: str = "overwrite",
        label_scale: float | None = None,
    ) -> None:
        """`settings`: the model's own (model.*, each declared with its type and range in
        FFSettings); the rest comes from the data (input size, classes, how the label is written)
        and from the activation and threshold config groups."""
        s = settings
        check("model", FFSettings, {f.name: getattr(s, f.name) for f in fields(FFSettings)})
        hidden_dims = list(s.hidden_dims)
        conv = asdict(s.conv) if is_dataclass(s.conv) else s.conv
        super().__init__(
            num_classes,
            len(hidden_dims),
            STATS,
            optimizer_factory(s.optimizer),
            optimizer_factory(s.head_optimizer),
            s.lr_schedule,
            s.divergence_check_every,
        )
        check_negatives_per_image(s.negatives_per_image, num_classes)
        if conv is not None:
            check_conv(conv, hidden_dims, num_classes, input_dim)
            if s.peer_normalisation > 0 or s.init != "default":
                raise ValueError(
                    "model=ff_cnn does not offer model.peer_normalisation or model.init=reference; "
                    "leave them at 0 and default"
                )
        self.save_hyperparameters(ignore=["settings", "activation", "threshold"], logger=False)
        self.settings = s
        self.hidden_dims = hidden_dims
        self.label_mode = label_mode
        self.label_scale = label_scale
        self.goodness_from_layer = goodness_from_layer = s.goodness_from_layer
        self.threshold_schedule = threshold
        self.activation_bound = activation_bound(activation)
        self.threshold_range_fraction = s.threshold_range_fraction
        self.compile_step = s.compile_step
        self.compile_mode = s.compile_mode
        self.whole_step = s.whole_step
        self._compiled = False
        self._layer_step = layer_step
        # set at the first training epoch's start when the whole step trains: the step function and
        # the Adam states it updates (those of the Lightning optimizers, so checkpoints hold them)
        self._whole = False
        self._whole_step: Callable | None = None
        self._adam: list[AdamState] = []
        self._world = 1
        # one step configuration per layer: the first layer's input is the image and its label,
        # never dropped
        step = LayerStep(
            s.objective,
            s.symba_alpha,
            s.peer_normalisation,
            s.peer_momentum,
            s.dropout,
            s.negatives_per_image,
            activation_range(activation),
            s.threshold_loss_average,
        )
        layer_steps = (replace(step, dropout=0.0), *[step] * (len(hidden_dims) - 1))

        if conv is None:
            self.net = FFNet(embedded_dim(input_dim, num_classes, label_mode), self.hidden_dims, activation)
            head_in = sum(self.hidden_dims[goodness_from_layer:])
        else:
            # model=ff_cnn: the label goes in as one constant plane per class (label_mode concat)
            self.label_mode = label_mode = "concat"
            image = image_shape(input_dim)
            pool = list(conv["pool"])
            planes = num_classes
            self.net = FFConvNet(image, self.hidden_dims, conv, activation, num_classes, label_planes=planes)
            # theta = channels, the scale of a conv layer's goodness (goodness.goodness); the head
            # reads every channel at every position
            head_in = conv_features(image, self.hidden_dims, pool, goodness_from_layer)
        # reference: loeweX/Forward-Forward's, a bias-free head that starts at zero
        self.head = nn.Linear(head_in, num_classes, bias=s.init == "default")
        if s.init == "reference":
            reference_init(self.net, self.head)
        for layer in self.net.layers:
            layer.running_mean.fill_(s.peer_mean_init)
        # what every training minibatch shares (ff_step.ff_minibatch)
        self.step_settings = StepSettings(
            layer_steps,
            NegativeSampler(s.negatives, s.negatives_per_image),
            num_classes,
            s.input_dropout,
            goodness_from_layer,
            self.label_mode,
            label_scale,
        )
        self.thetas = self.thresholds_at(epoch=0)
        self._theta_tensor = torch.tensor(self.thetas, dtype=torch.float32)

    def thresholds_at(self, epoch: int) -> list[float]:
        return thetas(
            self.threshold_schedule,
            self.hidden_dims,
            epoch,
            bound=self.activation_bound,
            range_fraction=self.threshold_range_fraction,
        )

    # -- inputs ---------------------------------------------------------------------------------
    def with_label(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return embed_label(x, one_hot(labels, self.num_classes, x.dtype), self.label_mode, self.label_scale)

    def with_neutral_label(self, x: torch.Tensor) -> torch.Tensor:
        code = neutral_code(x.shape[0], self.num_classes, x)
        return embed_label(x, code, self.label_mode, self.label_scale)

    # -- inference ------------------------------------------------------------------------------
    @torch.no_grad()
    def predict_goodness(self, x: torch.Tensor) -> torch.Tensor:
        """Try every label; predict the one with the largest goodness summed over upper layers."""
        n, c = x.shape[0], self.num_classes
        labels = torch.arange(c, device=x.device).repeat_interleave(n)
        gs = self.net.goodness_per_layer(self.with_label(x.repeat(c, 1), labels))
        total = torch.stack(gs[self.goodness_from_layer :]).sum(dim=0)
        return total.view(c, n).argmax(dim=0)

    @torch.no_grad()
    def head_features(self, x: torch.Tensor) -> torch.Tensor:
        """What the softmax head reads: the normalised upper-layer activities for x with the
        neutral label (no gradient reaches the FF layers)."""
        return self.net.head_features(self.with_neutral_label(x), self.goodness_from_layer)

    @torch.no_grad()
    def predict_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.head_features(x)).argmax(dim=1)

    # -- training -------------------------------------------------------------------------------
    def on_fit_start(self) -> None:
        # auto: compile where launch overhead dominates (CUDA: the graphs replay whole layer steps)
        self._compiled = self.compile_step is True or (
            self.compile_step is None and self.device.type == "cuda"
        )
        self._world = world_size()
        self._layer_step = layer_step
        self._whole_step = None
        self._whole = self._uses_whole_step()
        if self._compiled and not self._whole:
            self._layer_step = self._compile(layer_step)

    def _compile(self, fn: Callable, **kwargs: object) -> Callable:
        # CUDA graphs on CUDA (compile_mode); inductor's default mode elsewhere
        mode = self.compile_mode if self.device.type == "cuda" else "default"
        return torch.compile(fn, mode=mode, **kwargs)

    def _uses_whole_step(self) -> bool:
        """Whether this fit trains with whole_step: asked for (true), or by default (null) on the
        CPU, and only where whole_step computes what the per-layer steps would."""
        if self.whole_step is False or (self.whole_step is None and self.device.type != "cpu"):
            return False
        *layer_opts, head_opt = self.optimizers()
        reasons = [
            ("model.optimizer", unsupported(layer_opts[0].optimizer)),
            ("model.head_optimizer", unsupported(head_opt.optimizer)),
            ("trainer.devices", f"{self._world} processes" if self._world > 1 else None),
        ]
        for name, reason in reasons:
            if reason is not None:
                if self.whole_step:
                    log.warning("model.whole_step: %s is %s; training with the per-layer steps", name, reason)
                return False
        return True

    def _start_whole_step(self) -> None:
        # after a resume has loaded the optimizers' states, so the whole step carries them on
        self._adam = [AdamState.of(opt.optimizer) for opt in self.optimizers()]
        self._graph_settings = replace(self.step_settings, in_graph=True)
        self._whole_step = whole_step
        if self._compiled:
            self._whole_step = self._compile(whole_step, fullgraph=True)

    def on_train_epoch_start(self) -> None:
        if self._whole and self._whole_step is None:
            self._start_whole_step()
        super().on_train_epoch_start()  # the epoch's learning rates; its statistics start at zero
        self.thetas = self.thresholds_at(self.current_epoch)
        # a tensor, so that a threshold that changes between epochs is data, not a recompile
        self._theta_tensor = torch.tensor(self.thetas, device=self.device, dtype=torch.float32)
        # each optimizer's rate (the layers', then the head's) as a tensor: a schedule changes
        # data, not a compiled step
        self._lrs = [
            torch.tensor(opt.optimizer.param_groups[0]["lr"], device=self.device) for opt in self.optimizers()
        ]

    def training_step(
        self,
        batch: tuple[torch.Tensor, torch.Tensor] | list[tuple[torch.Tensor, torch.Tensor]],
        batch_idx: int,
    ) -> None:
        # a list holds several minibatches (dataset.batches_per_step): each gets its own steps, in
        # order, exactly as if Lightning had handed them over one at a time
        with self._without_ddp_reducer():
            for x, y in batch if isinstance(batch, list) else [batch]:
                if self.diverged:
                    return
                self._train_minibatch(x, y)

    def _without_ddp_reducer(self) -> AbstractContextManager:
        # DDP's reducer syncs every backward; an FF step has one backward per layer and one for the
        # head, each touching only its own parameters. So the reducer stays idle and the module
        # averages the gradients itself: one all-reduce per step for the layers, one for the head.
        wrapped = self.trainer.strategy.model if self._trainer is not None else None
        return wrapped.no_sync() if isinstance(wrapped, DistributedDataParallel) else nullcontext()

    def _train_minibatch(self, x: torch.Tensor, y: torch.Tensor) -> None:
        if self._whole_step is not None:
            self._whole_minibatch(x, y)
        else:
            self._layered_minibatch(x, y)
        self._after_minibatch()

    def _whole_minibatch(self, x: torch.Tensor, y: torch.Tensor) -> None:
        *layer_adam, head_adam = self._adam
        if self._compiled and self.device.type == "cuda":
            # a new iteration for CUDA-graph trees: last step's graph outputs may be reused
            torch.compiler.cudagraph_mark_step_begin()
        # compiled, dynamo traces the per-layer gradients (autograd.grad) into the one graph
        traced = torch._dynamo.config.patch(trace_autograd_ops=True) if self._compiled else nullcontext()
        adam = AdamSteps(layer_adam, head_adam, self._lrs)
        with traced:
            out = self._whole_step(
                self.net, self.head, (x, y), self._theta_tensor, self._stats, self._graph_settings, adam
            )
        self._add_head_results(out)
        # Lightning counts optimizer steps (trainer.global_step, checkpoints, resume) when a
        # LightningOptimizer steps; the whole step stepped each of them once, so count those
        for opt in self.optimizers():
            opt._on_before_step()
            opt._on_after_step()

    def _layered_minibatch(self, x: torch.Tensor, y: torch.Tensor) -> None:
        if self._compiled and self.device.type == "cuda":
            # a new iteration for CUDA-graph trees: last step's graph outputs may be reused
            torch.compiler.cudagraph_mark_step_begin()
        out = ff_minibatch(
            self.net,
            self.head,
            (x, y),
            self._theta_tensor,
            self._stats,
            self.step_settings,
            LightningSteps(self),
            self._layer_step,
        )
        self._add_head_results(out)

    def _add_head_results(self, out: torch.Tensor) -> None:
        """ff_minibatch's [head loss, head accuracy, not finite] into the epoch's sums."""
        self._head_loss += out[0]
        self._head_correct += out[1]
        self._not_finite |= out[2].bool()

    def epoch_metrics(self) -> dict[str, torch.Tensor]:
        logs = super().epoch_metrics()
        for i, theta in enumerate(self.thetas):
            logs[f"train/layer{i}/theta"] = torch.tensor(theta)
        return logs

    @property
    def hidden_layers(self) -> list[nn.Linear]:
        return [layer.linear for layer in self.net.layers]
