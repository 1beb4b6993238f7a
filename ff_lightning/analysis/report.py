"""Turn a sweep folder into tables and figures.

    python -m ff_lightning.report SWEEP_DIR [--out DIR] [--no-wandb]

Reads every results.json under SWEEP_DIR, writes report.md (one markdown table per swept
setting: mean +- std over seeds of the validation and test errors in both inference modes (the
validation error alone where no run measured the test set), runs, diverged runs, runs at chance
level, and one row per combination of swept settings where there are two or more; none for a
config group that a swept option merely switches on; each setting against the baseline with its
95 % interval and verdict per training budget; every run's own figures) and PNG plots, and prints
the tables. Job folders without a readable results.json count as failed. Runs
that diverged or ended at chance level are counted apart and left out of the means. When the
runs logged to W&B, the figures and tables go to a W&B run in the sweep's group as well.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ff_lightning.analysis.comparison import comparison_table
from ff_lightning.analysis.figures import (
    file_part,
    plot_activity,
    plot_corruptions,
    plot_errors,
    plot_heatmap,
    plot_histograms,
    plot_history,
    plot_weights,
)
from ff_lightning.analysis.runs import (
    SPLITS,
    TWINS,
    Loaded,
    by_model,
    error_keys,
    fixed_settings,
    fold_confounded,
    judged_split,
    load_runs,
    mean_weights,
    run_at_chance,
    run_settings,
    setting_label,
    sweep_keys,
    variants,
)
from ff_lightning.analysis.tables import (
    activity_groups,
    activity_table,
    attach_corrupted,
    corruption_groups,
    corruption_means,
    corruption_table,
    markdown_table,
    runs_table,
    summarise,
)
from ff_lightning.errors import UserInputError, refuse
from ff_lightning.run.results import write_atomic
from ff_lightning.run.weights import ratio_table, weight_ratios

# a sweep folder's baseline setting, kept beside its records (`threshold=constant`), so that its
# report is regenerated against the same one
BASELINE_FILE = "baseline.txt"


def pick_baseline(labels: list[str], wanted: str | None) -> dict[str, str]:
    """Each setting's baseline, the setting it is compared with: one whose label holds every
    word of `wanted` (`threshold=constant`), else the sweep's first. Where several settings hold
    those words (`threshold.k=1.0` in a sweep over depth too), each setting is compared with the
    one that shares most of its other words: the same depth, say."""
    if not wanted:
        return {label: labels[0] for label in labels}
    matching = [label for label in labels if all(word in label.split() for word in wanted.split())]
    if not matching:
        raise UserInputError(f"--baseline {wanted!r} matches no setting; the settings: {'; '.join(labels)}")

    def shared(a: str, b: str) -> int:
        return len(set(a.split()) & set(b.split()))

    # max keeps the first of equals: the sweep's order decides a tie
    return {label: max(matching, key=lambda base: shared(label, base)) for label in labels}


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
    split = judged_split(runs)
    name = SPLITS[split]
    n_chance = sum(
        r.get("status") == "completed" and any(run_at_chance(r, m) for m in error_keys(split)) for r in runs
    )
    total = len(runs) + len(failed)
    parts = [
        f"# Report: {sweep_dir}",
        "",
        f"{total} run{'s' if total != 1 else ''}: {len(runs) - n_div} completed, {n_div} diverged, "
        f"{len(failed)} failed (no readable results.json); {n_chance} completed at chance level in "
        "an inference mode.",
        "",
        "Each mean leaves out diverged runs and the runs at chance level in that inference mode "
        f"(a {name} error no better than always answering the most frequent class); the tables count them.",
    ]
    if split == "val":
        parts += ["", "No run measured the test set (test=false): the tables give the validation error."]
    # settings are chosen on the validation split: its error beside the test error, where the runs
    # held one out (at the end of training; each budget's in the comparison and the runs below)
    validated = split == "test" and any(r.get(key) is not None for r in runs for key in error_keys("val"))
    splits = ("val", "test") if validated else (split,)
    if failed:
        parts += ["", "Failed runs: " + ", ".join(str(p) for p in failed)]
    figures: list[Path] = []
    # each run's resolved config is read once, for all the tables
    per_run = run_settings(runs)
    keys, per_run = fold_confounded(sweep_keys(sweep_dir, runs, per_run) or ["model"], per_run)
    caption = fixed_settings(runs)
    parts += ["", f"Settings every run shared ({caption.removeprefix('fixed: ')}) are not repeated below."]
    for key in keys:
        rows = summarise(runs, per_run, key)
        parts += ["", f"## {key}", "", markdown_table(key, rows, splits)]
        fig = out_dir / f"error_by_{file_part(key)}.png"
        others = [k for k in keys if k != key]
        pooled = f"; pooled over {', '.join(others)}" if others else ""
        plot_errors(key, rows, fig, caption + pooled, pooled=bool(others), split=split)
        figures.append(fig)
        parts += ["", f"![{name} error by {key}]({fig.name})"]
    if len(keys) >= 2:
        # each combination of the swept settings, whose means the tables above pool
        combined = [{"setting": setting_label(values, keys)} for values in per_run]
        parts += [
            "",
            "## Each setting",
            "",
            markdown_table("setting", summarise(runs, combined, "setting"), splits),
        ]
        # the first two swept settings against each other (the rest pooled)
        rows_key, cols_key = keys[0], keys[1]
        fig = out_dir / f"heatmap_{file_part(rows_key)}_by_{file_part(cols_key)}.png"
        others = keys[2:]
        plot_heatmap(
            runs,
            per_run,
            rows_key,
            cols_key,
            fig,
            caption + (f"; pooled over {', '.join(others)}" if others else ""),
            split,
        )
        figures.append(fig)
        parts += ["", f"## {rows_key} by {cols_key}", "", f"![{name} error heatmap]({fig.name})"]

    attach_corrupted(runs)
    groups = variants(runs, per_run, keys)
    compared = variants(runs, per_run, keys, weighted=False)
    if len(compared) >= 2:
        kept = sweep_dir / BASELINE_FILE
        if baseline is None and kept.is_file():
            baseline = kept.read_text().strip()
        chosen = pick_baseline(list(compared), baseline)
        bases = set(chosen.values())
        against = (
            f"the baseline ({bases.pop()})"
            if len(bases) == 1
            else f"its baseline (the setting with {baseline} and its other settings, one of {len(bases)})"
        )
        parts += [
            "",
            "## Against the baseline",
            "",
            f"Each setting minus {against}, in error points: the mean difference over "
            "seeds with its 95 % interval (paired by seed where both ran the same seeds, else "
            "Welch's), at each training budget the runs validated at and at the end. Verdict: "
            "**lower** or **higher** error where the interval excludes 0, else undecided at this "
            "size and number of seeds.",
            "",
            comparison_table(compared, chosen),
        ]
    fig = out_dir / "validation_by_epoch.png"
    if compared and plot_history(compared, fig, caption):
        figures.append(fig)
        parts += ["", f"![validation error against the epoch]({fig.name})"]
    parts += [
        "",
        "## Runs",
        "",
        "Each run's own figures, from its results.json: the error at each training budget it "
        "validated at, at the end of training, and on the test set.",
        "",
        runs_table(runs, per_run, keys),
    ]
    if groups:
        parts += ["", "## Weights"]
        # FF against its twin within each setting of the other swept keys (an lr, say): a ratio
        # pooled over settings would mix weights that no one run had
        others = [k for k in keys if k != "model"]
        settings: dict[str, list[dict[str, Any]]] = {}
        for run, values in zip(runs, per_run, strict=True):
            label = " ".join(f"{k}={values.get(k, '(default)')}" for k in others)
            settings.setdefault(label, []).append(run)
        both = False
        for label, runs_of in settings.items():
            models = by_model(runs_of)
            for ff, bp in [(ff, bp) for ff, bp in TWINS if ff in models and bp in models]:
                both = True
                ratios = weight_ratios(mean_weights(models[ff]), mean_weights(models[bp]))
                at = f" at {label}" if label else ""
                parts += [
                    "",
                    f"{ff} against {bp}{at}, mean over the runs of each; ratio = FF / backprop.",
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
                corruption_table(corrupted, table, mode),
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

    from ff_lightning.run.wandb_login import resolve_wandb_mode

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
