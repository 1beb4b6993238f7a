"""The Weights & Biases logger: epoch x-axis, best-so-far summaries, run names and sweep groups;
online with a login that works, else offline (asked in wandb_login.py, which never blocks)."""

import logging
from pathlib import Path

from lightning.pytorch.loggers import Logger, WandbLogger

from ff_lightning.wandb_login import resolve_wandb_mode

log = logging.getLogger(__name__)


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
        # Lightning always passes `anonymous` (None unless asked for), and wandb warns on every
        # run that the setting has no effect; left out unless it was asked for (a Lightning that
        # keeps wandb.init's arguments elsewhere is left as it is)
        init_args = getattr(self, "_wandb_init", None)
        if isinstance(init_args, dict) and init_args.get("anonymous") is None:
            init_args.pop("anonymous", None)
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
        # the mode goes to wandb.init alone: Lightning's offline=True would set WANDB_MODE in the
        # environment after the login check had started W&B's session, and wandb warns on
        # every run that the change is ignored
        mode=resolved,
        # no run summary and history on the console (about 30 lines a job, and a second
        # `wandb sync` hint beside the one finish_wandb logs); warnings and errors still show
        settings=wandb_quiet_settings(),
    )


def wandb_quiet_settings() -> object:
    import wandb

    return wandb.Settings(quiet=True)


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


def carry_csv_history(logger: Logger | list[Logger] | bool | None, resumed_epoch: int) -> None:
    """On a resume into the same folder, keep the earlier epochs in metrics.csv.

    Lightning's CSV writer deletes an existing metrics.csv when it starts. The rows of the epochs
    the checkpoint holds (epoch < resumed_epoch, the checkpoint's count of finished epochs) are
    read first and handed to the new writer, which writes them back with its first save; rows of
    the epoch the interruption cut short are dropped, since the resumed run trains it again."""
    import csv

    from lightning.pytorch.loggers import CSVLogger

    for one in as_list(logger):
        if not isinstance(one, CSVLogger):
            continue
        path = Path(one.log_dir) / "metrics.csv"
        if not path.is_file():
            continue
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            header = list(reader.fieldnames or [])
            rows = [
                {k: float(v) if k not in ("epoch", "step") else int(v) for k, v in row.items() if v != ""}
                for row in reader
                if row.get("epoch", "") != "" and int(row["epoch"]) < resumed_epoch
            ]
        writer = one.experiment  # starting it deletes the file
        writer.metrics = rows + writer.metrics
        writer.metrics_keys = sorted(set(writer.metrics_keys) | set(header))
