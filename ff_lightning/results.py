"""results.json: what a run leaves behind for reports and sweeps."""

import json
import math
from pathlib import Path
from typing import Any

import torch


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


def write_results(path: Path, results: dict[str, Any]) -> None:
    path.write_text(json.dumps(_json_safe(results), indent=2, sort_keys=True) + "\n")
