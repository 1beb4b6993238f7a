"""Checks of the Trainer settings against Lightning and against this machine, made before a run
folder exists: an accelerator that is not here, a precision or a Trainer argument that Lightning
does not know, more CPU processes than cores, a network that will not fit in memory.

Lightning is imported only where a value is not one the suite's own configs use, so that the
common case stays fast (importing Lightning takes seconds).
"""

import inspect
import os
from typing import get_args

from omegaconf import DictConfig

from ff_lightning import footprint
from ff_lightning.errors import UserInputError

# what conf/trainer/*.yaml and the debug presets set, and the precisions they use: known good
_COMMON_PRECISIONS = {"32-true", "32", 32, "bf16-mixed", "16-mixed", "64-true", "bf16-true"}
_ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu")
# Trainer arguments the suite's configs and presets use (tests/test_trainer_checks.py holds each to
# Trainer's signature); any other key is looked up in the signature itself
SUITE_TRAINER_ARGUMENTS = frozenset(
    {
        "accelerator",
        "accumulate_grad_batches",
        "benchmark",
        "check_val_every_n_epoch",
        "default_root_dir",
        "deterministic",
        "detect_anomaly",
        "devices",
        "enable_model_summary",
        "enable_progress_bar",
        "fast_dev_run",
        "limit_test_batches",
        "limit_train_batches",
        "limit_val_batches",
        "log_every_n_steps",
        "max_epochs",
        "max_steps",
        "max_time",
        "num_nodes",
        "num_sanity_val_steps",
        "overfit_batches",
        "precision",
        "profiler",
        "strategy",
        "sync_batchnorm",
        "use_distributed_sampler",
        "val_check_interval",
    }
)


def check_trainer(cfg: DictConfig) -> None:
    """The trainer's settings against Lightning, then against this machine."""
    trainer = cfg.trainer
    check_arguments(trainer)
    check_precision(trainer.get("precision", "32-true"))
    accelerator = str(trainer.get("accelerator", "auto"))
    check_accelerator(accelerator, trainer.get("devices", 1))
    check_cpu_processes(accelerator, trainer.get("devices", 1))
    check_memory(cfg, accelerator)


def check_arguments(trainer: DictConfig) -> None:
    """Every key under trainer is an argument of lightning.pytorch.Trainer."""
    keys = {str(k) for k in trainer if not str(k).startswith("_")}
    if keys <= SUITE_TRAINER_ARGUMENTS:
        return
    from lightning.pytorch import Trainer

    known = set(inspect.signature(Trainer.__init__).parameters) - {"self"}
    unknown = sorted(keys - known)
    if unknown:
        raise UserInputError(
            f"trainer.{unknown[0]} is not an argument of lightning.pytorch.Trainer; it takes: "
            f"{', '.join(sorted(known))}"
        )


def check_precision(value: object) -> None:
    if value in _COMMON_PRECISIONS:
        return
    from lightning.fabric.plugins.precision.precision import (
        _PRECISION_INPUT_INT,
        _PRECISION_INPUT_STR,
        _PRECISION_INPUT_STR_ALIAS,
    )

    allowed = [
        *get_args(_PRECISION_INPUT_STR),
        *get_args(_PRECISION_INPUT_STR_ALIAS),
        *get_args(_PRECISION_INPUT_INT),
    ]
    if value not in allowed:
        raise UserInputError(
            f"trainer.precision={value} is not a precision Lightning knows; allowed: "
            f"{', '.join(str(v) for v in allowed)}"
        )


def check_accelerator(accelerator: str, devices: object) -> None:
    if accelerator not in _ACCELERATORS:
        raise UserInputError(
            f"trainer.accelerator={accelerator} is not an accelerator; allowed: {', '.join(_ACCELERATORS)}"
        )
    if accelerator in ("gpu", "cuda"):
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise UserInputError(
                f"trainer.accelerator={accelerator}: no CUDA GPU on this machine; use trainer=cpu or "
                "trainer=default (the GPU where there is one, else the CPU)"
            )
        if isinstance(devices, int) and devices > count:
            raise UserInputError(f"trainer.devices={devices}: this machine has {count} CUDA GPU(s)")
    if accelerator == "mps":
        import torch

        if not torch.backends.mps.is_available():
            raise UserInputError(
                "trainer.accelerator=mps: no Apple GPU (MPS) on this machine; use trainer=cpu"
            )


def check_cpu_processes(accelerator: str, devices: object) -> None:
    """CPU DDP starts one process per device; more than the cores only slows every one down."""
    if accelerator != "cpu" or not isinstance(devices, int) or devices <= 1:
        return
    cores = os.cpu_count() or 1
    if devices > cores:
        raise UserInputError(
            f"trainer.devices={devices} starts {devices} CPU processes on {cores} cores; use at most {cores}"
        )


def check_memory(cfg: DictConfig, accelerator: str) -> None:
    """A network whose training would not fit in this machine's free memory (CPU runs)."""
    if accelerator in ("gpu", "cuda", "mps"):
        return
    need, free = footprint.memory_bytes(cfg), footprint.available_memory()
    # with a GPU (accelerator=auto) the weights live there: the GPU's memory is Lightning's to judge
    if need is None or free is None or need <= free or (accelerator == "auto" and _has_gpu()):
        return
    dims = "[" + ",".join(str(d) for d in cfg.model.hidden_dims) + "]"
    raise UserInputError(
        f"model.hidden_dims={dims}: training needs about {need / 2**30:.1f} GiB of memory (weights, Adam "
        f"state, a checkpoint's copy, activations), {free / 2**30:.1f} GiB is free; use a smaller network"
    )


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()
