"""The report's markdown tables: errors per swept setting (mean +- std over seeds), each
run's own figures, layer activity, and errors on corrupted images."""

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from ff_lightning.analysis.comparison import MODES as INFERENCE
from ff_lightning.analysis.comparison import measure_rows, measures
from ff_lightning.analysis.runs import SPLITS, error_keys, run_at_chance, setting_label
from ff_lightning.run.results import read_results


def mean_std(xs: list[float]) -> str:
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return f"{xs[0]:.2f}"
    return f"{statistics.mean(xs):.2f} +- {statistics.stdev(xs):.2f}"


def summarise(runs: list[dict[str, Any]], per_run: list[dict[str, str]], key: str) -> list[dict[str, Any]]:
    """One row per value of `key`: its runs' errors on each split (validation at the end of
    training, test), diverged runs and runs at chance left out; `per_run` is run_settings(runs)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run, values in zip(runs, per_run, strict=True):
        groups[values.get(key, "(default)")].append(run)
    rows = []
    for value, group in groups.items():
        done = [r for r in group if r.get("status") == "completed"]
        row: dict[str, Any] = {
            "value": value,
            "runs": len(group),
            "diverged": sum(r.get("status") == "diverged" for r in group),
        }
        chances = [r["chance_error"] for r in done if r.get("chance_error") is not None]
        row["chance_error"] = statistics.mean(chances) if chances else None
        for split in SPLITS:
            for mode in error_keys(split):
                # a run judged at chance (on the split it was measured on) is left out of both
                chance = [r for r in done if run_at_chance(r, mode)]
                row[f"{mode} at chance"] = len(chance)
                row[mode] = [r[mode] for r in done if r.get(mode) is not None and r not in chance]
        rows.append(row)
    return rows  # in the sweep's order, as the user listed the values


def markdown_table(key: str, rows: list[dict[str, Any]], splits: tuple[str, ...] = ("test",)) -> str:
    """summarise()'s rows: the mean +- std error on each of `splits` (val, test), both inference
    modes; the runs at chance as the last split judged them."""
    heads = [f"{SPLITS[split]} error, {mode} (%)" for split in splits for mode in ("goodness", "head")]
    lines = [
        f"| {key} | " + " | ".join(heads) + " | runs | diverged | at chance (goodness / head) |",
        "| --- |" + " --- |" * (len(heads) + 3),
    ]
    for r in rows:
        chance = " / ".join(str(r.get(f"{mode} at chance", 0)) for mode in error_keys(splits[-1]))
        cells = [mean_std(r[mode]) for split in splits for mode in error_keys(split)]
        lines.append(
            f"| {r['value']} | " + " | ".join(cells) + f" | {r['runs']} | {r['diverged']} | {chance} |"
        )
    return "\n".join(lines)


def _pair(measured: dict[str, float], key: str) -> str:
    """`goodness / head` of one measure (`val@5`, `val`, `test`) of a run's measures()."""
    values = [measured.get(f"{key}/{mode}") for mode in INFERENCE]
    return " / ".join("n/a" if v is None else f"{v:.2f}" for v in values)


def runs_table(runs: list[dict[str, Any]], per_run: list[dict[str, str]], keys: list[str]) -> str:
    """One row per run, every figure the means and comparisons are made of: its setting and seed,
    its validation error at each budget it validated at, at the end, its test error (clean, and
    over the corrupted images where its checkpoint was tested on them), its epochs and its
    training + validation time (summed over every process of a resumed run)."""
    rows = measure_rows(runs)
    names = {"val": "validation, end", "test": "test", "corrupted": "corrupted test"}
    head = [names.get(row) or row.replace("val@", "validation, epoch ") for row in rows]
    lines = [
        "| setting | seed | status | "
        + " | ".join(f"{h} (goodness / head, %)" for h in head)
        + " | epochs | time (min) |",
        "| --- | --- | --- |" + " --- |" * (len(head) + 2),
    ]
    for run, values in zip(runs, per_run, strict=True):
        measured = measures(run)
        cells = [_pair(measured, row) for row in rows]
        seconds = sum(run.get("epoch_seconds") or []) + sum(run.get("validation_seconds") or [])
        lines.append(
            f"| {setting_label(values, keys)} | {run.get('seed', 'n/a')} | {run.get('status', 'n/a')} | "
            + " | ".join(cells)
            + f" | {run.get('epochs_completed', 'n/a')} | {seconds / 60:.1f} |"
        )
    return "\n".join(lines)


# what each FF layer's last training epoch says about its units (results.json's "metrics"):
# the share saturated on positive data, and the positive and negative goodness over its theta
ACTIVITY = {
    "saturated": "saturated units on positive data (%)",
    "goodness_pos": "positive goodness / theta",
    "goodness_neg": "negative goodness / theta",
}


