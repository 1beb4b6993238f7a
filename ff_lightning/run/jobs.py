"""Hydra jobs: what the running job chose, and every job a `train.py` command line would run,
composed and checked before the first one trains.

A sweep's jobs are otherwise composed one at a time as each starts, so a bad value in job 5
would stop the sweep after jobs 0-4 had trained. Checking them all first also finds a finished
run's folder before Hydra rewrites its `.hydra/` files.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from ff_lightning.data.local import check_local_copy
from ff_lightning.errors import UserInputError
from ff_lightning.run.command_line import check_group_overrides, check_setting_keys, group_options
from ff_lightning.run.validate import composition_error, validate_config

RESULTS_FILE = "results.json"
# variables that name a folder: set but empty means unset, never "the working directory"
FOLDER_VARIABLES = ("FF_DATA_DIR", "FF_CACHE_DIR")


def drop_empty_folder_variables() -> None:
    for name in FOLDER_VARIABLES:
        if os.environ.get(name) == "":
            del os.environ[name]


def hydra_choices() -> dict[str, str]:
    """The option picked in each config group, e.g. {'trick': 'ema'}; several options of one
    group (trick=[jitter,ema]) as the list the user wrote."""
    if not HydraConfig.initialized():
        return {}
    hc = HydraConfig.get()
    choices = {k: v for k, v in hc.runtime.choices.items() if not k.startswith("hydra")}
    # Hydra records no choice for a group given a list, and W&B and the report group runs by it
    groups = {
        group
        for src in hc.runtime.config_sources
        if src.provider == "main"
        for group in group_options(Path(src.path))
    }
    for override in OverridesParser.create().parse_overrides(list(hc.overrides.task)):
        group, value = override.key_or_group, override.value()
        if isinstance(value, list) and group in groups and group not in choices:
            # one spelling however it was typed ("[jitter, ema]"), so that runs group together
            choices[group] = f"[{','.join(str(v) for v in value)}]"
    return choices


def hydra_overrides() -> list[str]:
    """The command-line overrides of this run (of this job, in a sweep)."""
    if not HydraConfig.initialized():
        return []
    return list(HydraConfig.get().overrides.task)


def check_output_folder(cfg: DictConfig) -> None:
    """A finished run's folder is never reused unless overwrite=true; an interrupted run's folder
    is resumed (ckpt_path=last) or overwritten, never started afresh over its files."""
    results = Path(cfg.paths.output_dir) / RESULTS_FILE
    if not results.exists() or cfg.get("overwrite", False):
        return
    from ff_lightning.run.results import read_results

    if (read_results(results) or {}).get("status") == "interrupted":
        if cfg.get("ckpt_path") == "last" or slurm_requeued():
            return
        raise UserInputError(
            f"{results.parent} holds an interrupted run; resume it with ckpt_path=last, "
            "or pass overwrite=true"
        )
    raise UserInputError(f"{results} already exists; choose another hydra.run.dir or pass overwrite=true")


def slurm_requeued() -> bool:
    """A SLURM job started again after a pre-emption or a requeue, in the same folder."""
    return os.environ.get("SLURM_RESTART_COUNT", "0") not in ("", "0")


def check_run_dir(cfg: DictConfig, multirun: bool) -> None:
    """An empty hydra.run.dir (or sweep.dir) would put the run's files into the working folder."""
    key = "sweep.dir" if multirun else "run.dir"
    if not str(OmegaConf.select(cfg.hydra, key, default="") or "").strip():
        raise UserInputError(f"hydra.{key} is empty; name a folder for the run's files")


def claim_output_folder(cfg: DictConfig, multirun: bool) -> Path:
    """Lock the run's folder (a sweep's: its sweep folder) for this process, once it is known to be
    a folder that can be written and has room for the run's checkpoints."""
    from ff_lightning import footprint, run_folder

    folder = Path(cfg.hydra.sweep.dir if multirun else cfg.hydra.run.dir).absolute()
    if run_folder.is_extra_rank():
        return folder
    one = footprint.checkpoint_bytes(cfg) or 0
    # last.ckpt and best.ckpt, and a new one being written beside the old
    need = 0 if not cfg.get("callbacks") else 3 * one
    run_folder.check_usable(folder, need, "hydra.sweep.dir" if multirun else "hydra.run.dir")
    run_folder.lock(folder)
    return folder


