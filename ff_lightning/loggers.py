"""Weights & Biases set up so that it never blocks: online with a login, offline without one."""

import functools
import logging
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lightning.pytorch.loggers import Logger, WandbLogger

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
        # a server out of reach fails here in a moment; wandb's own check would first wait for
        # its service process and retry (6 s more on a machine without network)
        url = urlparse(wandb.Settings().base_url)
        port = url.port or (443 if url.scheme == "https" else 80)
        socket.create_connection((url.hostname, port), timeout=timeout).close()
        # the key is only checked by a request to the server
        wandb.Api(timeout=timeout).viewer  # noqa: B018
        return None
    except Exception as exc:  # noqa: BLE001 - every failure means the same here: go offline
        return f"cannot log in ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"


def sweep_group() -> str | None:
    """Inside a Hydra multirun, the sweep's name, so all jobs of a sweep share a W&B group: the
    sweep folder's name, after its parent's where the folder is only a time
    (outputs/sweeps/threshold_ablation/<time> -> threshold_ablation/<time>; Hydra's default
    outputs/multirun/<time> -> <time>)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hc = HydraConfig.get()
    if hc.mode != RunMode.MULTIRUN:
        return None
    folder = Path(hc.sweep.dir)
    if folder.name[:1].isdigit() and folder.parent.name not in ("", "multirun", "outputs"):
        return f"{folder.parent.name}/{folder.name}"
    return folder.name


def run_name() -> str:
    """The job's own overrides (`activation=tanh seed=1`), Hydra's and folder settings left out,
    so that a run is known by what was chosen for it; `defaults` for a run with none."""
    from ff_lightning.jobs import hydra_overrides

    skip = ("hydra.", "hydra/", "paths.", "logger", "overwrite=")
    chosen = [o for o in hydra_overrides() if not o.lstrip("+~").startswith(skip)]
    return " ".join(chosen) or "defaults"


class EpochAxisWandbLogger(WandbLogger):
    """Lightning's WandbLogger, with every train/, val/ and test/ metric plotted against the
    epoch (the suite logs them once an epoch; Lightning's default x-axis is its step counter)
    and the validation errors' summaries set to their lowest value instead of the last.

    Each metric is defined by its exact name when first logged: an exact definition wins over
    the `*` pattern with which Lightning sends everything to its step counter."""

    EPOCH_PREFIXES = ("train/", "val/", "test/")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._defined: set[str] = set()

    def _define(self, keys: list[str]) -> None:
        run = self.experiment
        if "epoch" not in self._defined:
            run.define_metric("epoch")
            self._defined.add("epoch")
        for key in keys:
            if key in self._defined or not key.startswith(self.EPOCH_PREFIXES):
                continue
            lowest = key.startswith("val/error")
            run.define_metric(key, step_metric="epoch", summary="min" if lowest else None)
            self._defined.add(key)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        if self._rank_zero():
            self._define(list(metrics))
        super().log_metrics(metrics, step)

    @staticmethod
    def _rank_zero() -> bool:
        from lightning.pytorch.utilities import rank_zero_only

        return rank_zero_only.rank == 0


def wandb_logger(
    project: str,
    save_dir: str,
    mode: str = "auto",
    entity: str | None = None,
    group: str | None = None,
    name: str | None = None,
    tags: list[str] | None = None,
    job_type: str | None = "train",
) -> WandbLogger:
    resolved = resolve_wandb_mode(mode)
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    return EpochAxisWandbLogger(
        project=project,
        save_dir=save_dir,
        entity=entity,
        group=group or sweep_group(),
        name=name or run_name(),
        tags=list(tags) if tags else None,
        job_type=job_type,
        offline=resolved == "offline",
        mode=resolved,
    )


def logger_list(**loggers: Logger) -> list[Logger]:
    """Several loggers at once (logger=many), in the order the config names them."""
    return list(loggers.values())


def as_list(logger: Logger | list[Logger] | bool | None) -> list[Logger]:
    """The run's loggers: none, one, or logger=many's list."""
    if not logger:
        return []
    return list(logger) if isinstance(logger, list) else [logger]


def wandb_of(logger: Logger | list[Logger] | bool | None) -> WandbLogger | None:
    return next((one for one in as_list(logger) if isinstance(one, WandbLogger)), None)


def wandb_settings(logger_cfg: Any) -> Any:
    """The W&B logger's settings in a composed config (logger=wandb, or logger=many's
    logger.wandb), else None."""
    if not logger_cfg:
        return None
    for node in (logger_cfg, logger_cfg.get("wandb")):
        if node is not None and str(node.get("_target_", "")).endswith("wandb_logger"):
            return node
    return None


def wandb_info(logger: Logger | list[Logger] | bool | None) -> dict[str, str] | None:
    """The live W&B run's mode, group, name and folder, for results.json (None without W&B)."""
    logger = wandb_of(logger)
    if logger is None:
        return None
    run = logger.experiment
    return {
        "mode": run.settings.mode,
        "group": run.group,
        "name": run.name,
        "id": run.id,
        "run_dir": str(Path(run.dir).parent),
    }


def finish_wandb(logger: Logger | list[Logger] | bool | None) -> None:
    """Close the W&B run (every multirun job gets its own) and say how to upload an offline one."""
    if wandb_of(logger) is None:
        return
    import wandb

    run = wandb.run
    offline = run is not None and run.settings.mode == "offline"
    run_dir = Path(run.dir).parent if run is not None else None
    wandb.finish()
    if offline and run_dir is not None:
        log.info("W&B ran offline; upload this run with: wandb sync %s", run_dir)


def log_weight_histograms(logger: Logger | list[Logger] | bool | None, weights: dict[str, dict]) -> None:
    """Each layer's weight histogram (from weight_stats) as a W&B histogram."""
    logger = wandb_of(logger)
    if logger is None:
        return
    import wandb

    hists = {}
    for layer, stats in weights.items():
        lo, hi = stats["hist_range"]
        counts = stats["hist_counts"]
        edges = [lo + (hi - lo) * i / len(counts) for i in range(len(counts) + 1)]
        hists[f"weights/{layer}/hist"] = wandb.Histogram(np_histogram=(counts, edges))
    logger.experiment.log(hists)
