"""results.json: what a run leaves behind for reports and sweeps, written whole or not at all,
and read back so that one broken file costs one run, not the whole folder."""

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger("ff_lightning")


def _json_safe(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        value = value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write through a temporary file in the same folder and a rename: a reader (or a run killed
    half way) sees the old file or the new one, never a part of it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_results(path: Path, results: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(_json_safe(results), indent=2, sort_keys=True) + "\n")


def read_results(path: Path) -> dict[str, Any] | None:
    """A results.json's contents, or None (with one warning line naming it) if it is unreadable."""
    try:
        results = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("skipping %s: not a readable results file (%s)", path, type(exc).__name__)
        return None
    if not isinstance(results, dict):
        log.warning("skipping %s: not a readable results file (a JSON %s)", path, type(results).__name__)
        return None
    return results


def chance_error(labels: torch.Tensor, num_classes: int) -> float:
    """The error (%) of always answering the most frequent class of these labels."""
    counts = torch.bincount(labels.flatten().long().cpu(), minlength=num_classes)
    return 100.0 * (1.0 - counts.max().item() / max(int(counts.sum()), 1))


def at_chance(error: float | None, chance: float, samples: int) -> bool:
    """Whether an error (%) is no better than always answering the most frequent class: within
    three standard errors of that rate (a binomial over `samples` answers)."""
    if error is None or samples <= 0:
        return False
    p = chance / 100.0
    margin = 300.0 * math.sqrt(p * (1.0 - p) / samples)
    return error >= chance - margin
