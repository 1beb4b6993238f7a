"""Turn a sweep folder into tables and figures.

    python -m ff_lightning.report SWEEP_DIR [--out DIR] [--no-wandb]

Reads every results.json under SWEEP_DIR, writes report.md (one markdown table per swept
setting: mean +- std over seeds of the test error in both inference modes, runs, diverged runs,
runs at chance level; none for a config group that a swept option merely switches on) and PNG
plots, and prints the tables. Job folders without a readable results.json count as failed. Runs
that diverged or ended at chance level are counted apart and left out of the means. When the
runs logged to W&B, the figures and tables go to a W&B run in the sweep's group as well.
"""

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ff_lightning.comparison import comparison_table
from ff_lightning.errors import UserInputError, refuse
from ff_lightning.results import read_results, write_atomic
from ff_lightning.weights import ratio_table, weight_ratios

MODES = ("test/error_goodness", "test/error_head")
IGNORED_KEYS = {"seed", "hydra.sweep.dir", "hydra.run.dir", "hydra.sweep.subdir"}


def load_runs(sweep_dir: Path) -> tuple[list[dict[str, Any]], list[Path]]:
    """All readable results.json under sweep_dir, and the job folders (holding .hydra/ or an
    unreadable results.json) that have none: those count as failed."""
    runs, unreadable = [], []
    for path in sorted(sweep_dir.rglob("results.json"), key=sweep_order):
        run = read_results(path)
        if run is None:
            unreadable.append(path.parent)
            continue
        run["_dir"] = str(path.parent)
        runs.append(run)
    done = {Path(r["_dir"]) for r in runs}
    failed = {p.parent for p in sweep_dir.rglob(".hydra") if p.parent not in done}
    return runs, sorted(failed | set(unreadable), key=sweep_order)


def sweep_order(path: Path) -> list[tuple[int, int | str]]:
    """Job folders in the order the sweep ran them: 2/ before 10/ (Hydra numbers them)."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in path.parts]


def _overrides(run: dict[str, Any]) -> dict[str, str]:
    """key -> value of what the run's command line set."""
    return dict(item.lstrip("+~").partition("=")[::2] for item in run.get("overrides", []))


def settings(run: dict[str, Any]) -> dict[str, str]:
    """key -> value of the run's overrides, with config-group choices filled in."""
    return {**{k: str(v) for k, v in run.get("choices", {}).items()}, **_overrides(run)}


_ABSENT = object()


def _as_typed(value: Any) -> str:
    """A config value spelled as on a command line: 0.2, false, [500,500]."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ",".join(_as_typed(v) for v in value) + "]"
    return str(value)


def run_settings(runs: list[dict[str, Any]]) -> list[dict[str, str]]:
    """settings() of each run; a key that another run's command line set is read from this run's
    resolved config where its own command line did not set it, so that a value a group option
    set (trick=input_dropout: model.input_dropout=0.2) is not reported as "(default)"."""
    per_run = [settings(run) for run in runs]
    typed = {k for run in runs for k in _overrides(run) if k not in IGNORED_KEYS and "." in k}
    for run, values in zip(runs, per_run, strict=True):
        resolved = Path(run.get("_dir", "")) / "config_resolved.yaml"
        missing = typed - values.keys()
        if not missing or "_dir" not in run or not resolved.exists():
            continue
        cfg = OmegaConf.load(resolved)
        for key in missing:
            value = OmegaConf.select(cfg, key, default=_ABSENT)
            if OmegaConf.is_config(value):
                value = OmegaConf.to_container(value)
            if value is not _ABSENT:
                values[key] = _as_typed(value)
    return per_run


def swept_keys(runs: list[dict[str, Any]], per_run: list[dict[str, str]] | None = None) -> list[str]:
    """Settings whose value differs between runs (seeds aside): what the sweep compared.

    `per_run` is run_settings(runs), when the caller has it already."""
    per_run = run_settings(runs) if per_run is None else per_run
    all_keys = {k for s in per_run for k in s}
    values = {k: {s.get(k, "(default)") for s in per_run} for k in all_keys}  # missing varies too
    swept = sorted(k for k, v in values.items() if len(v) > 1 and k not in IGNORED_KEYS)
    typed = {k for run in runs for k in _overrides(run)}
    # a group that a swept option switches on (trick=ema sets weight_averaging=ema) would only
    # repeat that option's table under another name
    return [
        k
        for k in swept
        if k in typed or not any(o in typed and _follows(per_run, k, o) for o in swept if o != k)
    ]


def declared_sweep(sweep_dir: Path) -> list[str] | None:
    """What the sweep swept, as Hydra recorded it in SWEEP_DIR/multirun.yaml: the keys of its
    sweep overrides (`activation=relu,tanh`, `choice(...)`, `range(...)`; seeds aside) and, for a
    search, the sweeper's parameters. None without that file (a folder of several sweeps)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    path = sweep_dir / "multirun.yaml"
    if not path.is_file():
        return None
    cfg = OmegaConf.load(path)
    task = OmegaConf.select(cfg, "hydra.overrides.task", default=None) or []
    keys: list[str] = []
    for override in OverridesParser.create().parse_overrides([str(t) for t in task]):
        key = override.key_or_group.lstrip("+~")
        if override.is_sweep_override() and key not in IGNORED_KEYS and key not in keys:
            keys.append(key)
    params = OmegaConf.select(cfg, "hydra.sweeper.params", default=None) or {}
    return keys + [str(k) for k in params if str(k) not in keys]


