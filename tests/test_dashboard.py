"""python -m ff_lightning.dashboard on a real sweep's offline W&B runs."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, TINY_MODEL, run_train


def collect(spec: object, key: str) -> list:
    """Every value of `key` anywhere in the spec."""
    found = []
    if isinstance(spec, dict):
        for k, v in spec.items():
            if k == key:
                found.append(v)
            found += collect(v, key)
    elif isinstance(spec, list):
        for v in spec:
            found += collect(v, key)
    return found


@pytest.mark.slow
def test_dashboard_spec_for_the_used_by_sweep_offline(tmp_path):
    sweep = tmp_path / "sweeps" / "activations" / "2026-12-01_10-00-00"
    proc = run_train(
        [
            "-m",
            "threshold=pyramid",
            "activation=relu,tanh,sigmoid",
            *TINY_MODEL,
            "trainer.max_epochs=1",
            "callbacks=none",
            "logger=wandb",
            f"hydra.sweep.dir={sweep}",
        ]
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    done = subprocess.run(
        [sys.executable, "-m", "ff_lightning.dashboard", str(sweep)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"WANDB_MODE": "offline", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "publish it with a W&B login" in done.stdout
    spec = json.loads((sweep / "dashboard.json").read_text())
    assert spec["display_name"] == "sweep activations/2026-12-01_10-00-00"
    text = json.dumps(spec)
    # the sweep's training runs only: its group and job type
    assert '"activations/2026-12-01_10-00-00"' in text and '"train"' in text
    # grouped by what was swept (the activation), so that seeds pool
    (grouping,) = collect(spec, "grouping")
    # (W&B's spelling of the nested config key choices.activation)
    assert [g["name"] for g in grouping] == ["choices.value.activation"]
    # validation error over epochs, test error per setting, weights per layer
    plotted = [m for ms in collect(spec, "metrics") if isinstance(ms, list) for m in ms]
    for metric in ("val/error_goodness", "val/error_head", "test/error_goodness", "weights/layer0/mean_abs"):
        assert metric in plotted, metric
    assert "epoch" in collect(spec, "x_axis")


def test_dashboard_needs_runs_that_logged_to_wandb(tmp_path):
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "results.json").write_text(json.dumps({"status": "completed", "wandb": None}))
    done = subprocess.run(
        [sys.executable, "-m", "ff_lightning.dashboard", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("dashboard: error: no run under")
