"""python -m ff_lightning.dashboard (its main()); on a real sweep's offline W&B runs in
tests/test_cli.py, after the README's sweep."""

import json
import sys

from ff_lightning.analysis.dashboard import main


def test_dashboard_needs_runs_that_logged_to_wandb(tmp_path, capsys):
    # the spec of a real sweep's runs: tests/test_cli.py, after the README's sweep
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "results.json").write_text(json.dumps({"status": "completed", "wandb": None}))
    assert main([str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().startswith("dashboard: error: no run under")
    assert main([str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.strip() == f"dashboard: error: {tmp_path / 'none'} is not a folder"


def test_without_wandb_workspaces_the_dashboard_says_which_extra_to_install(tmp_path, capsys, monkeypatch):
    (tmp_path / "0").mkdir()
    run = {"status": "completed", "wandb": {"mode": "offline", "group": "g", "name": "n", "id": "x"}}
    (tmp_path / "0" / "results.json").write_text(json.dumps(run))
    (tmp_path / "0" / "config_resolved.yaml").write_text("logger:\n  project: ff-lightning\n")
    # the package missing: Python's import system finds no module of that name
    monkeypatch.setitem(sys.modules, "wandb_workspaces", None)
    assert main([str(tmp_path), "--offline"]) == 2
    assert capsys.readouterr().err.strip() == (
        "dashboard: error: the dashboard needs wandb-workspaces: pip install -e '.[dashboard]'"
    )
