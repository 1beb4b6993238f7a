"""Checkpoints that resume a run exactly: what goes into them besides Lightning's own state, and
which checkpoint `ckpt_path=...` means.

Lightning saves the weights, every optimizer's state (one per FF layer and the head's) and the
loop counters. The run adds the random-number states, so that the resumed epochs shuffle and
draw negative labels exactly as an uninterrupted run would, and its resolved config, so that
`python -m ff_lightning.evaluate CHECKPOINT` can rebuild the model without retyping it.
"""

import errno
import logging
import os
import random
from pathlib import Path
from typing import Any

import lightning.pytorch as L
import numpy as np
import torch
from lightning.fabric.plugins import TorchCheckpointIO
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig, OmegaConf

from ff_lightning import moved_target
from ff_lightning.errors import UserInputError
from ff_lightning.run.jobs import slurm_requeued
from ff_lightning.run.results import read_results

log = logging.getLogger("ff_lightning")

CONFIG_KEY = "ff_lightning_config"
RNG_KEY = "ff_lightning_rng"
LAST = Path("checkpoints") / "last.ckpt"


def rng_states() -> dict[str, Any]:
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


class RunState(Callback):
    """Adds the RNG states and the run's resolved config to every checkpoint; restores the RNG."""

    def __init__(self, cfg: DictConfig) -> None:
        self.config = OmegaConf.to_container(cfg, resolve=True)

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint[RNG_KEY] = rng_states()
        checkpoint[CONFIG_KEY] = self.config

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if RNG_KEY in checkpoint:
            set_rng_states(checkpoint[RNG_KEY])


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes a checkpoint to a temporary file beside it and renames it into place: a full disk or
    a kill half way leaves the previous checkpoint whole, never a truncated one."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            # no fsync: it guards against a power cut, not a full disk or a kill, and costs a
            # full-size run a disk flush of two 160 MB files every epoch
            with open(tmp, "wb") as f:
                torch.save(checkpoint, f)
            os.replace(tmp, path)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            # torch.save reports a failed write as a RuntimeError: name the errno and the file
            if isinstance(exc, RuntimeError) and _disk_full(path.parent):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
            if isinstance(exc, OSError) and exc.filename is None:
                raise OSError(exc.errno, exc.strerror, str(path)) from None
            raise


def _disk_full(folder: Path) -> bool:
    import shutil

    return shutil.disk_usage(folder).free < 1 << 20


def readable_checkpoint(path: Path) -> bool:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception:  # noqa: BLE001 - any unreadable file is skipped alike
        return False
    return isinstance(ckpt, dict) and "state_dict" in ckpt


def checkpoint_epochs(path: str | Path) -> int:
    """How many epochs the checkpoint's run had finished: the run's checkpoints are written at an
    epoch's end, where Lightning stores that epoch's 0-based index."""
    return int(torch.load(path, map_location="cpu", weights_only=False, mmap=True).get("epoch", -1)) + 1


def newest_readable(folder: Path) -> Path | None:
    """The newest checkpoint under folder/checkpoints that loads; each unreadable one is named in
    a warning line and skipped."""
    # last.ckpt first (best.ckpt may have been written in the same second), then newest first
    candidates = sorted(
        (folder / LAST.parent).glob("*.ckpt"),
        key=lambda p: (p.name == LAST.name, p.stat().st_mtime),
        reverse=True,
    )
    for ckpt in candidates:
        if readable_checkpoint(ckpt):
            return ckpt
        log.warning("ckpt_path=last: skipping %s, not a readable checkpoint", ckpt)
    return None


