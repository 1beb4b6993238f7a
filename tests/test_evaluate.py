"""python -m ff_lightning.evaluate CHECKPOINT, on checkpoints written by real runs."""

import json
import subprocess
import sys

import pytest

from ff_lightning.evaluate import evaluate
from ff_lightning.train import train
from tests.conftest import ROOT, compose_cfg, tiny_overrides


def test_evaluation_repeats_the_runs_test_errors_and_splits_them_by_class(tmp_path):
    results = train(compose_cfg(tiny_overrides("trainer.max_epochs=3"), tmp_path))
    out = evaluate(tmp_path / "checkpoints" / "last.ckpt")
    # the run's figures went through float32 metrics
    assert out["test/error_goodness"] == pytest.approx(results["test/error_goodness"], abs=1e-4)
    assert out["test/error_head"] == pytest.approx(results["test/error_head"], abs=1e-4)
    assert out["epoch"] == 2 and out["model"] == "FFModule" and out["test_samples"] == 500
    for mode in ("goodness", "head"):
        per_class = out["per_class"][mode]
        assert sorted(per_class, key=int) == [str(c) for c in range(10)]
        assert all(0.0 <= e <= 100.0 for e in per_class.values())


def test_backprop_checkpoint_evaluates_too(tmp_path):
    bp = ["dataset=synthetic", "model=backprop_mlp", "model.hidden_dims=[32,32]", "trainer.max_epochs=2"]
    cfg = compose_cfg(
        [*bp, "trainer.accelerator=cpu", "trainer.enable_progress_bar=false", "logger=none"], tmp_path
    )
    results = train(cfg)
    out = evaluate(tmp_path / "checkpoints" / "best.ckpt")
    assert out["model"] == "BPModule"
    assert out["test/error_goodness"] == out["test/error_head"]
    assert 0.0 <= out["test/error_head"] <= 100.0
    assert results["status"] == "completed"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ff_lightning.evaluate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_command_line_prints_a_table_or_json_and_rejects_bad_files(tmp_path):
    results = train(compose_cfg(tiny_overrides(), tmp_path))
    ckpt = str(tmp_path / "checkpoints" / "last.ckpt")
    table = _cli(ckpt)
    assert table.returncode == 0, table.stderr[-2000:]
    assert f"test error: goodness {results['test/error_goodness']:.2f} %" in table.stdout
    assert len(table.stdout.strip().splitlines()) == 3 + 10  # header lines + one per class
    as_json = json.loads(_cli(ckpt, "--json").stdout)
    assert as_json["test/error_head"] == pytest.approx(results["test/error_head"], abs=1e-4)

    (tmp_path / "junk.ckpt").write_text("not a checkpoint")
    for bad, fragment in (
        (tmp_path / "none.ckpt", "no such checkpoint file"),
        (tmp_path / "junk.ckpt", "not a readable checkpoint"),
    ):
        proc = _cli(str(bad))
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert line.startswith(f"evaluate: error: {bad}: ")
        assert fragment in proc.stderr