def command_line_jobs(args: Sequence[str]) -> tuple[list[list[str]], bool, str] | None:
    """The overrides of every job that `train.py ARGS` runs, whether it is a multirun, and the
    config name; None where it runs no job we can foresee (--help, --cfg, another sweeper)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra._internal.utils import get_args_parser

    parsed, _ = get_args_parser().parse_known_args(list(args))
    if (
        parsed.help
        or parsed.hydra_help
        or parsed.cfg
        or parsed.info
        or parsed.shell_completion
        or parsed.config_path
        or parsed.config_dir
        or parsed.experimental_rerun
    ):
        return None
    overrides = OverridesParser.create().parse_overrides(parsed.overrides)
    if any(o.key_or_group in ("hydra/sweeper", "hydra.sweeper") for o in overrides):
        return None  # a sweeper of its own (Optuna) makes up its jobs as it goes
    multirun = parsed.multirun or any(
        o.key_or_group == "hydra.mode" and o.value() == "MULTIRUN" for o in overrides
    )
    if not multirun:
        if any(o.is_sweep_override() for o in overrides):
            return None  # Hydra itself refuses a sweep without -m
        return [list(parsed.overrides)], False, parsed.config_name or "train"
    (jobs,) = BasicSweeper.split_arguments(overrides, None)
    return jobs, True, parsed.config_name or "train"


def compose_job(config_name: str, overrides: list[str], num: int, multirun: bool) -> DictConfig:
    """The job's config as Hydra will compose it, with its output folder resolved, and Hydra's
    runtime set to it (so `${hydra:...}` and hydra_choices() work)."""
    from hydra import compose
    from hydra.core.utils import setup_globals

    import ff_lightning  # noqa: F401 - registers ${pid:}, used in run-folder names

    setup_globals()  # ${now:...}
    cfg = compose(config_name, overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.job.num = num
        cfg.hydra.job.override_dirname = ""
        hc = cfg.hydra
        output = Path(hc.sweep.dir) / str(hc.sweep.subdir) if multirun else Path(hc.run.dir)
        cfg.hydra.runtime.output_dir = str(output.absolute())
    HydraConfig.instance().set_config(cfg)
    return cfg


@dataclass
class CheckedJobs:
    """What check_jobs found: how many jobs the command line runs, and, once the run's folder is
    claimed (lock=True), the override that pins it (`hydra.run.dir=...`): the folder name holds
    the time, which Hydra would otherwise take anew when it composes the run."""

    count: int
    pin: str | None = None


def check_jobs(args: Sequence[str], conf_dir: Path, lock: bool = False) -> CheckedJobs:
    """Every check train.py makes before training, for every job of the command line; a bad job
    is named with its number and overrides. With lock, the run's folder is then claimed for this
    process (claim_output_folder)."""
    from hydra import initialize_config_dir
    from hydra.errors import OverrideParseException

    check_group_overrides(args, conf_dir)
    try:
        found = command_line_jobs(args)
    except OverrideParseException as exc:
        raise UserInputError(override_syntax_error(args, exc)) from None
    if found is None:
        check_setting_keys(args, conf_dir)
        return CheckedJobs(0)
    jobs, multirun, config_name = found
    pin = None
    flush, failed = set(), None
    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        for num, overrides in enumerate(jobs):
            try:
                cfg = compose_job(config_name, overrides, num, multirun)
                check_run_dir(cfg, multirun)
                check_job(cfg, first=num == 0)
            except (UserInputError, HydraException, OmegaConfBaseException) as exc:
                failed = num, overrides, exc
                break
            flush.add(cfg.get("flush_denormal", True))
        if failed is None:
            check_flush_denormal_sweep(flush, cfg)
            if lock:
                folder = claim_output_folder(cfg, multirun)
                pin = f"hydra.{'sweep' if multirun else 'run'}.dir={folder}"
            make_study_folder(cfg)
    if failed is not None:
        num, overrides, exc = failed
        if not isinstance(exc, UserInputError):
            # a config that did not compose: a key that is not a setting is named with the ones
            # there are (composed once more, only here, to list them)
            check_setting_keys(args, conf_dir)
        message = composition_error(exc)
        if multirun:
            shown = " ".join(o for o in overrides if not o.startswith("hydra."))
            message = f"job {num} ({shown}): {message}"
        raise UserInputError(message) from None
    HydraConfig.instance().cfg = None  # Hydra's own run sets it again
    return CheckedJobs(len(jobs), pin)


def override_syntax_error(args: Sequence[str], exc: Exception) -> str:
    """Hydra's many-line parse error as one line naming the override that does not parse."""
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    for arg in args:
        if arg.startswith("-"):
            continue
        try:
            parser.parse_overrides([arg])
        except OverrideParseException as one:
            exc = one
            break
    else:
        arg = None
    lines = [line.strip() for line in str(exc).splitlines() if line.strip() and not line.startswith("See ")]
    reason = lines[-1] if lines else type(exc).__name__
    shown = f"the override {arg!r} does not parse" if arg else "an override does not parse"
    return f"{shown}: {reason} (Hydra's override syntax: key=value, group=option, a sweep key=a,b)"


