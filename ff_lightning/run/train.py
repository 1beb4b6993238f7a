"""The training task: train(cfg) builds everything from the composed Hydra config and runs it."""

import logging
import os
import platform
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from ff_lightning.models.distributed import end_process_group, gather_digests
from ff_lightning.run.builders import build, build_logger, build_model, build_trainer, checkpoint_callbacks
from ff_lightning.run.callbacks import BestValidation, EpochBar, EpochSummary
from ff_lightning.run.checkpoints import AtomicCheckpointIO, RunState, checkpoint_epochs, resolve_ckpt_path
from ff_lightning.run.console import progress_bar_wanted, route_lightning_logs
from ff_lightning.run.ddp_jobs import ddp_children_run_this_job
from ff_lightning.run.interrupts import Interrupted, SignalRecord
from ff_lightning.run.jobs import RESULTS_FILE, check_output_folder, hydra_choices, hydra_overrides
from ff_lightning.run.loggers import (
    as_list,
    carry_csv_history,
    finish_wandb,
    keep_run_id,
    log_weights,
    wandb_info,
)
from ff_lightning.run.results import at_chance, chance_error, write_atomic, write_results
from ff_lightning.run.run_folder import clear_old_run
from ff_lightning.run.validate import validate_config
from ff_lightning.run.weights import weight_stats

log = logging.getLogger("ff_lightning")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"{device.type} ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def debug_reason(cfg: DictConfig) -> str | None:
    """The trainer setting that makes this run a check rather than a result (it trains on a few
    batches or on part of the data, or tests on part of the test set), e.g.
    `trainer.fast_dev_run=True`; None for a real run. Less validation (limit_val_batches, 0 to
    skip it) changes no result and is left alone."""
    trainer = cfg.trainer
    for key in ("fast_dev_run", "overfit_batches"):
        if trainer.get(key):
            return f"trainer.{key}={trainer.get(key)}"
    for key in ("limit_train_batches", "limit_test_batches"):
        if trainer.get(key) not in (None, 1, 1.0):
            return f"trainer.{key}={trainer.get(key)}"
    return None


def train(cfg: DictConfig) -> dict[str, Any]:
    """Train and test one configuration; write its resolved config and results.json.

    Under DDP every rank runs this function; rank 0 alone writes files."""
    started = time.perf_counter()
    out_dir = Path(cfg.paths.output_dir)
    results_path = out_dir / RESULTS_FILE
    # Lightning sets the rank of the processes it starts from their environment
    rank_zero = rank_zero_only.rank == 0
    route_lightning_logs()
    if rank_zero:
        log.info("run folder: %s", out_dir)
        check_output_folder(cfg)
    validate_config(cfg)
    choices = hydra_choices()
    # first, before any torch operation: threads started later copy this thread's setting.
    # False where the CPU cannot flush
    wanted = cfg.get("flush_denormal", True)
    flush_denormal = torch.set_flush_denormal(wanted) and wanted
    ckpt_path = resolve_ckpt_path(cfg.get("ckpt_path"), out_dir, cfg)
    prepare_folder(cfg, out_dir, fresh=not ckpt_path, rank_zero=rank_zero)

    torch.set_float32_matmul_precision(cfg.get("float32_matmul_precision", "highest"))
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule = build(cfg.dataset)
    datamodule.prepare_splits()  # a missing data folder stops the run here, before training
    model = build_model(cfg, datamodule)

    debug = debug_reason(cfg)
    if debug and rank_zero:
        log.info("debug run (%s): no logger, results.json status 'debug'", debug)
    logger = build_logger(cfg) if not debug else False
    if ckpt_path and logger and Path(ckpt_path).parent.parent == out_dir:
        carry_csv_history(logger, checkpoint_epochs(ckpt_path))
    summary = EpochSummary()
    trainer = run_trainer(cfg, summary, logger, has_validation=datamodule.val_size > 0)
    results: dict[str, Any] = {}
    record = SignalRecord().install()
    try:
        if logger:
            # the group options by name (trick=symba, activation=tanh), so that W&B can group
            # and filter a sweep's runs by them; the resolved config holds only their contents
            hparams = OmegaConf.to_container(cfg, resolve=True)
            for one in as_list(logger):
                one.log_hyperparams({**hparams, "choices": choices})
            if rank_zero:
                keep_run_id(logger)
        with ddp_children_run_this_job(trainer):
            # the run's own checkpoints hold its config and RNG states, which weights_only rejects
            trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=False)
            # also set when Lightning resumed from its own SLURM requeue checkpoint
            resumed_from = trainer.ckpt_path
            diverged = bool(getattr(model, "diverged", False))
            # the test loop resets callback_metrics, so keep what training and validation logged
            metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
            digests = gather_digests(model)
            if not diverged and cfg.get("test", True):
                trainer.test(model, datamodule=datamodule, verbose=False)
                metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()})
            end_process_group()
        if not trainer.is_global_zero:
            return {}
        fit = FitOutcome(resumed_from, diverged, metrics, digests)
        results = finished_results(cfg, trainer, model, datamodule, logger, summary, fit, debug)
        results |= {"flush_denormal": flush_denormal, "wall_seconds": time.perf_counter() - started}
        write_results(results_path, results)
        if logger:
            log_weights(logger, results["weights"], results["epochs_completed"])
    except BaseException as exc:
        if record.received is None:
            raise
        if not isinstance(exc, (SystemExit, KeyboardInterrupt, Interrupted)):
            # raised by Lightning's own shutdown after the signal (its on_exception hooks, the
            # loggers' finalize): the run still stopped on the signal, and is recorded so
            name = signal.Signals(record.received).name
            log.warning("while stopping on %s: %s: %s", name, type(exc).__name__, exc)
        epochs = trainer.current_epoch
        if rank_zero:
            write_results(results_path, interrupted_results(cfg, record.received, epochs, summary, started))
        raise Interrupted(record.received, epochs) from None
    finally:
        record.restore()
        finish_wandb(logger)
    log_outcome(cfg, results, results_path)
    return results


