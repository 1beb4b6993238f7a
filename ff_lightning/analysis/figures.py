"""The report's figures (matplotlib, drawn without a display): errors per setting, validation
error against the epoch, weights, layer activity, heatmaps and corruptions."""

import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from ff_lightning.analysis.runs import SPLITS, error_keys, run_at_chance
from ff_lightning.analysis.tables import ACTIVITY, activity_layers, activity_values
from ff_lightning.run.results import write_atomic


def _save(fig: Any, path: Path, dpi: int) -> None:
    """A figure written whole or not at all (see write_atomic)."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    write_atomic(path, buffer.getvalue())
    # progress, a line per figure on stderr (stdout holds the tables): a large sweep's figures
    # take a while
    print(f"report: drew {path.name}", file=sys.stderr, flush=True)


def file_part(key: str) -> str:
    return key.replace("/", "_").replace(".", "_")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _caption(fig: Any, text: str) -> None:
    import textwrap

    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(text, 110)), fontsize=7, va="bottom", ha="left")


def _seeds_phrase(counts: list[int], pooled: bool = False) -> str:
    """What a bar stands for: one run, or the mean and spread of several (seeds, or all the runs
    of a value when other swept settings are pooled into it). Bars without a run are not counted."""
    counts = [c for c in counts if c > 0]
    low, high = min(counts, default=0), max(counts, default=0)
    if high <= 1:
        return "one run per setting, no error bars"
    spread = f"{low}-{high}" if low != high else str(high)
    bars = "; a single run has no error bar" if low == 1 else ""
    return f"mean +- std over {spread} {'runs' if pooled else 'seeds'}{bars}"


def plot_errors(
    key: str, rows: list[dict[str, Any]], path: Path, caption: str, pooled: bool = False, split: str = "test"
) -> None:
    """Mean error on `split` per value of `key` (summarise()'s rows), both inference modes. A
    value whose every completed run ended at chance level in a mode has no mean: its bar is drawn
    hatched at the chance level and labelled, never left empty."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.5, 1.2 * len(rows) + 2), 4.2))
    width = 0.38
    modes = error_keys(split)
    counts = [len(r[mode]) for r in rows for mode in modes]
    for j, (mode, label) in enumerate(zip(modes, ("goodness", "head"), strict=True)):
        means = [statistics.mean(r[mode]) if r[mode] else float("nan") for r in rows]
        # a bar's spread only where there are seeds to spread
        stds = [statistics.stdev(r[mode]) if len(r[mode]) > 1 else 0.0 for r in rows]
        xs = [i + (j - 0.5) * width for i in range(len(rows))]
        bars = ax.bar(
            xs, means, width, yerr=stds if max(counts, default=0) > 1 else None, capsize=3, label=label
        )
        colour = bars.patches[0].get_facecolor() if bars.patches else None
        for x, r in zip(xs, rows, strict=True):
            chance = r.get("chance_error")
            if not r[mode] and r.get(f"{mode} at chance") and chance is not None:
                ax.bar(x, chance, width, fill=False, hatch="//", edgecolor=colour)
                ax.annotate("chance", (x, chance), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(rows)), [r["value"] for r in rows], rotation=20)
    ax.set_xlabel(key)
    ax.set_ylabel(f"{SPLITS[split]} error (%)")
    ax.set_title(f"{SPLITS[split]} error by {key} ({_seeds_phrase(counts, pooled)})", fontsize=10)
    ax.legend()
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    _caption(fig, caption)
    _save(fig, path, dpi=120)