def check_flush_denormal_sweep(values: set[bool], cfg: DictConfig) -> None:
    """A sweep over flush_denormal needs a process per job: a CPU thread keeps the setting it was
    started with, so a later job of the same process would change its main thread alone. Hydra's
    own launcher runs the jobs one after another in one process, the packed one reuses its
    worker processes; submitit starts a process per job."""
    launcher = str(OmegaConf.select(cfg, "hydra.launcher._target_", default="") or "")
    if len(values) > 1 and "submitit" not in launcher:
        raise UserInputError(
            "flush_denormal=true,false needs a process per job (CPU threads keep the setting they "
            "started with, and this launcher runs several jobs in one process): add "
            "hydra/launcher=submitit_local, or run each value as a command of its own"
        )


def make_study_folder(cfg: DictConfig) -> None:
    """The folder of a search's SQLite study (hparams_search), which SQLite will not make."""
    storage = str(OmegaConf.select(cfg, "hydra.sweeper.storage", default="") or "")
    if storage.startswith("sqlite:///"):
        Path(storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def check_job(cfg: DictConfig, first: bool = True) -> None:
    """One composed job: its settings, its output folder, its checkpoint and (once) W&B."""
    from ff_lightning.run.trainer_checks import check_trainer

    validate_config(cfg)
    check_output_folder(cfg)
    check_local_copy(cfg.dataset)
    ckpt = cfg.get("ckpt_path")
    if ckpt not in (None, "", "last"):
        from ff_lightning.run.checkpoints import check_checkpoint

        check_checkpoint(str(ckpt), cfg)
    # last of the settings' checks: the machine (a GPU, cores, memory)
    check_trainer(cfg)
    from ff_lightning.run.wandb_login import check_online_login, wandb_settings

    wandb = wandb_settings(cfg.get("logger"))
    mode = os.environ.get("WANDB_MODE") or (wandb.get("mode", "auto") if wandb is not None else "auto")
    if first and wandb is not None and mode == "online":
        # asked for explicitly: a login that cannot work is the user's to fix, not to hide
        check_online_login()


# what Hydra writes into a run folder before the task starts
_HYDRA_FILES = {".hydra", "train.log", "config_resolved.yaml", "multirun.yaml"}


def remove_unused_output_folder(folder: Path) -> None:
    """Remove a run folder that holds only what Hydra and the run's start wrote before it stopped
    on bad input (no checkpoint, no results, no logger files): no half-made run is left behind."""
    import shutil

    if folder.is_dir() and {p.name for p in folder.iterdir()} <= _HYDRA_FILES:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ff_lightning.run.jobs [-m] OVERRIDES...`: each job of that train.py command line
    on a line of its own, its overrides shell-quoted, in Hydra's order (the line's number is the
    job's number in a multirun): for scripts that run a sweep's jobs one at a time, each in a
    folder of its own that survives a stop."""
    import shlex
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    found = command_line_jobs(args)
    if found is None:
        print("ff_lightning.run.jobs: this command line runs no jobs that can be listed", file=sys.stderr)
        return 2
    for overrides in found[0]:
        print(shlex.join(overrides))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
