"""The table a multirun ends with: one row per job (its overrides, status and errors), and the
command that writes the sweep's report. A Hydra callback (conf/hydra/default.yaml)."""

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from ff_lightning.analysis.runs import load_runs, shared_overrides, sweep_order, typed_overrides


def _error(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def load_jobs(sweep_dir: Path) -> list[tuple[str, dict[str, Any] | None]]:
    """Each job folder (its number, or its path under the sweep) and results (None where there is
    no readable results.json), in the order the sweep ran them."""
    runs, failed = load_runs(sweep_dir)
    jobs: dict[Path, dict[str, Any] | None] = {Path(run["_dir"]): run for run in runs}
    jobs.update(dict.fromkeys(failed))
    return [(str(folder.relative_to(sweep_dir)), jobs[folder]) for folder in sorted(jobs, key=sweep_order)]


def summary_text(sweep_dir: Path) -> str:
    """The jobs' table: what each job set apart from the others, its status and its errors
    (test, else validation); then the settings every job shared, and the report command."""
    jobs = load_jobs(sweep_dir)
    shared = shared_overrides([r for _, r in jobs if r is not None])
    rows = [["job", "swept", "status", "error goodness %", "error head %"]]
    for num, results in jobs:
        if results is None:
            rows.append([num, "", "failed (no results.json)", "-", "-"])
            continue
        split = "test" if results.get("test/error_goodness") is not None else "val"
        completed_without_test = split == "val" and results.get("status") == "completed"
        rows.append(
            [
                num,
                " ".join(o for o in typed_overrides(results) if o not in shared),
                results.get("status", "?") + (" (validation)" if completed_without_test else ""),
                _error(results.get(f"{split}/error_goodness")),
                _error(results.get(f"{split}/error_head")),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    if shared:
        lines.append("every job: " + " ".join(shared))
    lines.append(f"report: python -m ff_lightning.report {sweep_dir}")
    return "\n".join(lines)


class SweepSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir():
            print(summary_text(sweep_dir), flush=True)
