"""The Weights & Biases logger: epoch x-axis, best-so-far summaries, run names and sweep groups;
online with a login that works, else offline (asked in wandb_login.py, which never blocks)."""

import logging
import os
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import Logger, WandbLogger
from omegaconf import OmegaConf

from ff_lightning.errors import UserInputError
from ff_lightning.run.wandb_login import resolve_wandb_mode

log = logging.getLogger(__name__)


def sweep_group() -> str | None:
    """Inside a Hydra multirun, the sweep's name, so all jobs of a sweep share a W&B group: the
    sweep folder's name, after its parent's where the folder is only a time
    (outputs/sweeps/threshold_ablation/<time> -> threshold_ablation/<time>; Hydra's default
    outputs/multirun/<time> -> <time>). A single run that a sweep script started as one of its
    jobs (multirun_scripts/_sweep.sh's run_jobs) takes the sweep folder from FF_SWEEP_DIR."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hc = HydraConfig.get()
    if hc.mode == RunMode.MULTIRUN:
        folder = Path(hc.sweep.dir)
    elif os.environ.get("FF_SWEEP_DIR"):
        folder = Path(os.environ["FF_SWEEP_DIR"])
    else:
        return None
    if folder.name[:1].isdigit() and folder.parent.name not in ("", "multirun", "outputs"):
        return f"{folder.parent.name}/{folder.name}"
    return folder.name


def swept_keys() -> list[str]:
    """Inside a Hydra multirun, the settings the sweep varies: those given several values on its
    command line (the sweep folder's multirun.yaml keeps it) and a search's parameters."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return []
    hc = HydraConfig.get()
    keys = [str(k) for k in (OmegaConf.select(hc, "sweeper.params") or {})]
    try:
        task = OmegaConf.load(Path(hc.sweep.dir) / "multirun.yaml").hydra.overrides.task
    except (OSError, ValueError, AttributeError):
        return keys
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(task))
    return keys + [o.key_or_group for o in parsed if o.is_sweep_override() and o.key_or_group not in keys]


def run_name() -> str:
    """The job's own overrides (`activation=tanh seed=1`), what the sweep varies first, Hydra's
    and folder settings left out, so that a run is known by what was chosen for it; `defaults`
    for a run with none."""
    from ff_lightning.run.jobs import hydra_overrides

    skip = ("hydra.", "hydra/", "paths.", "logger", "overwrite=")
    chosen = [o for o in hydra_overrides() if not o.lstrip("+~").startswith(skip)]
    swept = swept_keys()
    # sorted is stable: the swept settings in the sweep's order, then the rest as typed
    rank = {key: i for i, key in enumerate(swept)}
    chosen.sort(key=lambda o: rank.get(o.lstrip("+~").partition("=")[0], len(rank)))
    return " ".join(chosen) or "defaults"


class EpochAxisWandbLogger(WandbLogger):
    """Lightning's WandbLogger, with every train/, val/, test/ and weights/ metric plotted against
    the epoch (the suite logs them once an epoch; Lightning's default x-axis is its step counter)
    and the validation errors' summaries set to their lowest value instead of the last.

    W&B's `epoch` is the number of epochs trained when a value was measured, as the console's
    "epoch 1/60" counts: Lightning passes the 0-based epoch being trained, so the values logged
    while fitting go one up; the test, after fitting, already gets the count of epochs trained.

    Each metric is defined by its exact name when first logged: an exact definition wins over
    the `*` pattern with which Lightning sends everything to its step counter."""

    EPOCH_PREFIXES = ("train/", "val/", "test/", "weights/")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Lightning always passes `anonymous` (None unless asked for), and wandb warns on every
        # run that the setting has no effect; left out unless it was asked for (a Lightning that
        # keeps wandb.init's arguments elsewhere is left as it is)
        init_args = getattr(self, "_wandb_init", None)
        if isinstance(init_args, dict) and init_args.get("anonymous") is None:
            init_args.pop("anonymous", None)
        self._defined: set[str] = set()

    def _named(self, key: str) -> str:
        """The key as W&B gets it: with logger.prefix, Lightning prefixes every key, epoch too."""
        return f"{self._prefix}{self.LOGGER_JOIN_CHAR}{key}" if self._prefix else key

    def _define(self, keys: list[str]) -> None:
        run = self.experiment
        epoch = self._named("epoch")
        if epoch not in self._defined:
            run.define_metric(epoch)
            self._defined.add(epoch)
        for key in keys:
            if key in self._defined or not key.startswith(self.EPOCH_PREFIXES):
                continue
            lowest = key.startswith("val/error")
            run.define_metric(self._named(key), step_metric=epoch, summary="min" if lowest else None)
            self._defined.add(key)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        if "epoch" in metrics and not any(str(k).startswith("test/") for k in metrics):
            metrics = {**metrics, "epoch": metrics["epoch"] + 1}
        if self._rank_zero():
            self._define(list(metrics))
        super().log_metrics(metrics, step)

    def log_final(self, values: dict[str, Any], epochs: int) -> None:
        """Values measured after training (the weights' statistics and histograms), at the epoch
        count they were measured at."""
        if self._rank_zero():
            self._define(list(values))
            self.experiment.log({self._named(k): v for k, v in {**values, "epoch": epochs}.items()})

    @staticmethod
    def _rank_zero() -> bool:
        from lightning.pytorch.utilities import rank_zero_only

        return rank_zero_only.rank == 0


