"""Epoch timing, the one-line summary printed after every epoch, and the best validation errors."""

import logging
import time

import lightning.pytorch as L
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.trainer.states import TrainerFn

log = logging.getLogger("ff_lightning")


class EpochSummary(Callback):
    """Times the training part of each epoch and its validation pass apart, and prints loss,
    validation errors and seconds.

    Lightning validates inside the training epoch (before on_train_epoch_end), with
    `trainer.training` already off, so the training part ends where validation starts."""

    def __init__(self) -> None:
        self.train_seconds: list[float] = []
        self.validation_seconds: list[float] = []
        self._start = 0.0
        self._train_end: float | None = None
        self._validation_start = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.perf_counter()
        self._train_end = None

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._validation_start = time.perf_counter()
        if trainer.state.fn == TrainerFn.FITTING and self._train_end is None:
            self._train_end = self._validation_start

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.state.fn == TrainerFn.FITTING:
            self.validation_seconds.append(time.perf_counter() - self._validation_start)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        now = time.perf_counter()
        self.train_seconds.append((self._train_end or now) - self._start)
        # the module logs its epoch metrics after callbacks run, so ask it directly
        m = dict(trainer.callback_metrics)
        if hasattr(pl_module, "epoch_metrics"):
            m.update(pl_module.epoch_metrics())
        parts = [f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}"]
        for key, fmt in (
            ("train/loss", "train/loss {:.4f}"),
            ("val/error_goodness", "val/error_goodness {:.2f}%"),
            ("val/error_head", "val/error_head {:.2f}%"),
        ):
            if key in m:
                parts.append(fmt.format(float(m[key])))
        parts.append(f"{self.train_seconds[-1]:.1f} s train, {now - self._start:.1f} s total")
        log.info(" | ".join(parts))


class BestValidation(Callback):
    """Logs `val/error_<mode>_best`, the lowest validation error so far, after every epoch.

    Validation runs before on_train_epoch_end, so this epoch's errors are there to compare; the
    best values are kept in checkpoints (state_dict), so a resumed run goes on from them."""

    KEYS = ("val/error_goodness", "val/error_head")

    def __init__(self) -> None:
        self.best: dict[str, float] = {}

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for key in self.KEYS:
            if key in trainer.callback_metrics:
                value = float(trainer.callback_metrics[key])
                self.best[key] = min(value, self.best.get(key, value))
        for key, value in self.best.items():
            pl_module.log(f"{key}_best", value)

    def state_dict(self) -> dict[str, dict[str, float]]:
        return {"best": dict(self.best)}

    def load_state_dict(self, state_dict: dict) -> None:
        self.best = dict(state_dict.get("best", {}))
