"""python -m ff_lightning.evaluate CHECKPOINT, on checkpoints written by real runs."""

import json
import subprocess
import sys

import pytest
import torch

from ff_lightning.errors import UserInputError
from ff_lightning.run.evaluate import evaluate, main
from ff_lightning.run.train import train
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
        [sys.executable, "-m", "ff_lightning.run.evaluate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("model", ["ff_mlp", "backprop_mlp", "logreg"])
def test_every_model_type_is_tested_on_corrupted_images_the_same_for_a_seed(model, tmp_path):
    # the synthetic set's 64 features are 8 x 8 images
    overrides = tiny_overrides(f"model={model}", "trainer.max_epochs=1")
    if model != "ff_mlp":  # the backprop models have no FF settings, logreg no hidden layers
        drop = (
            ("model.goodness_from_layer", "model.hidden_dims") if model == "logreg" else ("model.goodness",)
        )
        overrides = [o for o in overrides if not o.startswith(drop)]
    train(compose_cfg(overrides, tmp_path))
    ckpt = tmp_path / "checkpoints" / "last.ckpt"
    out = evaluate(ckpt, corruptions=["rotate", "gaussian_noise"], severities=(1, 3))
    assert list(out["corruptions"]) == ["rotate", "gaussian_noise"]
    assert all(list(by_severity) == ["1", "3"] for by_severity in out["corruptions"].values())
    cells = [c for by_severity in out["corruptions"].values() for c in by_severity.values()]
    assert all(0.0 <= c[f"error_{m}"] <= 100.0 for c in cells for m in ("goodness", "head"))
    assert out["corrupted/error_head"] == pytest.approx(sum(c["error_head"] for c in cells) / 4)
    # rotating 8 x 8 'images' whose features are not a picture scrambles them: more errors
    assert out["corruptions"]["rotate"]["3"]["error_head"] > out["test/error_head"]
    again = evaluate(ckpt, corruptions=["rotate", "gaussian_noise"], severities=(1, 3))
    assert again["corruptions"] == out["corruptions"]
    other_seed = evaluate(ckpt, corruptions=["gaussian_noise"], severities=(3,), seed=1)
    assert other_seed["corruption_seed"] == 1


def test_corruptions_need_square_images(tmp_path):
    train(compose_cfg(tiny_overrides("dataset.input_dim=50", "trainer.max_epochs=1"), tmp_path))
    with pytest.raises(
        UserInputError, match=r"--corruptions changes square images \(MNIST\); .* 50 features"
    ):
        evaluate(tmp_path / "checkpoints" / "last.ckpt", corruptions=["rotate"])


@pytest.mark.slow
def test_command_line_prints_a_table_or_json_writes_corruptions_and_rejects_bad_input(tmp_path, capsys):
    results = train(compose_cfg(tiny_overrides(), tmp_path))
    ckpt = str(tmp_path / "checkpoints" / "last.ckpt")
    # the table, through main() in this process (what `python -m ff_lightning.evaluate` runs);
    # a run folder stands for its last checkpoint, as with train.py's ckpt_path
    assert main([str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert f"test error: goodness {results['test/error_goodness']:.2f} %" in table
    assert len(table.strip().splitlines()) == 3 + 10  # header lines + one per class
    # JSON and corruptions, from a process of its own as a user runs it
    out = tmp_path / "corruptions.json"
    proc = _cli(ckpt, "--json", "--corruptions", "shift,contrast", "--severities", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    as_json = json.loads(proc.stdout)
    assert as_json["test/error_head"] == pytest.approx(results["test/error_head"], abs=1e-4)
    assert list(as_json["corruptions"]) == ["shift", "contrast"] and json.loads(out.read_text()) == as_json
    # progress on stderr, a line per corruption and severity
    progress = [line for line in proc.stderr.splitlines() if line.startswith("evaluate: [")]
    assert [line.split(":")[1].strip() for line in progress] == [
        "[1/2] shift severity 2",
        "[2/2] contrast severity 2",
    ]

    # the refusals, through main() in this process: each one line on stderr, exit code 2
    (tmp_path / "junk.ckpt").write_text("not a checkpoint")
    (tmp_path / "empty").mkdir()  # a run folder without checkpoints
    for args, fragment in (
        ([str(tmp_path / "none.ckpt")], f"{tmp_path / 'none.ckpt'}: no such checkpoint file"),
        ([str(tmp_path / "junk.ckpt")], f"{tmp_path / 'junk.ckpt'}: not a readable checkpoint"),
        (
            [ckpt, "--corruptions", "--out", str(out)],
            "already exists; choose another --out or pass --overwrite",
        ),
        (
            [str(tmp_path / "empty")],
            f"{tmp_path / 'empty' / 'checkpoints' / 'last.ckpt'}: no such checkpoint",
        ),
    ):
        assert main(args) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("evaluate: error: ") and fragment in line
    assert json.loads(out.read_text()) == as_json


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_a_cuda_device_without_cuda_is_refused(capsys):
    assert main(["x.ckpt", "--device", "cuda"]) == 2
    assert (
        capsys.readouterr().err
        == "evaluate: error: --device cuda: no CUDA GPU on this machine; use --device cpu\n"
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--corruptions", "fog"], "'fog' is not a corruption; choose all or some of: gaussian_noise"),
        (["--corruptions", "--severities", "4"], "'4': give some of 1, 2, 3"),
    ],
)
def test_bad_corruption_options_are_refused_by_the_parser(args, fragment, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["x.ckpt", *args])
    assert exit_.value.code == 2 and fragment in capsys.readouterr().err


def test_a_checkpoint_naming_modules_where_they_lived_before_the_subpackages_still_loads(tmp_path):
    from ff_lightning.run.checkpoints import CONFIG_KEY, check_checkpoint

    cfg = compose_cfg(tiny_overrides("trainer.max_epochs=1"), tmp_path)
    results = train(cfg)
    path = tmp_path / "checkpoints" / "last.ckpt"
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    stored = ckpt[CONFIG_KEY]
    assert stored["model"]["_target_"] == "ff_lightning.models.ff.FFModule"
    # as a run before the split wrote it
    stored["model"]["_target_"] = "ff_lightning.module.FFModule"
    stored["threshold"]["_target_"] = "ff_lightning.thresholds.constant"
    old = tmp_path / "old.ckpt"
    torch.save(ckpt, old)
    assert check_checkpoint(str(old), cfg) == old  # the same model: resumable
    out = evaluate(old)
    assert out["model"] == "FFModule"
    assert out["test/error_head"] == pytest.approx(results["test/error_head"], abs=1e-4)
