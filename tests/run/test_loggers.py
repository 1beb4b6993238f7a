import json
import signal
from pathlib import Path

import pytest
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from ff_lightning.run.loggers import as_list, logger_list, run_name, sweep_group, swept_keys, wandb_of
from tests.conftest import TINY_MODEL, compose_cfg, run_train
from tests.run.test_checkpoints import _saved_epoch, _start
from tests.run.test_interrupts import _wait_for_checkpoint
from tests.wandb_files import history_by_epoch, records, run_file


def as_multirun(sweep_dir: str) -> None:
    compose_cfg([f"hydra.sweep.dir={sweep_dir}", "hydra.mode=MULTIRUN"])
    assert HydraConfig.get().mode == RunMode.MULTIRUN


@pytest.mark.parametrize(
    ("sweep_dir", "group"),
    [
        # a sweep script's folder: the ablation's name is kept with the time
        ("outputs/sweeps/threshold_ablation/2026-12-01_10-00-00", "threshold_ablation/2026-12-01_10-00-00"),
        # Hydra's default folder: the time alone
        ("outputs/multirun/2026-12-01_10-00-00_123456", "2026-12-01_10-00-00_123456"),
        # a folder the user named
        ("/tmp/lr_sweep", "lr_sweep"),
    ],
)
def test_a_sweeps_group_is_its_name(sweep_dir, group):
    as_multirun(sweep_dir)
    assert sweep_group() == group


def test_a_single_run_has_no_group_unless_a_sweep_script_started_it(monkeypatch):
    compose_cfg(["seed=1"])
    assert sweep_group() is None
    # one job of a sweep that multirun_scripts/_sweep.sh's run_jobs runs a run at a time
    monkeypatch.setenv("FF_SWEEP_DIR", "outputs/sweeps/best_mnist_screen/2026-12-05_08-00-00")
    assert sweep_group() == "best_mnist_screen/2026-12-05_08-00-00"


def test_a_run_is_named_by_its_own_choices():
    compose_cfg(["activation=tanh", "seed=1", "hydra.run.dir=/tmp/x", "logger=wandb", "overwrite=true"])
    assert run_name() == "activation=tanh seed=1"
    compose_cfg([])
    assert run_name() == "defaults"


def test_logger_lists():
    assert as_list(None) == [] and as_list(False) == []
    loggers = logger_list(a="first", b="second")
    assert loggers == ["first", "second"] and wandb_of(loggers) is None


def test_what_a_sweep_varies_comes_first_in_the_run_name(tmp_path):
    # the sweep's command line, as Hydra keeps it in the sweep folder
    (tmp_path / "multirun.yaml").write_text(
        "hydra:\n  overrides:\n    task: [threshold=pyramid, 'activation=relu,tanh', seed=1]\n"
    )
    compose_cfg(
        [
            f"hydra.sweep.dir={tmp_path}",
            "hydra.mode=MULTIRUN",
            "threshold=pyramid",
            "activation=tanh",
            "seed=1",
        ]
    )
    assert swept_keys() == ["activation"]
    assert run_name() == "activation=tanh threshold=pyramid seed=1"


# a W&B run of the tiny model on the synthetic set, offline, read back from its run file
WANDB_TINY = [*TINY_MODEL, "trainer.max_epochs=2", "logger=wandb"]


def _wandb_records(run_dir: Path) -> list:
    return list(records(run_file(run_dir)))


@pytest.mark.slow
def test_wandb_logger_arguments_pass_through_and_metrics_follow_the_epoch_count(tmp_path):
    run = tmp_path / "run"
    args = ["logger.log_model=true", "logger.notes=first try", "logger.id=ffrun01", "+logger.save_code=false"]
    proc = run_train([*WANDB_TINY, *args, f"hydra.run.dir={run}"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((run / "results.json").read_text())
    assert results["wandb"]["id"] == "ffrun01"
    found = _wandb_records(Path(results["wandb"]["run_dir"]))
    (wandb_run,) = [r.run for r in found if r.HasField("run")]
    assert wandb_run.run_id == "ffrun01" and wandb_run.notes == "first try"
    # log_model=true: the checkpoints go to W&B as a model artifact
    artifacts = [r.artifact for r in found if r.HasField("artifact")]
    assert any(a.type == "model" for a in artifacts), [a.type for a in artifacts]

    epochs = history_by_epoch(found)
    # W&B's epoch counts as the console does: 1 after the first epoch, 2 after the second
    assert "epoch 1/2" in (run / "train.log").read_text()
    assert {"val/error_goodness", "train/head_accuracy"} <= set(epochs[1]) and 0 not in epochs
    # accuracies in %, like the errors
    assert 1.0 < float(epochs[2]["train/head_accuracy"]) <= 100.0
    # the test and the final weights at the 2 epochs trained
    assert {"test/error_goodness", "weights/layer0/fro_norm", "weights/layer0/hist/values"} <= set(epochs[2])
    metrics = {r.metric.name: r.metric for r in found if r.HasField("metric") and r.metric.name}
    assert metrics["weights/layer0/fro_norm"].step_metric == "epoch"


def test_an_argument_neither_wandblogger_nor_wandb_init_takes_is_one_line(tmp_path):
    run = tmp_path / "run"
    proc = run_train([*WANDB_TINY, "+logger.log_modle=true", f"hydra.run.dir={run}"])
    assert proc.returncode == 2
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith(
        "train.py: error: logger.log_modle is not an argument of Lightning's WandbLogger or wandb.init; "
        "they take: "
    )
    assert "log_model" in line and not run.exists()


@pytest.mark.slow
def test_a_resumed_run_continues_its_wandb_run(tmp_path):
    run, log = tmp_path / "run", tmp_path / "first.log"
    long = [*TINY_MODEL, "dataset.num_train=4000", "trainer.max_epochs=400", "logger=wandb"]
    proc = _start([*long, f"hydra.run.dir={run}"], log)
    _wait_for_checkpoint(proc, run, log)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 128 + signal.SIGTERM
    (first,) = (run / "wandb").glob("offline-run-*")
    first_id = first.name.rsplit("-", 1)[1]

    # the checkpoint's epochs trained (Lightning saves the 0-based number of the last one)
    saved = _saved_epoch(run / "checkpoints" / "last.ckpt") + 1
    resumed = run_train([*long, f"trainer.max_epochs={saved + 1}", "ckpt_path=last", f"hydra.run.dir={run}"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    results = json.loads((run / "results.json").read_text())
    # the same W&B run goes on, from the epoch after the checkpoint's
    assert results["wandb"]["id"] == first_id
    second = Path(results["wandb"]["run_dir"])
    assert second != first and second.name.endswith(first_id)
    assert min(history_by_epoch(_wandb_records(second))) == saved + 1
    # the sync hint names both parts, in order
    hint = next(line for line in (resumed.stdout + resumed.stderr).splitlines() if "wandb sync" in line)
    assert hint.endswith(f"wandb sync {first} {second}")
