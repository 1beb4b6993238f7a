"""Epoch timing, the one-line summary printed after every epoch, the best validation errors, and
the progress bar on a terminal."""

import logging
import time
from typing import Any

import lightning.pytorch as L
from lightning.pytorch.callbacks import Callback, TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm, convert_inf
from lightning.pytorch.trainer.states import TrainerFn

log = logging.getLogger("ff_lightning")

# the validation errors the epoch summary keeps and the best-so-far values follow
VAL_KEYS = ("val/error_goodness", "val/error_head")


class EpochSummary(Callback):
    """Times the training part of each epoch and its validation pass apart, keeps each validated
    epoch's errors (results.json's `val_history`, for verdicts at several training budgets from
    one run), and prints loss, validation errors and seconds.

    Lightning validates inside the training epoch (before on_train_epoch_end), with
    `trainer.training` already off, so the training part ends where validation starts. The lists
    travel in checkpoints, so a resumed run keeps one entry per epoch of its whole history."""

    def __init__(self) -> None:
        self.train_seconds: list[float] = []
        self.validation_seconds: list[float] = []
        # {"epoch": 1-based epoch, "val/error_goodness": %, "val/error_head": %} per validated epoch
        self.val_history: list[dict[str, float | int]] = []
        # None: this process did not see the epoch start (a resume from a checkpoint written at
        # the epoch's validation, whose times and errors the checkpoint already holds)
        self._start: float | None = None
        self._timed = False
        self._validation_start = 0.0
        self._validated = False

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.perf_counter()
        self._timed = False
        self._validated = False

    def _end_training_part(self, now: float) -> None:
        """The epoch's training part ends where its validation starts, or at its end without one:
        timed once, before a checkpoint written at the validation could miss it."""
        if self._start is not None and not self._timed:
            self.train_seconds.append(now - self._start)
            self._timed = True

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._validation_start = time.perf_counter()
        if trainer.state.fn == TrainerFn.FITTING and not trainer.sanity_checking:
            self._end_training_part(self._validation_start)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.state.fn == TrainerFn.FITTING and not trainer.sanity_checking:
            self.validation_seconds.append(time.perf_counter() - self._validation_start)
            self._validated = True
            # the errors now, so that a checkpoint written at this validation holds them
            m = trainer.callback_metrics
            entry: dict[str, float | int] = {"epoch": trainer.current_epoch + 1}
            entry.update({key: float(m[key]) for key in VAL_KEYS if key in m})
            self.val_history.append(entry)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._start is None:
            return  # resumed at this epoch's end: its line was printed before the checkpoint
        now = time.perf_counter()
        self._end_training_part(now)
        # the module logs its epoch metrics after callbacks run, so ask it directly
        m = dict(trainer.callback_metrics)
        if hasattr(pl_module, "epoch_metrics"):
            m.update(pl_module.epoch_metrics())
        parts = [f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}"]
        # an overfit check (trainer.overfit_batches) is judged by its training accuracy
        shown = (("train/head_accuracy", "train/head_accuracy {:.1f}%"),) if trainer.overfit_batches else ()
        for key, fmt in (
            ("train/loss", "train/loss {:.4f}"),
            *shown,
            ("val/error_goodness", "val/error_goodness {:.2f}%"),
            ("val/error_head", "val/error_head {:.2f}%"),
        ):
            # an epoch without validation would repeat the last validated epoch's errors
            if key in m and (self._validated or not key.startswith("val/")):
                parts.append(fmt.format(float(m[key])))
        parts.append(f"{self.train_seconds[-1]:.1f} s train, {now - self._start:.1f} s total")
        log.info(" | ".join(parts))

    def state_dict(self) -> dict[str, list]:
        return {
            "train_seconds": list(self.train_seconds),
            "validation_seconds": list(self.validation_seconds),
            "val_history": [dict(e) for e in self.val_history],
        }

    def load_state_dict(self, state_dict: dict) -> None:
        self.train_seconds = list(state_dict.get("train_seconds", []))
        self.validation_seconds = list(state_dict.get("validation_seconds", []))
        self.val_history = [dict(e) for e in state_dict.get("val_history", [])]


class BestValidation(Callback):
    """Logs `val/error_<mode>_best`, the lowest validation error so far, after every epoch.

    Validation runs before on_train_epoch_end, so this epoch's errors are there to compare; the
    best values are kept in checkpoints (state_dict), so a resumed run goes on from them."""

    def __init__(self) -> None:
        self.best: dict[str, float] = {}

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for key in VAL_KEYS:
            if key in trainer.callback_metrics:
                value = float(trainer.callback_metrics[key])
                self.best[key] = min(value, self.best.get(key, value))
        for key, value in self.best.items():
            pl_module.log(f"{key}_best", value)

    def state_dict(self) -> dict[str, dict[str, float]]:
        return {"best": dict(self.best)}

    def load_state_dict(self, state_dict: dict) -> None:
        self.best = dict(state_dict.get("best", {}))


class EpochBar(TQDMProgressBar):
    """Lightning's progress bar, numbered as the log lines count epochs (epoch 1/60, not Epoch 0)
    and short enough for an 80-column terminal: the loss and the last validation errors (goodness
    / head, %), no rate or version number, so that a refresh never wraps onto more lines."""

    BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"

    def __init__(self) -> None:
        # a bar per epoch, closed (its line ended) before the epoch's log line is printed
        super().__init__(leave=True)

    @property
    def train_description(self) -> str:
        return f"epoch {self.trainer.current_epoch + 1}/{self.trainer.max_epochs}"

    def on_train_start(self, *args: Any) -> None:
        # Lightning draws a bar here and another at each epoch's start: one line too many
        self.train_progress_bar = Tqdm(disable=True)

    def on_train_epoch_start(self, trainer: L.Trainer, *args: Any) -> None:
        # Lightning's, less its description "Epoch 0" (this bar has its own from the start)
        self.train_progress_bar = self.init_train_tqdm()
        self.train_progress_bar.reset(total=convert_inf(self.total_train_batches))
        self.train_progress_bar.initial = 0

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, str]:
        metrics = trainer.progress_bar_metrics
        shown = {}
        if "train/loss" in metrics:
            shown["loss"] = f"{float(metrics['train/loss']):.3g}"
        errors = [f"{float(metrics[k]):.2f}" for k in VAL_KEYS if k in metrics]
        if errors:
            shown["val%"] = "/".join(errors)
        return shown