def plot_history(groups: dict[str, list[dict[str, Any]]], path: Path, caption: str) -> bool:
    """Validation error against the epoch for each setting (mean over seeds, the seeds' range
    shaded), from each run's val_history; False (nothing drawn) where no run has one."""
    histories = {
        label: [r["val_history"] for r in runs if r.get("val_history")] for label, runs in groups.items()
    }
    histories = {label: h for label, h in histories.items() if h}
    if not histories:
        return False
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    seeds = []
    for label, runs in histories.items():
        seeds.append(len(runs))
        for ax, mode in zip(axes, ("goodness", "head"), strict=True):
            by_epoch: dict[int, list[float]] = defaultdict(list)
            for history in runs:
                for entry in history:
                    if entry.get(f"val/error_{mode}") is not None:
                        by_epoch[entry["epoch"]].append(entry[f"val/error_{mode}"])
            epochs = sorted(by_epoch)
            means = [statistics.mean(by_epoch[e]) for e in epochs]
            (line,) = ax.plot(epochs, means, marker="o", markersize=3, label=label)
            if max((len(v) for v in by_epoch.values()), default=0) > 1:
                lows, highs = [min(by_epoch[e]) for e in epochs], [max(by_epoch[e]) for e in epochs]
                ax.fill_between(epochs, lows, highs, alpha=0.2, color=line.get_color())
    for ax, mode in zip(axes, ("goodness", "head"), strict=True):
        ax.set_title(f"validation error, {mode} inference", fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation error (%)")
        ax.set_yscale("log")
        # plain numbers on the log axis (2, 3, 4 rather than 2 x 10^0)
        plain = plt.FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="minor", labelsize=7)
    low, high = min(seeds), max(seeds)
    spread = f"{low}-{high}" if low != high else str(high)
    what = "one seed per setting" if high == 1 else f"mean over {spread} seeds, their range shaded"
    fig.suptitle(f"validation error against the training budget ({what})", fontsize=10)
    axes[1].legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    _caption(fig, caption)
    _save(fig, path, dpi=120)
    return True


def _layers(runs: list[dict[str, Any]]) -> list[str]:
    names = {layer for run in runs for layer in run.get("weights", {})}
    return sorted(names, key=lambda s: int(s.removeprefix("layer")))


def plot_weights(groups: dict[str, list[dict[str, Any]]], path: Path, caption: str) -> None:
    """Mean |w| per layer, one bar per setting (never averaged across the swept values), on a
    linear axis; error bars over seeds where a setting has several."""
    plt = _pyplot()
    layers = _layers([r for rs in groups.values() for r in rs])
    names = list(groups)
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(layers) * max(len(names), 1) + 2) + 3, 4.2))
    for j, name in enumerate(names):
        values = [[r["weights"][k]["mean_abs"] for r in groups[name] if k in r["weights"]] for k in layers]
        means = [statistics.mean(v) if v else float("nan") for v in values]
        stds = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in values]
        xs = [i - 0.4 + width * (j + 0.5) for i in range(len(layers))]
        several = any(len(v) > 1 for v in values)
        ax.bar(xs, means, width, yerr=stds if several else None, capsize=2, label=name)
    ax.set_xticks(range(len(layers)), layers)
    ax.set_ylabel("mean |w| (linear axis)")
    counts = [len(rs) for rs in groups.values()]
    ax.set_title(f"weight magnitude per layer and setting ({_seeds_phrase(counts)})", fontsize=10)
    # beside the axes, never over a bar
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    _caption(fig, caption)
    _save(fig, path, dpi=120)


def plot_histograms(groups: dict[str, list[dict[str, Any]]], path: Path, caption: str) -> None:
    """One panel per layer, one histogram per setting, each from that setting's first seed."""
    plt = _pyplot()
    layers = _layers([r for rs in groups.values() for r in rs])
    fig, axes = plt.subplots(1, len(layers), figsize=(3.4 * len(layers), 3.6), squeeze=False)
    for ax, layer in zip(axes[0], layers, strict=True):
        for name, runs in groups.items():
            first = min(runs, key=lambda r: r.get("seed", 0))
            weights = first["weights"].get(layer)
            if not weights or "hist_counts" not in weights:
                continue
            lo, hi = weights["hist_range"]
            counts = weights["hist_counts"]
            step = (hi - lo) / len(counts)
            edges = [lo + i * step for i in range(len(counts) + 1)]
            ax.stairs(counts, edges, label=f"{name} (seed {first.get('seed', '?')})", fill=False)
        ax.set_title(layer)
        ax.set_yscale("log")
        ax.set_ylabel("weights per bin (log axis)")
        ax.set_xlabel("w")
    axes[0][0].legend(fontsize=6)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    _caption(fig, caption)
    _save(fig, path, dpi=110)