def log_outcome(cfg: DictConfig, results: dict[str, Any], results_path: Path) -> None:
    """The run's last lines: a divergence, debug=overfit's verdict, and the errors."""
    if results.get("divergence_reason"):
        log.warning("diverged: %s", results["divergence_reason"])
    if cfg.trainer.get("overfit_batches"):
        log_overfit_check(results)
    # without the test set (test=false, a search), the validation errors the run was judged on
    split = "test" if cfg.get("test", True) else "val"
    log.info(
        "%s: %s/error_goodness %s, %s/error_head %s -> %s%s",
        results["status"],
        split,
        _pct(results[f"{split}/error_goodness"]),
        split,
        _pct(results[f"{split}/error_head"]),
        results_path,
        "".join(f" ({mode} at chance level)" for mode, v in (results.get("at_chance") or {}).items() if v),
    )


def prepare_folder(cfg: DictConfig, out_dir: Path, fresh: bool, rank_zero: bool) -> None:
    """The run folder, with the resolved config in it; overwrite=true on a fresh start removes an
    earlier run's files first (rank 0 alone writes)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if not rank_zero:
        return
    if cfg.get("overwrite", False) and fresh:
        removed = clear_old_run(out_dir)
        if removed:
            log.info("overwrite=true: removed the earlier run's %s", ", ".join(removed))
    write_atomic(out_dir / "config_resolved.yaml", OmegaConf.to_yaml(cfg, resolve=True))


def run_trainer(cfg: DictConfig, summary: EpochSummary, logger: Any, has_validation: bool) -> L.Trainer:
    """The Trainer of cfg.trainer with the run's own callbacks (the epoch summary, the best
    validation errors, the run state in checkpoints, the progress bar on a terminal) and the
    configured checkpoints and weight averaging."""
    checkpoints = checkpoint_callbacks(cfg, has_validation=has_validation)
    callbacks = [summary, BestValidation(), RunState(cfg), *checkpoints]
    if cfg.get("weight_averaging"):
        callbacks.append(instantiate(cfg.weight_averaging))
    bar = progress_bar_wanted(cfg.trainer.get("enable_progress_bar"))
    if bar:
        # first, so that an epoch's bar is closed (its line ended) before the epoch's log line
        callbacks.insert(0, EpochBar())
    kwargs: dict[str, Any] = {"enable_checkpointing": bool(checkpoints), "enable_progress_bar": bar}
    if not has_validation:
        kwargs["limit_val_batches"] = 0
    # checkpoints written whole or not at all (a full disk keeps the last complete one)
    kwargs["plugins"] = [AtomicCheckpointIO()]
    return build_trainer(cfg, callbacks, logger, **kwargs)


@dataclass
class FitOutcome:
    """What fitting left: the checkpoint it resumed from, whether it diverged, the metrics of
    training, validation and the test, and each process's digest of the final weights."""

    resumed_from: str | None
    diverged: bool
    metrics: dict[str, float]
    digests: list[str]