def _comparable(config: dict[str, Any], run_dir: str) -> dict[str, Any]:
    """A run's config with what differs between two runs of the same experiment taken out."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("ckpt_path", "overwrite", "hydra")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, str) and run_dir and run_dir in value:
            return value.replace(run_dir, "<run>")
        # a _target_ written before the package had subpackages names the same object
        return moved_target(value) if isinstance(value, str) else value

    return strip(config)


def interrupted_run(runs_root: Path, this_run: Path, cfg: DictConfig) -> Path | None:
    """The newest run folder beside this one with the same config, a last checkpoint and no
    results.json (it stopped before the end)."""
    wanted = _comparable(OmegaConf.to_container(cfg, resolve=True), str(this_run))
    candidates = sorted(runs_root.glob(f"*/{LAST}"), key=lambda p: p.stat().st_mtime, reverse=True)
    # an interrupted run that a later run resumed and finished is done with
    finished = set()
    for results in runs_root.glob("*/results.json"):
        resumed = (read_results(results) or {}).get("resumed_from")
        if resumed:
            finished.add(Path(resumed).resolve())
    for ckpt in candidates:
        run = ckpt.parent.parent
        if run.resolve() == this_run.resolve() or _finished(run):
            continue
        if ckpt.resolve() in finished:
            continue
        config_file = run / "config_resolved.yaml"
        if not config_file.is_file():
            continue
        theirs = OmegaConf.to_container(OmegaConf.load(config_file), resolve=False)
        if _comparable(theirs, str(run)) == wanted:
            return ckpt
    return None


def _finished(run: Path) -> bool:
    """The run wrote results.json, and not because a signal stopped it."""
    results = run / "results.json"
    return results.exists() and (read_results(results) or {}).get("status") != "interrupted"


def resolve_ckpt_path(value: str | None, out_dir: Path, cfg: DictConfig) -> str | None:
    """The checkpoint to resume from, or None to start afresh.

    - null: start afresh (on SLURM, Lightning still resumes from its own requeue checkpoint);
    - `last`: this run folder's last checkpoint (a requeued sweep job), else that of the newest
      interrupted run with the same config beside it; none: start afresh and say so;
    - a .ckpt file, or a run folder (its checkpoints/last.ckpt).
    """
    if value in (None, "") and slurm_requeued() and not any(out_dir.glob("hpc_ckpt_*.ckpt")):
        # a SLURM job stopped by SIGTERM (pre-empted) and requeued goes on from its own last
        # checkpoint; one that Lightning requeued itself (SIGUSR1) resumes from its hpc_ckpt
        value = "last"
    if value is None or value == "":
        return None
    if value == "last":
        found = newest_readable(out_dir) or interrupted_run(out_dir.parent, out_dir, cfg)
        if found is None:
            log.info(
                "ckpt_path=last: no interrupted run with this config under %s; starting afresh",
                out_dir.parent,
            )
            return None
        log.info("ckpt_path=last: resuming %s", found)
        return str(found)
    return str(check_checkpoint(value, cfg))


# settings that decide the shapes of what a checkpoint holds (weights, optimizer states, the
# weight average): a run with other values cannot load it. Others (max_epochs, lr) may change.
STRUCTURE_KEYS = (
    "model._target_",
    "model.hidden_dims",
    "model.goodness_from_layer",
    "model.optimizer._target_",
    "model.head_optimizer._target_",
    "dataset._target_",
    "dataset.input_dim",
    "dataset.num_classes",
    "dataset.vectors.dim",
    "weight_averaging._target_",
)


def check_checkpoint(value: str, cfg: DictConfig) -> Path:
    """The checkpoint file that `ckpt_path=value` (a file or a run folder) names, once it is known
    to exist and to have been written by a run whose model this run can load."""
    path = Path(value)
    if path.is_dir():
        path = path / LAST
    if not path.is_file():
        raise UserInputError(
            f"ckpt_path={value}: no such checkpoint; give a .ckpt file, a run folder holding {LAST}, or last"
        )
    try:
        # mmap: the weights stay on disk, only the stored config is read
        ckpt = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same one-line answer
        raise UserInputError(f"ckpt_path={value}: not a readable checkpoint ({type(exc).__name__})") from None
    stored = ckpt.get(CONFIG_KEY) if isinstance(ckpt, dict) else None
    if stored is None:
        raise UserInputError(f"ckpt_path={value}: not a checkpoint written by train.py (no stored config)")
    theirs, ours = OmegaConf.create(stored), OmegaConf.to_container(cfg, resolve=True)
    ours = OmegaConf.create({k: v for k, v in ours.items() if k != "hydra"})
    for key in STRUCTURE_KEYS:
        a, b = (_plain(OmegaConf.select(c, key, default=None)) for c in (theirs, ours))
        if key == "dataset.num_classes":
            a, b = _classes(theirs), _classes(ours)
        if a != b:
            raise UserInputError(
                f"ckpt_path={value} was saved with {key}={_shown(a)}, this run has {key}={_shown(b)}; "
                "resume with the checkpoint's settings, or start afresh without ckpt_path"
            )
    return path


def _classes(config: DictConfig) -> int:
    """A config's dataset classes (validate.dataset_classes), with IMDb's 2 for an IMDb config
    written before IMDb declared them."""
    from ff_lightning.run.validate import dataset_classes

    target = str(OmegaConf.select(config, "dataset._target_", default=""))
    if OmegaConf.select(config, "dataset.num_classes", default=None) is None and target.endswith(
        "IMDbDataModule"
    ):
        return 2
    return dataset_classes(config)


def _plain(value: Any) -> Any:
    value = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
    # a _target_ written before the package had subpackages names the same object
    return moved_target(value) if isinstance(value, str) else value


def _shown(value: Any) -> str:
    return "null" if value is None else str(value).replace(" ", "")
