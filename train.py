"""Entry point: `python train.py [overrides]` or `python train.py -m [sweep overrides]`."""

import errno
import sys
import warnings
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from ff_lightning.errors import UserInputError
from ff_lightning.run.jobs import check_jobs, drop_empty_folder_variables, remove_unused_output_folder

CONF_DIR = Path(__file__).resolve().parent / "conf"
# a full disk, a full quota, a read-only file system, a folder without write permission
WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES)

# conf/hydra/launcher/submitit_slurm.yaml is the suite's SLURM preset; Hydra checks it against the
# plugin's schema of the same name (wanted) and warns that such matching is deprecated (noise)
warnings.filterwarnings("ignore", message=r"(?s).*validated against ConfigStore schema with the same name")


def fail(message: str) -> None:
    print(f"train.py: error: {message}", file=sys.stderr)
    sys.exit(2)


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    # imported here so that `--help` and bad overrides stay fast
    from ff_lightning.run.interrupts import Interrupted
    from ff_lightning.run.train import train

    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        results = train(cfg)
    except UserInputError as exc:
        # found only once the job ran (its data): leave no half-made run folder behind
        remove_unused_output_folder(out_dir)
        fail(str(exc))
    except Interrupted as exc:
        print(
            f"train.py: stopped by {exc} after {exc.epochs} epoch(s); {out_dir}/results.json says "
            "interrupted; resume with ckpt_path=last and the same hydra.run.dir",
            file=sys.stderr,
        )
        sys.exit(exc.exit_code)
    except OSError as exc:
        if exc.errno not in WRITE_ERRORS:
            raise
        # the disk filled or the folder became unwritable while training: checkpoints are written
        # whole or not at all, so the last complete one is still there to resume from
        print(f"train.py: error: {exc.strerror} writing {exc.filename or out_dir}", file=sys.stderr)
        sys.exit(1)
    return results.get(cfg.get("optimized_metric") or "")


def print_help() -> None:
    """Hydra's --help, listing only the options a user can choose."""
    import contextlib
    import io

    from ff_lightning.run.console import choosable_help

    text = io.StringIO()
    try:
        with contextlib.redirect_stdout(text):
            main()
    except SystemExit as done:  # Hydra exits once it has printed the help
        if done.code not in (None, 0):
            raise
    print(choosable_help(text.getvalue()), end="")


if __name__ == "__main__":
    if "--help" in sys.argv[1:] or "-h" in sys.argv[1:]:
        print_help()
        sys.exit(0)
    drop_empty_folder_variables()
    try:
        # every job of the command line, before the first one trains or Hydra writes anything
        # and the run's folder locked for this process (a second run into it is refused)
        checked = check_jobs(sys.argv[1:], CONF_DIR, lock=True)
    except UserInputError as exc:
        fail(str(exc))
    if checked.pin:
        # the folder that was checked and locked is the one Hydra writes into
        sys.argv.append(checked.pin)
    main()