def layer_activity(run: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per layer of an FF run: its ACTIVITY figures, the saturated share in %, the goodness over
    the layer's theta (none for a run without FF layer metrics)."""
    metrics, out = run.get("metrics") or {}, {}
    for layer in sorted(run.get("weights") or {}, key=lambda s: int(s.removeprefix("layer"))):
        found = {stat: metrics.get(f"train/{layer}/{stat}") for stat in (*ACTIVITY, "theta")}
        if any(v is None for v in found.values()) or not found["theta"]:
            continue
        theta = found.pop("theta")
        out[layer] = {stat: v * 100 if stat == "saturated" else v / theta for stat, v in found.items()}
    return out


def activity_groups(groups: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, dict[str, float]]]]:
    """Each setting's FF runs' layer activity (settings without any left out)."""
    out = {name: [a for a in map(layer_activity, rs) if a] for name, rs in groups.items()}
    return {name: acts for name, acts in out.items() if acts}


def activity_layers(groups: dict[str, list[dict[str, dict[str, float]]]]) -> list[str]:
    names = {layer for acts in groups.values() for a in acts for layer in a}
    return sorted(names, key=lambda s: int(s.removeprefix("layer")))


def activity_values(acts: list[dict[str, dict[str, float]]], layer: str, stat: str) -> list[float]:
    return [a[layer][stat] for a in acts if layer in a]


def activity_table(groups: dict[str, list[dict[str, dict[str, float]]]]) -> str:
    layers = activity_layers(groups)
    lines = [
        "| setting | " + " | ".join(layers) + " |",
        "| --- | " + " | ".join("---" for _ in layers) + " |",
    ]
    for name, acts in groups.items():
        cells = []
        for layer in layers:
            sat, pos, neg = (activity_values(acts, layer, stat) for stat in ACTIVITY)
            cells.append(
                f"{statistics.mean(sat):.1f} % / {statistics.mean(pos):.2f} / {statistics.mean(neg):.2f}"
                if sat
                else "n/a"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# what `python -m ff_lightning.evaluate CKPT --corruptions --out RUN/corruptions.json` writes
CORRUPTIONS_FILE = "corruptions.json"


def corruption_groups(
    runs: list[dict[str, Any]], per_run: list[dict[str, str]], keys: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """The corruptions.json of each setting's runs (setting label as in variants())."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run, values in zip(runs, per_run, strict=True):
        found = run_corruptions(run)
        if found is not None:
            out[setting_label(values, keys)].append(found)
    return out


def run_corruptions(run: dict[str, Any]) -> dict[str, Any] | None:
    """The corruptions.json beside a run's results.json, None where there is none (or it holds
    no corruptions); read once and kept on the run, since the report's comparison and its
    corruption tables both use it."""
    if "_corruptions" not in run:
        path = Path(run["_dir"]) / CORRUPTIONS_FILE
        found = read_results(path) if path.is_file() else None
        run["_corruptions"] = found if found is not None and "corruptions" in found else None
    return run["_corruptions"]


def corruption_means(results: list[dict[str, Any]], mode: str) -> dict[str, float]:
    """Per corruption (and `clean`), the test error in `mode` averaged over severities and runs."""
    means = {"clean": statistics.mean(r[f"test/error_{mode}"] for r in results)}
    for name in results[0]["corruptions"]:
        cells = [c[f"error_{mode}"] for r in results for c in r["corruptions"].get(name, {}).values()]
        means[name] = statistics.mean(cells) if cells else float("nan")
    return means


def corrupted_error(result: dict[str, Any], mode: str) -> float:
    """One run's test error in `mode` averaged over every corruption and severity it was tested
    on (each case the whole test set once, so every case weighs the same)."""
    cases = [c for severities in result["corruptions"].values() for c in severities.values()]
    return statistics.mean(c[f"error_{mode}"] for c in cases) if cases else float("nan")


def attach_corrupted(runs: list[dict[str, Any]]) -> None:
    """Give each run whose checkpoint was tested on corrupted images (a corruptions.json beside
    its results.json) `corrupted/error_<mode>`, its corrupted_error(), so that the comparison
    with the baseline covers robustness as it covers the clean test set."""
    for run in runs:
        found = run_corruptions(run)
        if found is None or not found["corruptions"]:
            continue
        for mode in INFERENCE:
            run[f"corrupted/error_{mode}"] = corrupted_error(found, mode)


def corruption_table(
    groups: dict[str, list[dict[str, Any]]], table: dict[str, dict[str, float]], mode: str
) -> str:
    """`table`: each setting's corruption_means(); a last row gives each setting's error over all
    the corruptions, as mean +- std over its runs, so that settings compare with their spread."""
    names = list(groups)
    rows = list(next(iter(table.values())))
    lines = [
        "| corruption | " + " | ".join(f"{n} ({len(groups[n])} runs)" for n in names) + " |",
        "| --- |" + " --- |" * len(names),
    ]
    for row in rows:
        lines.append(
            f"| {row} | " + " | ".join(f"{table[n].get(row, float('nan')):.2f}" for n in names) + " |"
        )
    overall = [mean_std([corrupted_error(r, mode) for r in groups[n]]) for n in names]
    lines.append("| every corruption and severity, mean +- std over runs | " + " | ".join(overall) + " |")
    return "\n".join(lines)