# a run folder's W&B run id: a later start in the same folder (ckpt_path=last, a requeued job)
# continues that W&B run. Inside wandb/, so overwrite=true, which removes wandb/, starts afresh
RUN_ID_FILE = Path("wandb") / "ff_lightning_run_id"
# set by the suite itself; the rest of WandbLogger's and wandb.init's arguments pass through
OWN_ARGUMENTS = ("project", "save_dir", "mode", "entity", "group", "name", "tags", "job_type")


def wandb_arguments() -> set[str]:
    """What logger=wandb takes: Lightning's WandbLogger's arguments and wandb.init's, to which
    WandbLogger hands the rest."""
    import inspect

    import wandb

    takes = {*inspect.signature(WandbLogger.__init__).parameters, *inspect.signature(wandb.init).parameters}
    # offline: the suite's `mode` says it (Lightning's flag would set WANDB_MODE mid-run)
    return (takes - {"self", "kwargs", "offline", "experiment"}) | set(OWN_ARGUMENTS)


def check_wandb_arguments(node: Any, where: str = "logger") -> None:
    """A key of logger=wandb that neither WandbLogger nor wandb.init takes is refused by name."""
    takes = wandb_arguments()
    unknown = sorted(str(k) for k in node if not str(k).startswith("_") and str(k) not in takes)
    if unknown:
        raise UserInputError(
            f"{where}.{unknown[0]} is not an argument of Lightning's WandbLogger or wandb.init; "
            f"they take: {', '.join(sorted(takes))}"
        )


def stored_run_id(save_dir: str) -> str | None:
    path = Path(save_dir) / RUN_ID_FILE
    return path.read_text().strip() or None if path.is_file() else None


def wandb_logger(
    project: str,
    save_dir: str,
    mode: str = "auto",
    entity: str | None = None,
    group: str | None = None,
    name: str | None = None,
    tags: list[str] | None = None,
    job_type: str | None = "train",
    **wandb_args: Any,
) -> WandbLogger:
    """Lightning's WandbLogger with the suite's defaults; every other argument of WandbLogger
    (log_model, prefix, checkpoint_name) and of wandb.init (id, notes, resume, settings, ...)
    passes through. A folder that already had a W&B run continues it under the same id."""
    resolved = resolve_wandb_mode(mode)
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    wandb_args = {k: v for k, v in wandb_args.items() if v is not None}
    if "id" not in wandb_args and (earlier := stored_run_id(save_dir)) is not None:
        wandb_args["id"] = earlier
    if "id" in wandb_args:
        wandb_args.setdefault("resume", "allow")
    settings = wandb_quiet_settings(wandb_args.pop("settings", None))
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
        settings=settings,
        **wandb_args,
    )


def wandb_quiet_settings(asked: Any = None) -> object:
    """No run summary and history on the console (about 30 lines a job, and a second `wandb sync`
    hint beside the one finish_wandb logs); warnings and errors still show. Settings the user
    passes (logger.settings) go on top."""
    import wandb

    if isinstance(asked, wandb.Settings):
        return asked
    return wandb.Settings(**{"quiet": True, **dict(asked or {})})


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


def keep_run_id(logger: Logger | list[Logger] | bool | None) -> None:
    """Write the W&B run's id into its run folder, where the next start there finds it."""
    one = wandb_of(logger)
    if one is None or not one.save_dir:
        return
    path = Path(one.save_dir) / RUN_ID_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(one.experiment.id + "\n")


def finish_wandb(logger: Logger | list[Logger] | bool | None) -> None:
    """Close the W&B run (every multirun job gets its own) and say how to upload an offline one:
    a resumed run's parts (one folder per start, one run id) are synced together, in order."""
    if wandb_of(logger) is None:
        return
    import wandb

    run = wandb.run
    offline = run is not None and run.settings.mode == "offline"
    run_dir = Path(run.dir).parent if run is not None else None
    run_id = run.id if run is not None else ""
    wandb.finish()
    if offline and run_dir is not None:
        parts = sorted(run_dir.parent.glob(f"offline-run-*-{run_id}*")) or [run_dir]
        log.info("W&B ran offline; upload this run with: wandb sync %s", " ".join(map(str, parts)))


def log_weights(logger: Logger | list[Logger] | bool | None, weights: dict[str, dict], epochs: int) -> None:
    """Each layer's weight statistics (from weight_stats) to every logger, and to W&B also its
    weight histogram, at the number of epochs trained."""
    flat = {
        f"weights/{layer}/{k}": v
        for layer, stats in weights.items()
        for k, v in stats.items()
        if k in ("mean_abs", "std", "fro_norm")
    }
    for one in as_list(logger):
        if not isinstance(one, EpochAxisWandbLogger):
            one.log_metrics(flat)
    wandb = wandb_of(logger)
    if not isinstance(wandb, EpochAxisWandbLogger):
        return
    import wandb as wandb_lib

    hists = {}
    for layer, stats in weights.items():
        lo, hi = stats["hist_range"]
        counts = stats["hist_counts"]
        edges = [lo + (hi - lo) * i / len(counts) for i in range(len(counts) + 1)]
        hists[f"weights/{layer}/hist"] = wandb_lib.Histogram(np_histogram=(counts, edges))
    wandb.log_final({**flat, **hists}, epochs)


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