def sweep_keys(sweep_dir: Path, runs: list[dict[str, Any]], per_run: list[dict[str, str]]) -> list[str]:
    """What the sweep compared: what Hydra says it swept, else what differs between the runs."""
    return declared_sweep(sweep_dir) or swept_keys(runs, per_run)


def _follows(per_run: list[dict[str, str]], key: str, other: str) -> bool:
    """Whether each value of `other` comes with a single value of `key` in every run."""
    seen: dict[str, str] = {}
    for s in per_run:
        a, b = s.get(other, "(default)"), s.get(key, "(default)")
        if seen.setdefault(a, b) != b:
            return False
    return True


def _mean_std(xs: list[float]) -> str:
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return f"{xs[0]:.2f}"
    return f"{statistics.mean(xs):.2f} +- {statistics.stdev(xs):.2f}"


def summarise(runs: list[dict[str, Any]], per_run: list[dict[str, str]], key: str) -> list[dict[str, Any]]:
    """One row per value of `key`; `per_run` is run_settings(runs)."""
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
        for mode in MODES:
            chance = [r for r in done if _at_chance(r, mode)]
            row[f"{mode} at chance"] = len(chance)
            row[mode] = [r[mode] for r in done if r.get(mode) is not None and r not in chance]
        rows.append(row)
    return rows  # in the sweep's order, as the user listed the values


def _at_chance(run: dict[str, Any], mode: str) -> bool:
    """Whether the run's error in this inference mode (test/error_goodness) is at chance level."""
    return bool((run.get("at_chance") or {}).get(mode.removeprefix("test/error_")))