def plot_activity(groups: dict[str, list[dict[str, dict[str, float]]]], path: Path, caption: str) -> None:
    """One panel per ACTIVITY figure, a bar per layer and setting."""
    plt = _pyplot()
    layers = activity_layers(groups)
    names = list(groups)
    width = 0.8 / max(len(names), 1)
    fig, axes = plt.subplots(len(ACTIVITY), 1, figsize=(max(8, 0.3 * len(layers) * len(names) + 4), 9))
    for ax, (stat, label) in zip(axes, ACTIVITY.items(), strict=True):
        for j, name in enumerate(names):
            values = [activity_values(groups[name], k, stat) for k in layers]
            means = [statistics.mean(v) if v else float("nan") for v in values]
            stds = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in values]
            xs = [i - 0.4 + width * (j + 0.5) for i in range(len(layers))]
            ax.bar(xs, means, width, yerr=stds, capsize=2, label=name)
        if stat != "saturated":
            ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")  # the threshold
        ax.set_xticks(range(len(layers)), layers)
        ax.set_ylabel(label, fontsize=8)
    counts = [len(acts) for acts in groups.values()]
    axes[0].set_title(f"FF layer activity in the last training epoch ({_seeds_phrase(counts)})", fontsize=10)
    axes[0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _caption(fig, caption)
    _save(fig, path, dpi=110)


def heatmap_cells(
    runs: list[dict[str, Any]], per_run: list[dict[str, str]], rows: str, cols: str, mode: str
) -> tuple[list[str], list[str], list[list[float | None]], list[list[int]]]:
    """Mean error (completed runs, not at chance) for each pair of values of two swept settings,
    in the sweep's order, and how many runs each mean holds."""
    row_values: list[str] = []
    col_values: list[str] = []
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    for run, values in zip(runs, per_run, strict=True):
        r, c = values.get(rows, "(default)"), values.get(cols, "(default)")
        row_values += [r] if r not in row_values else []
        col_values += [c] if c not in col_values else []
        if run.get("status") == "completed" and run.get(mode) is not None and not run_at_chance(run, mode):
            cells[(r, c)].append(run[mode])
    means = [
        [statistics.mean(cells[(r, c)]) if cells[(r, c)] else None for c in col_values] for r in row_values
    ]
    counts = [[len(cells[(r, c)]) for c in col_values] for r in row_values]
    return row_values, col_values, means, counts


def plot_heatmap(
    runs: list[dict[str, Any]],
    per_run: list[dict[str, str]],
    rows: str,
    cols: str,
    path: Path,
    caption: str,
    split: str = "test",
) -> None:
    """The error on `split` over two swept settings, one panel per inference mode, each cell
    annotated."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.4), squeeze=False)
    for ax, mode in zip(axes[0], error_keys(split), strict=True):
        row_values, col_values, means, counts = heatmap_cells(runs, per_run, rows, cols, mode)
        grid = [[float("nan") if v is None else v for v in line] for line in means]
        image = ax.imshow(grid, cmap="viridis_r", aspect="auto")
        ax.set_xticks(range(len(col_values)), col_values, rotation=30)
        ax.set_yticks(range(len(row_values)), row_values)
        ax.set_xlabel(cols)
        ax.set_ylabel(rows)
        for i, line in enumerate(means):
            for j, value in enumerate(line):
                text = "n/a" if value is None else f"{value:.2f}\n({counts[i][j]})"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white")
        ax.set_title(f"{SPLITS[split]} error, {mode.split('_')[-1]} (%): mean (runs)")
        fig.colorbar(image, ax=ax)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    _caption(fig, caption)
    _save(fig, path, dpi=110)


def plot_corruptions(
    groups: dict[str, list[dict[str, Any]]],
    table: dict[str, dict[str, float]],
    mode: str,
    path: Path,
    caption: str,
) -> None:
    """Test error per corruption (severities averaged), one bar per setting (`table`: each
    setting's corruption_means())."""
    plt = _pyplot()
    rows = list(next(iter(table.values())))
    width = 0.8 / len(table)
    fig, ax = plt.subplots(figsize=(max(7, 0.55 * len(rows) * max(1, len(table) / 2) + 3), 4.2))
    for j, (name, means) in enumerate(table.items()):
        xs = [i - 0.4 + width * (j + 0.5) for i in range(len(rows))]
        ax.bar(xs, [means.get(r, float("nan")) for r in rows], width, label=name)
    ax.set_xticks(range(len(rows)), rows, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"test error, {mode} (%)")
    counts = [len(rs) for rs in groups.values()]
    ax.set_title(
        f"error on corrupted test images, severities averaged ({_seeds_phrase(counts)})", fontsize=10
    )
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    _caption(fig, caption)
    _save(fig, path, dpi=120)