def run_record(cfg: DictConfig, summary: EpochSummary) -> dict[str, Any]:
    """What every results.json holds, finished or interrupted: the seed, the times and
    validation errors of each epoch, and what was chosen."""
    return {
        "seed": cfg.seed,
        # the training part of each epoch, validation left out (timed apart)
        "epoch_seconds": summary.train_seconds,
        "validation_seconds": summary.validation_seconds,
        # the validation errors after each validated epoch (trainer.check_val_every_n_epoch)
        "val_history": summary.val_history,
        "choices": hydra_choices(),
        "overrides": hydra_overrides(),
    }


def finished_results(
    cfg: DictConfig,
    trainer: L.Trainer,
    model: L.LightningModule,
    datamodule: Any,
    logger: Any,
    summary: EpochSummary,
    fit: FitOutcome,
    debug: str | None,
) -> dict[str, Any]:
    """results.json of a run that ran to its end (completed, diverged, or a debug run)."""
    results = {
        "status": "diverged" if fit.diverged else "debug" if debug else "completed",
        "debug_reason": debug,
        "divergence_reason": getattr(model, "divergence_reason", None),
        **run_record(cfg, summary),
        "device": device_name(trainer.strategy.root_device),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        # the processes that trained it (DDP) and a digest of each one's final weights
        "world_size": trainer.world_size,
        "weights_sha256_per_rank": fit.digests,
        "resumed_from": fit.resumed_from,
        "epochs_completed": trainer.current_epoch,
        "seconds_per_epoch": (
            sum(summary.train_seconds) / len(summary.train_seconds) if summary.train_seconds else None
        ),
        "hidden_dims": list(getattr(model, "hidden_dims", [])),
        "thresholds": list(getattr(model, "thetas", [])),
        "weights": weight_stats(model.hidden_layers),
        # how the data was prepared (IMDb: cache use and the seconds each stage took)
        "data": getattr(datamodule, "info", {}),
        "train_samples": len(datamodule.splits["train"][1]),
        "wandb": wandb_info(logger),
    }
    for key in ("val/error_goodness", "val/error_head", "test/error_goodness", "test/error_head"):
        results[key] = None if fit.diverged else fit.metrics.get(key)
    # no better than always answering the most frequent class: a finding (tanh at theta =
    # units), not a fault, and the report keeps such runs out of its means
    # judged on the test set, or on the validation split in a run without it (test=false)
    split = "test" if cfg.get("test", True) or not datamodule.val_size else "val"
    labels = datamodule.splits[split][1]
    results["chance_error"] = round(chance_error(labels, datamodule.num_classes), 4)
    results["at_chance"] = {
        mode: at_chance(results[f"{split}/error_{mode}"], results["chance_error"], len(labels))
        for mode in ("goodness", "head")
    }
    results["metrics"] = fit.metrics
    return results


def interrupted_results(
    cfg: DictConfig, signum: int, epochs: int, summary: EpochSummary, started: float
) -> dict[str, Any]:
    """results.json of a run stopped by a signal: what it had done, and how to go on."""
    return {
        "status": "interrupted",
        "signal": signal.Signals(signum).name,
        **run_record(cfg, summary),
        "epochs_completed": epochs,
        "wall_seconds": time.perf_counter() - started,
        "resume": "ckpt_path=last in the same hydra.run.dir",
    }


def log_overfit_check(results: dict[str, Any]) -> None:
    """debug=overfit's verdict: did the head classify every sample of its batch?"""
    accuracy = results["metrics"].get("train/head_accuracy")
    if accuracy is None:
        log.info("overfit check: this model logs no training accuracy (train/loss shows the fit)")
        return
    epochs = results["epochs_completed"]
    if accuracy >= 99.95:
        log.info("overfit check passed: the head classified every training sample after %d epochs", epochs)
    else:
        log.warning("overfit check: the head's training accuracy is %.1f%% after %d epochs", accuracy, epochs)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}%"
