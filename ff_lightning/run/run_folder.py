"""One run folder, one run: a run locks its folder before Hydra writes into it, the folder is
checked usable (a folder, writable, with room for the run's checkpoints) before anything trains,
and `overwrite=true` clears the old run's files so that none is left beside the new run's.

The lock is the operating system's (flock on the folder itself): it goes with the process, so a
run killed by any means leaves no stale lock behind. A sweep locks its sweep folder, which holds
its jobs' folders. Ranks that Lightning or a cluster starts for the same run (DDP) take no lock:
their rank 0 holds it.
"""

import errno
import os
import shutil
import tempfile
from pathlib import Path

from ff_lightning.errors import UserInputError

try:
    import fcntl
except ImportError:  # Windows: no flock; folders are not locked there
    fcntl = None

# what a run writes into its folder besides Hydra's own files: removed by overwrite=true
RUN_FILES = (
    "checkpoints",
    "csv",
    "wandb",
    "results.json",
    "config_resolved.yaml",
    # debug=profiler's tables
    "fit-profile.txt",
    "test-profile.txt",
)

_held: dict[Path, int] = {}


def is_extra_rank() -> bool:
    """A process that Lightning's DDP launcher, torchrun or SLURM started for another rank of a
    run that its rank 0 already locked."""
    return any(os.environ.get(name, "0") not in ("", "0") for name in ("LOCAL_RANK", "NODE_RANK", "RANK"))


def check_usable(folder: Path, need_bytes: int = 0, setting: str = "hydra.run.dir") -> None:
    """The run folder can be made and written, and its file system has need_bytes free. Nothing
    is made unless the folder passes. `setting` names it in a refusal (a sweep's: hydra.sweep.dir)."""
    shown = f"{setting}={folder}"
    if folder.exists() and not folder.is_dir():
        raise UserInputError(f"{shown}: a file is there, not a folder; choose another {setting}")
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
    if not existing.is_dir():
        raise UserInputError(f"{shown}: {existing} on its path is a file; choose another {setting}")
    free = shutil.disk_usage(existing).free
    if free < need_bytes:
        raise UserInputError(
            f"{shown}: {free / 2**20:.1f} MiB free on its disk, the run's checkpoints need about "
            f"{need_bytes / 2**20:.1f} MiB; free some space or choose another {setting}"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UserInputError(f"{shown}: cannot write there ({exc.strerror})") from None


def lock(folder: Path) -> None:
    """Hold this folder's lock until this process ends; a run that holds it already is refused."""
    folder = folder.absolute()
    if fcntl is None or folder in _held:
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise
        raise UserInputError(
            f"{folder} is in use by another run (it holds the folder's lock); wait for it to end or "
            "choose another folder for the run"
        ) from None
    _held[folder] = fd


def clear_old_run(folder: Path) -> list[str]:
    """Remove what an earlier run wrote into this folder (overwrite=true); the names removed."""
    removed = []
    for name in RUN_FILES:
        path = folder / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed
