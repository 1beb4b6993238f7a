"""Weight analysis: per-layer statistics and histograms, and FF-vs-backprop magnitude ratios.

    python -m ff_lightning.weights FF_RUN_DIR BP_RUN_DIR

prints, per hidden layer, how much larger the FF weights are than their backprop twin's
(the paper reports 10-20x), from the two runs' results.json files.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ff_lightning.errors import UserInputError, refuse

HIST_BINS = 60


def weight_stats(layers: list[nn.Linear | nn.Conv2d]) -> dict[str, dict[str, Any]]:
    """Mean |w|, std, Frobenius norm and a histogram of each layer's weight matrix or kernel (biases
    left out)."""
    stats = {}
    for i, layer in enumerate(layers):
        w = layer.weight.detach().float().cpu()
        finite = w[torch.isfinite(w)]  # a diverged run may hold NaN/inf weights
        lim = (finite.abs().max().item() if finite.numel() else 0.0) or 1.0
        counts = torch.histc(finite, bins=HIST_BINS, min=-lim, max=lim)
        stats[f"layer{i}"] = {
            "mean_abs": w.abs().mean().item(),
            "std": w.std().item(),
            # a conv kernel's Frobenius norm is that of all its weights
            "fro_norm": torch.linalg.vector_norm(w).item(),
            "shape": list(w.shape),
            "hist_range": [-lim, lim],
            "hist_counts": [int(c) for c in counts.tolist()],
        }
    return stats


def weight_ratios(ff: dict[str, Any], bp: dict[str, Any]) -> list[dict[str, float | str]]:
    """Per layer present in both: FF mean |w| and std over those of the backprop twin."""
    rows = []
    for layer in sorted(set(ff) & set(bp), key=lambda name: int(name.removeprefix("layer"))):
        rows.append(
            {
                "layer": layer,
                "ff_mean_abs": ff[layer]["mean_abs"],
                "bp_mean_abs": bp[layer]["mean_abs"],
                "mean_abs_ratio": ff[layer]["mean_abs"] / bp[layer]["mean_abs"],
                "ff_std": ff[layer]["std"],
                "bp_std": bp[layer]["std"],
                "std_ratio": ff[layer]["std"] / bp[layer]["std"],
            }
        )
    return rows


def ratio_table(rows: list[dict[str, float | str]]) -> str:
    lines = [
        "| layer | FF mean abs(w) | BP mean abs(w) | ratio | FF std | BP std | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['layer']} | {r['ff_mean_abs']:.4g} | {r['bp_mean_abs']:.4g} | {r['mean_abs_ratio']:.1f}x "
            f"| {r['ff_std']:.4g} | {r['bp_std']:.4g} | {r['std_ratio']:.1f}x |"
        )
    return "\n".join(lines)


def _load(run_dir: str) -> dict[str, Any]:
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        raise UserInputError(f"{path} not found; give a run's output folder")
    try:
        results = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserInputError(f"{path}: not a readable results file ({type(exc).__name__})") from None
    if not isinstance(results, dict) or not results.get("weights"):
        raise UserInputError(f"{path} records no weights (a run that did not complete?)")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ff_lightning.weights", description=__doc__.split("\n")[0]
    )
    parser.add_argument("ff_run", help="output folder of the FF run")
    parser.add_argument("bp_run", help="output folder of its backprop twin (model=backprop_mlp)")
    args = parser.parse_args(argv)
    try:
        ff, bp = _load(args.ff_run), _load(args.bp_run)
    except UserInputError as exc:
        return refuse("weights", str(exc))
    print(ratio_table(weight_ratios(ff["weights"], bp["weights"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
