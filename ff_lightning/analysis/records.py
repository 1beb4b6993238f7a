"""Keep a sweep's run records beside its report: the small files the report reads, never the
checkpoints or logger files.

    python -m ff_lightning.records SWEEP_DIR DEST     # then: python -m ff_lightning.report DEST

Copies, for every run under SWEEP_DIR (a folder holding results.json), its results.json,
config_resolved.yaml, .hydra/overrides.yaml and, where the run was tested on corrupted images,
corruptions.json into the same relative folder under DEST, and the sweep's multirun.yaml (what it
swept). A run already kept is not replaced unless --overwrite.
"""

import argparse
import shutil
import sys
from pathlib import Path

from ff_lightning.analysis.tables import CORRUPTIONS_FILE
from ff_lightning.errors import UserInputError, refuse

RUN_FILES = ("results.json", "config_resolved.yaml", ".hydra/overrides.yaml", CORRUPTIONS_FILE)
SWEEP_FILES = ("multirun.yaml",)


def keep(sweep_dir: Path, dest: Path, overwrite: bool = False) -> list[Path]:
    """Copy the records; the run folders kept (relative to dest)."""
    runs = sorted(p.parent for p in sweep_dir.rglob("results.json"))
    if not runs:
        raise UserInputError(f"no results.json under {sweep_dir}")
    kept = []
    for run in runs:
        target = dest / run.relative_to(sweep_dir)
        if (target / "results.json").exists() and not overwrite:
            raise UserInputError(f"{target}/results.json already exists; pass --overwrite to replace it")
        for name in RUN_FILES:
            if (run / name).is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(run / name, target / name)
        kept.append(target.relative_to(dest))
    for name in SWEEP_FILES:
        if (sweep_dir / name).is_file():
            shutil.copy2(sweep_dir / name, dest / name)
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ff_lightning.records", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "sweep_dir", type=Path, help="a sweep folder (or a run folder) holding results.json files"
    )
    parser.add_argument("dest", type=Path, help="where the records go, e.g. docs/results/NAME")
    parser.add_argument("--overwrite", action="store_true", help="replace records kept before")
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        return refuse("records", f"{args.sweep_dir} is not a folder")
    try:
        kept = keep(args.sweep_dir, args.dest, args.overwrite)
    except UserInputError as exc:
        return refuse("records", str(exc))
    print(f"kept {len(kept)} run(s) under {args.dest}; report: python -m ff_lightning.report {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
