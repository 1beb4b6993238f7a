"""The table a multirun ends with: one row per job (its overrides, status and errors), and the
command that writes the sweep's report. A Hydra callback (conf/hydra/default.yaml)."""

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from ff_lightning.results import read_results


def _error(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def load_jobs(sweep_dir: Path) -> list[tuple[str, dict[str, Any] | None]]:
    """Each job folder's number and results (None where there is no readable results.json)."""
    folders = [p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    found = []
    for job in sorted(folders, key=lambda p: int(p.name)):
        path = job / "results.json"
        found.append((job.name, read_results(path) if path.exists() else None))
    return found


def _overrides(results: dict[str, Any] | None) -> list[str]:
    return [o for o in (results or {}).get("overrides", []) if not o.startswith("hydra.")]


def summary_text(sweep_dir: Path) -> str:
    """The jobs' table: what each job set apart from the others, its status and its errors
    (test, else validation); then the settings every job shared, and the report command."""
    jobs = load_jobs(sweep_dir)
    sets = [set(_overrides(r)) for _, r in jobs if r is not None]
    shared = set.intersection(*sets) if sets else set()
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
                " ".join(o for o in _overrides(results) if o not in shared),
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
        first = next(r for _, r in jobs if r is not None)
        lines.append("every job: " + " ".join(o for o in _overrides(first) if o in shared))
    lines.append(f"report: python -m ff_lightning.report {sweep_dir}")
    return "\n".join(lines)


class SweepSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir():
            print(summary_text(sweep_dir), flush=True)
