"""A W&B workspace for one sweep, built as code (wandb-workspaces).

    python -m ff_lightning.dashboard SWEEP_DIR [--entity ENTITY] [--project PROJECT] [--offline]

Its runs are the sweep's W&B group (its training runs, not the report's), grouped by the settings
the sweep swept, so that seeds are pooled: validation error and training loss over epochs with
their spread over seeds, test error per setting, and each layer's mean |w| per model (FF against
backprop). The workspace's spec is written to SWEEP_DIR/dashboard.json; with a W&B login it is
also saved to W&B and its URL printed, else the command that publishes it is printed.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ff_lightning.analysis.report import wandb_target
from ff_lightning.analysis.runs import load_runs, run_settings, sweep_keys
from ff_lightning.errors import refuse
from ff_lightning.run.results import write_atomic

SPEC_FILE = "dashboard.json"
MODES = ("goodness", "head")


def group_keys(sweep_dir: Path, runs: list[dict[str, Any]]) -> list[str]:
    """The W&B config keys of what the sweep swept (as the report finds it): a config group's
    option is logged as `choices.<group>`, a setting under its own dotted name."""
    choices = {k for run in runs for k in run.get("choices", {})}
    return [f"choices.{k}" if k in choices else k for k in sweep_keys(sweep_dir, runs, run_settings(runs))]


def build_workspace(
    runs: list[dict[str, Any]], keys: list[str], target: dict[str, str | None], entity: str
) -> Any:
    import wandb_workspaces.reports.v2 as wr
    import wandb_workspaces.workspaces as ws

    layers = sorted({layer for run in runs for layer in run.get("weights", {})})
    # mean and spread over the runs that share the swept settings (the seeds)
    pooled = {"groupby_aggfunc": "mean", "groupby_rangefunc": "stddev"}
    curves = [
        wr.LinePlot(title=f"validation error, {mode} (%)", x="epoch", y=[f"val/error_{mode}"], **pooled)
        for mode in MODES
    ]
    curves.append(wr.LinePlot(title="training loss", x="epoch", y=["train/loss"], **pooled))
    tests = [
        wr.BarPlot(title=f"test error, {mode} (%)", metrics=[f"test/error_{mode}"], **pooled)
        for mode in MODES
    ]
    tests += [
        wr.BarPlot(title=f"best validation error, {mode} (%)", metrics=[f"val/error_{mode}_best"], **pooled)
        for mode in MODES
    ]
    weights = [
        wr.BarPlot(title=f"mean |w|, {layer}", metrics=[f"weights/{layer}/mean_abs"], **pooled)
        for layer in layers
    ]
    return ws.Workspace(
        entity=entity,
        project=target["project"] or "ff-lightning",
        name=f"sweep {target['group']}",
        sections=[
            ws.Section(name="validation error over epochs", panels=curves, is_open=True),
            ws.Section(name="test error per setting", panels=tests, is_open=True),
            ws.Section(
                name="weight magnitudes per layer (FF against backprop)", panels=weights, is_open=True
            ),
        ],
        runset_settings=ws.RunsetSettings(
            filters=[ws.Metric("Group") == target["group"], ws.Metric("JobType") == "train"],
            groupby=[ws.Config(key) for key in keys],
        ),
    )


def spec_of(workspace: Any) -> dict[str, Any]:
    return json.loads(workspace._to_model().model_dump_json())


def default_entity() -> str | None:
    """The logged-in user's default entity, or None offline or without a login."""
    from ff_lightning.run.wandb_login import login_problem

    if login_problem() is not None:
        return None
    import wandb

    return wandb.Api(timeout=5).default_entity


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ff_lightning.dashboard", description=__doc__.split("\n")[0]
    )
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument(
        "--entity", default=None, help="W&B entity (default: the runs' logger.entity, or yours)"
    )
    parser.add_argument("--project", default=None, help="W&B project (default: the runs' logger.project)")
    parser.add_argument("--offline", action="store_true", help="only write the spec, never publish")
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        return refuse("dashboard", f"{args.sweep_dir} is not a folder")
    runs, _ = load_runs(args.sweep_dir)
    target = wandb_target(runs, args.sweep_dir)
    if target is None:
        return refuse(
            "dashboard", f"no run under {args.sweep_dir} logged to W&B (logger=wandb or logger=many)"
        )
    if args.project:
        target["project"] = args.project
    import importlib.util

    if importlib.util.find_spec("wandb_workspaces") is None:
        return refuse("dashboard", "the dashboard needs wandb-workspaces: pip install -e '.[dashboard]'")
    offline = args.offline or os.environ.get("WANDB_MODE") in ("offline", "disabled", "dryrun")
    entity = args.entity or target["entity"] or (None if offline else default_entity())
    workspace = build_workspace(runs, group_keys(args.sweep_dir, runs), target, entity or "ENTITY")
    path = args.sweep_dir / SPEC_FILE
    write_atomic(path, json.dumps(spec_of(workspace), indent=1) + "\n")
    print(f"wrote {path}: W&B workspace '{workspace.name}' for group {target['group']}")
    if offline or entity is None:
        command = f"python -m ff_lightning.dashboard {args.sweep_dir} --entity YOUR_ENTITY"
        print(f"publish it with a W&B login: {command} (after `wandb sync` of the runs)")
        return 0
    workspace.save()
    print(f"saved the workspace: {workspace.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