def markdown_table(key: str, rows: list[dict[str, Any]]) -> str:
    lines = [
        f"| {key} | test error, goodness (%) | test error, head (%) | runs | diverged "
        "| at chance (goodness / head) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        chance = " / ".join(str(r.get(f"{mode} at chance", 0)) for mode in MODES)
        lines.append(
            f"| {r['value']} | {_mean_std(r[MODES[0]])} | {_mean_std(r[MODES[1]])} "
            f"| {r['runs']} | {r['diverged']} | {chance} |"
        )
    return "\n".join(lines)


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


def _file_part(key: str) -> str:
    return key.replace("/", "_").replace(".", "_")


# each FF model and its backprop twin (the same layers), whose weights the report compares
TWINS = (("ff_mlp", "backprop_mlp"), ("ff_cnn_channelwise", "backprop_cnn"), ("ff_cnn", "backprop_cnn"))


def _by_model(runs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        if run.get("weights"):
            out[run.get("choices", {}).get("model", "ff_mlp")].append(run)
    return out


def _mean_weights(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    layers = runs[0]["weights"].keys()
    return {
        layer: {
            stat: statistics.mean(r["weights"][layer][stat] for r in runs if layer in r["weights"])
            for stat in ("mean_abs", "std")
        }
        for layer in layers
    }


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def typed_overrides(run: dict[str, Any] | None) -> list[str]:
    """The overrides the run's command line set, Hydra's own aside."""
    return [o for o in (run or {}).get("overrides", []) if not o.startswith("hydra.")]


def shared_overrides(runs: list[dict[str, Any]]) -> list[str]:
    """The overrides every run's command line set alike, in the order the first run typed them."""
    typed = [typed_overrides(run) for run in runs]
    return [o for o in (typed[0] if typed else []) if all(o in t for t in typed)]


def fixed_settings(runs: list[dict[str, Any]]) -> str:
    """What every run shared on its command line (seed and folders aside): a figure's caption."""
    shared = [o for o in shared_overrides(runs) if o.partition("=")[0] not in IGNORED_KEYS]
    return "fixed: " + (" ".join(shared) if shared else "the defaults")


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


def plot_errors(key: str, rows: list[dict[str, Any]], path: Path, caption: str, pooled: bool = False) -> None:
    """Mean test error per value of `key`, both inference modes. A value whose every completed
    run ended at chance level in a mode has no mean: its bar is drawn hatched at the chance
    level and labelled, never left empty."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.5, 1.2 * len(rows) + 2), 4.2))
    width = 0.38
    counts = [len(r[mode]) for r in rows for mode in MODES]
    for j, (mode, label) in enumerate(zip(MODES, ("goodness", "head"), strict=True)):
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
    ax.set_ylabel("test error (%)")
    ax.set_title(f"test error by {key} ({_seeds_phrase(counts, pooled)})", fontsize=10)
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


def setting_label(values: dict[str, str], keys: list[str]) -> str:
    """A run's setting as the weight and corruption figures name it: the swept keys' values, and
    the model (`activation=tanh backprop_mlp`)."""
    parts = [f"{k}={values.get(k, '(default)')}" for k in keys if k != "model"]
    return " ".join([*parts, values.get("model", "ff_mlp")])


def variants(
    runs: list[dict[str, Any]], per_run: list[dict[str, str]], keys: list[str]
) -> dict[str, list[dict]]:
    """The runs of each setting the sweep compared (the swept keys' values, and the model),
    seeds pooled: `activation=tanh model=backprop_mlp` -> its runs with weight statistics."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run, values in zip(runs, per_run, strict=True):
        if not run.get("weights") or run.get("status") != "completed":
            continue
        out[setting_label(values, keys)].append(run)
    return out


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


def _activity_layers(groups: dict[str, list[dict[str, dict[str, float]]]]) -> list[str]:
    names = {layer for acts in groups.values() for a in acts for layer in a}
    return sorted(names, key=lambda s: int(s.removeprefix("layer")))


def _activity_values(acts: list[dict[str, dict[str, float]]], layer: str, stat: str) -> list[float]:
    return [a[layer][stat] for a in acts if layer in a]


def activity_table(groups: dict[str, list[dict[str, dict[str, float]]]]) -> str:
    layers = _activity_layers(groups)
    lines = [
        "| setting | " + " | ".join(layers) + " |",
        "| --- | " + " | ".join("---" for _ in layers) + " |",
    ]
    for name, acts in groups.items():
        cells = []
        for layer in layers:
            sat, pos, neg = (_activity_values(acts, layer, stat) for stat in ACTIVITY)
            cells.append(
                f"{statistics.mean(sat):.1f} % / {statistics.mean(pos):.2f} / {statistics.mean(neg):.2f}"
                if sat
                else "n/a"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_activity(groups: dict[str, list[dict[str, dict[str, float]]]], path: Path, caption: str) -> None:
    """One panel per ACTIVITY figure, a bar per layer and setting."""
    plt = _pyplot()
    layers = _activity_layers(groups)
    names = list(groups)
    width = 0.8 / max(len(names), 1)
    fig, axes = plt.subplots(len(ACTIVITY), 1, figsize=(max(8, 0.3 * len(layers) * len(names) + 4), 9))
    for ax, (stat, label) in zip(axes, ACTIVITY.items(), strict=True):
        for j, name in enumerate(names):
            values = [_activity_values(groups[name], k, stat) for k in layers]
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
        if run.get("status") == "completed" and run.get(mode) is not None and not _at_chance(run, mode):
            cells[(r, c)].append(run[mode])
    means = [
        [statistics.mean(cells[(r, c)]) if cells[(r, c)] else None for c in col_values] for r in row_values
    ]
    counts = [[len(cells[(r, c)]) for c in col_values] for r in row_values]
    return row_values, col_values, means, counts


def plot_heatmap(
    runs: list[dict[str, Any]], per_run: list[dict[str, str]], rows: str, cols: str, path: Path, caption: str
) -> None:
    """Test error over two swept settings, one panel per inference mode, each cell annotated."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.4), squeeze=False)
    for ax, mode in zip(axes[0], MODES, strict=True):
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
        ax.set_title(f"{mode.removeprefix('test/')} (%): mean (runs)")
        fig.colorbar(image, ax=ax)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    _caption(fig, caption)
    _save(fig, path, dpi=110)


Loaded = tuple[list[dict[str, Any]], list[Path]]


# what `python -m ff_lightning.evaluate CKPT --corruptions --out RUN/corruptions.json` writes
CORRUPTIONS_FILE = "corruptions.json"


def corruption_groups(
    runs: list[dict[str, Any]], per_run: list[dict[str, str]], keys: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """The corruptions.json of each setting's runs (setting label as in variants())."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run, values in zip(runs, per_run, strict=True):
        path = Path(run["_dir"]) / CORRUPTIONS_FILE
        found = read_results(path) if path.is_file() else None
        if found is None or "corruptions" not in found:
            continue
        out[setting_label(values, keys)].append(found)
    return out


def corruption_means(results: list[dict[str, Any]], mode: str) -> dict[str, float]:
    """Per corruption (and `clean`), the test error in `mode` averaged over severities and runs."""
    means = {"clean": statistics.mean(r[f"test/error_{mode}"] for r in results)}
    for name in results[0]["corruptions"]:
        cells = [c[f"error_{mode}"] for r in results for c in r["corruptions"].get(name, {}).values()]
        means[name] = statistics.mean(cells) if cells else float("nan")
    return means


def corruption_table(groups: dict[str, list[dict[str, Any]]], table: dict[str, dict[str, float]]) -> str:
    """`table`: each setting's corruption_means()."""
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
    return "\n".join(lines)


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


# a sweep folder's baseline setting, kept beside its records (`threshold=constant`), so that its
# report is regenerated against the same one
BASELINE_FILE = "baseline.txt"


def pick_baseline(labels: list[str], wanted: str | None) -> str:
    """The setting the others are compared with: the first whose label holds every word of
    `wanted` (`threshold=constant`), else the sweep's first."""
    if wanted:
        for label in labels:
            if all(word in label.split() for word in wanted.split()):
                return label
        raise UserInputError(f"--baseline {wanted!r} matches no setting; the settings: {'; '.join(labels)}")
    return labels[0]


def build_report(
    sweep_dir: Path, out_dir: Path | None = None, loaded: Loaded | None = None, baseline: str | None = None
) -> tuple[str, list[Path]]:
    """Write report.md and the PNGs; return the markdown and the figure paths. `loaded` is
    load_runs(sweep_dir), when the caller has read the runs already."""
    out_dir = out_dir or sweep_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    runs, failed = loaded or load_runs(sweep_dir)
    if not runs and not failed:
        raise UserInputError(f"no results.json under {sweep_dir}")
    n_div = sum(r.get("status") == "diverged" for r in runs)
    n_chance = sum(r.get("status") == "completed" and any(_at_chance(r, m) for m in MODES) for r in runs)
    total = len(runs) + len(failed)
    parts = [
        f"# Report: {sweep_dir}",
        "",
        f"{total} run{'s' if total != 1 else ''}: {len(runs) - n_div} completed, {n_div} diverged, "
        f"{len(failed)} failed (no readable results.json); {n_chance} completed at chance level in "
        "an inference mode.",
        "",
        "Each mean leaves out diverged runs and the runs at chance level in that inference mode "
        "(a test error no better than always answering the most frequent class); the tables count them.",
    ]
    if failed:
        parts += ["", "Failed runs: " + ", ".join(str(p) for p in failed)]
    figures: list[Path] = []
    # each run's resolved config is read once, for all the tables
    per_run = run_settings(runs)
    keys = sweep_keys(sweep_dir, runs, per_run) or ["model"]
    caption = fixed_settings(runs)
    parts += ["", f"Settings every run shared ({caption.removeprefix('fixed: ')}) are not repeated below."]
    for key in keys:
        rows = summarise(runs, per_run, key)
        parts += ["", f"## {key}", "", markdown_table(key, rows)]
        fig = out_dir / f"error_by_{_file_part(key)}.png"
        others = [k for k in keys if k != key]
        pooled = f"; pooled over {', '.join(others)}" if others else ""
        plot_errors(key, rows, fig, caption + pooled, pooled=bool(others))
        figures.append(fig)
        parts += ["", f"![test error by {key}]({fig.name})"]
    if len(keys) >= 2:
        # the first two swept settings against each other (the rest pooled)
        rows_key, cols_key = keys[0], keys[1]
        fig = out_dir / f"heatmap_{_file_part(rows_key)}_by_{_file_part(cols_key)}.png"
        others = keys[2:]
        plot_heatmap(
            runs,
            per_run,
            rows_key,
            cols_key,
            fig,
            caption + (f"; pooled over {', '.join(others)}" if others else ""),
        )
        figures.append(fig)
        parts += ["", f"## {rows_key} by {cols_key}", "", f"![test error heatmap]({fig.name})"]

    groups = variants(runs, per_run, keys)
    if len(groups) >= 2:
        kept = sweep_dir / BASELINE_FILE
        if baseline is None and kept.is_file():
            baseline = kept.read_text().strip()
        chosen = pick_baseline(list(groups), baseline)
        parts += [
            "",
            "## Against the baseline",
            "",
            f"Each setting minus the baseline ({chosen}), in error points: the mean difference over "
            "seeds with its 95 % interval (paired by seed where both ran the same seeds, else "
            "Welch's), at each training budget the runs validated at and at the end. Verdict: "
            "**lower** or **higher** error where the interval excludes 0, else undecided at this "
            "size and number of seeds.",
            "",
            comparison_table(groups, chosen),
        ]
    fig = out_dir / "validation_by_epoch.png"
    if groups and plot_history(groups, fig, caption):
        figures.append(fig)
        parts += ["", f"![validation error against the epoch]({fig.name})"]
    if groups:
        parts += ["", "## Weights"]
        models = _by_model(runs)
        pairs = [(ff, bp) for ff, bp in TWINS if ff in models and bp in models]
        both = bool(pairs)
        for ff, bp in pairs:
            ratios = weight_ratios(_mean_weights(models[ff]), _mean_weights(models[bp]))
            parts += [
                "",
                f"{ff} against {bp}, mean over the runs of each; ratio = FF / backprop.",
                "",
                ratio_table(ratios),
            ]
        fig = out_dir / ("weights_ff_vs_bp.png" if both else "weights.png")
        plot_weights(groups, fig, caption)
        figures.append(fig)
        hist = out_dir / "weight_histograms.png"
        plot_histograms(groups, hist, caption)
        figures.append(hist)
        parts += ["", f"![weights]({fig.name})", "", f"![weight histograms]({hist.name})"]
        activity = activity_groups(groups)
        if activity:
            fig = out_dir / "activity.png"
            plot_activity(activity, fig, caption)
            figures.append(fig)
            parts += [
                "",
                "## Layer activity",
                "",
                "Per FF layer in the last training epoch, mean over seeds: the share of units "
                "saturated on positive data (a bounded activation within 5 % of its range from "
                "either end; 0 for an unbounded one) / the positive goodness over the layer's theta "
                "(below 1: positives do not reach the threshold) / the negative goodness over theta.",
                "",
                activity_table(activity),
                "",
                f"![layer activity]({fig.name})",
            ]

    corrupted = corruption_groups(runs, per_run, keys)
    if corrupted:
        parts += [
            "",
            "## Corruptions",
            "",
            "Test error (%) on corrupted test images, severities averaged, "
            "from each run's corruptions.json (python -m ff_lightning.evaluate CKPT --corruptions):",
        ]
        for mode in ("goodness", "head"):
            fig = out_dir / f"corruptions_{mode}.png"
            table = {name: corruption_means(rs, mode) for name, rs in corrupted.items()}
            plot_corruptions(corrupted, table, mode, fig, caption)
            figures.append(fig)
            parts += [
                "",
                f"### {mode}",
                "",
                corruption_table(corrupted, table),
                "",
                f"![corruptions]({fig.name})",
            ]

    text = "\n".join(parts) + "\n"
    write_atomic(out_dir / "report.md", text)
    return text, figures


def wandb_target(runs: list[dict[str, Any]], sweep_dir: Path) -> dict[str, str | None] | None:
    """Where the sweep's runs logged on W&B (project, entity, group), from the first run that
    used W&B, so that the report's run joins them; None when none did."""
    for run in runs:
        info = run.get("wandb")
        config = Path(run["_dir"]) / "config_resolved.yaml"
        if not info or not config.is_file():
            continue
        logger = OmegaConf.load(config).get("logger") or {}
        # logger=many holds W&B's settings one level down
        logger = logger.get("wandb", logger)
        return {
            "project": logger.get("project") or "ff-lightning",
            "entity": logger.get("entity"),
            "group": info.get("group") or sweep_dir.name,
        }
    return None


def log_to_wandb(sweep_dir: Path, text: str, figures: list[Path], target: dict[str, str | None]) -> None:
    import wandb

    from ff_lightning.wandb_login import resolve_wandb_mode

    run = wandb.init(
        project=target["project"],
        entity=target["entity"],
        group=target["group"],
        name=f"report {target['group']}",
        job_type="report",
        dir=str(sweep_dir),
        mode=resolve_wandb_mode("auto"),
    )
    run.log({fig.stem: wandb.Image(str(fig)) for fig in figures})
    run.summary["report_markdown"] = text
    run.finish()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ff_lightning.report", description=__doc__.split("\n")[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: SWEEP_DIR)")
    parser.add_argument("--no-wandb", action="store_true", help="do not send the figures to W&B")
    parser.add_argument(
        "--baseline",
        default=None,
        help="the setting the others are compared with, e.g. 'threshold=constant' (default: what "
        f"SWEEP_DIR/{BASELINE_FILE} says, else the sweep's first)",
    )
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        return refuse("report", f"{args.sweep_dir} is not a folder")
    loaded = load_runs(args.sweep_dir)
    if loaded[0]:  # progress; a folder without runs gets its one-line refusal alone
        print(
            f"report: read {len(loaded[0])} results.json under {args.sweep_dir}", file=sys.stderr, flush=True
        )
    try:
        text, figures = build_report(args.sweep_dir, args.out, loaded, args.baseline)
    except UserInputError as exc:
        return refuse("report", str(exc))
    print(text)
    print("wrote", args.out or args.sweep_dir, "/ report.md and", ", ".join(f.name for f in figures))
    runs, _ = loaded
    target = None if args.no_wandb else wandb_target(runs, args.sweep_dir)
    if target is not None:
        log_to_wandb(args.sweep_dir, text, figures, target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
