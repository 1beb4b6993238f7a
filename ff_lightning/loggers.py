"""Weights & Biases set up so that it never blocks: online with a login, offline without one."""

import functools
import logging
import os
from pathlib import Path

from lightning.pytorch.loggers import WandbLogger

from ff_lightning.errors import UserInputError
from ff_lightning.validate import WANDB_MODES

log = logging.getLogger(__name__)

NO_KEY = "no API key"


def resolve_wandb_mode(mode: str = "auto") -> str:
    """`auto` means online when a W&B API key works, else offline with a line that says why;
    `online` (asked for here or by WANDB_MODE, which wins) needs a working login."""
    if mode not in WANDB_MODES:
        raise ValueError(f"logger.mode must be one of {', '.join(WANDB_MODES)}, got {mode!r}")
    env_mode = os.environ.get("WANDB_MODE")
    if env_mode in ("online", "offline", "disabled", "dryrun"):
        mode = "offline" if env_mode == "dryrun" else env_mode
    if mode in ("offline", "disabled"):
        return mode
    if mode == "online":
        check_online_login()
        return "online"
    problem = login_problem()
    if problem is None:
        return "online"
    # auto without a key is the ordinary offline case; anything else is worth a line
    if problem != NO_KEY:
        log.warning("W&B: %s; logging offline instead (upload later with `wandb sync`)", problem)
    return "offline"


def check_online_login() -> None:
    """Online logging was asked for: a login that cannot work stops the run with one line."""
    problem = login_problem()
    if problem is not None:
        raise UserInputError(
            f"W&B: online logging was asked for (WANDB_MODE or logger.mode) but {problem}; "
            "run `wandb login`, or use WANDB_MODE=offline (or unset it: without a login runs go offline)"
        )


@functools.cache
def login_problem(timeout: int = 5) -> str | None:
    """Why an online W&B run cannot start (no or bad API key, server unreachable), else None.

    Asked once, with a short timeout, so that a bad key or a machine without network gives an
    offline run at once instead of a crash or a long wait inside wandb.init."""
    import wandb

    try:
        # verify=False: look for a stored key without any network call
        if not wandb.login(prompt=False, verify=False):
            return NO_KEY
        # the key is only checked by a request to the server
        wandb.Api(timeout=timeout).viewer  # noqa: B018
        return None
    except Exception as exc:  # noqa: BLE001 - every failure means the same here: go offline
        return f"cannot log in ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"


def sweep_group() -> str | None:
    """Inside a Hydra multirun, the sweep folder's name, so all jobs of a sweep share a W&B group."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hc = HydraConfig.get()
    if hc.mode != RunMode.MULTIRUN:
        return None
    return Path(hc.sweep.dir).name


def wandb_logger(
    project: str,
    save_dir: str,
    mode: str = "auto",
    entity: str | None = None,
    group: str | None = None,
    name: str | None = None,
    tags: list[str] | None = None,
    job_type: str | None = None,
) -> WandbLogger:
    resolved = resolve_wandb_mode(mode)
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    return WandbLogger(
        project=project,
        save_dir=save_dir,
        entity=entity,
        group=group or sweep_group(),
        name=name,
        tags=list(tags) if tags else None,
        job_type=job_type,
        offline=resolved == "offline",
        mode=resolved,
    )


def wandb_info(logger: object) -> dict[str, str] | None:
    """The live W&B run's mode, group, name and folder, for results.json (None without W&B)."""
    if not isinstance(logger, WandbLogger):
        return None
    run = logger.experiment
    return {
        "mode": run.settings.mode,
        "group": run.group,
        "name": run.name,
        "id": run.id,
        "run_dir": str(Path(run.dir).parent),
    }


def finish_wandb(logger: object) -> None:
    """Close the W&B run (every multirun job gets its own) and say how to upload an offline one."""
    if not isinstance(logger, WandbLogger):
        return
    import wandb

    run = wandb.run
    offline = run is not None and run.settings.mode == "offline"
    run_dir = Path(run.dir).parent if run is not None else None
    wandb.finish()
    if offline and run_dir is not None:
        log.info("W&B ran offline; upload this run with: wandb sync %s", run_dir)


def log_weight_histograms(logger: object, weights: dict[str, dict]) -> None:
    """Each layer's weight histogram (from weight_stats) as a W&B histogram."""
    if not isinstance(logger, WandbLogger):
        return
    import wandb

    hists = {}
    for layer, stats in weights.items():
        lo, hi = stats["hist_range"]
        counts = stats["hist_counts"]
        edges = [lo + (hi - lo) * i / len(counts) for i in range(len(counts) + 1)]
        hists[f"weights/{layer}/hist"] = wandb.Histogram(np_histogram=(counts, edges))
    logger.experiment.log(hists)
