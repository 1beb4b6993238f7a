"""A signal is a failure, recorded: `python train.py` stopped by SIGTERM or SIGINT exits 143 or 130
with results.json saying `interrupted`, and `ckpt_path=last` in the same folder resumes it with
its history whole. While it runs, a second run into its folder is refused."""

import csv
import json
import signal
import time
from pathlib import Path

import lightning.pytorch as L
import pytest
import torch

from tests.conftest import TINY_MODEL, run_train
from tests.run.test_checkpoints import _saved_epoch, _start

# a synthetic-data run long enough to be stopped half way (a fraction of a second an epoch)
LONG = [*TINY_MODEL, "dataset.num_train=4000", "trainer.max_epochs=400", "logger=csv"]


def _wait_for_checkpoint(proc, run: Path, log: Path, epoch: int = 1) -> None:
    deadline = time.monotonic() + 300
    while _saved_epoch(run / "checkpoints" / "last.ckpt") < epoch:  # Lightning counts from 0
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _resume(args: list[str], run: Path) -> tuple:
    """ckpt_path=last in the stopped run's folder, for two epochs more than its checkpoint's: the
    checkpoint's epochs, the new total, the process and its results.json, checked completed."""
    saved = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["epoch"] + 1
    total = saved + 2
    resumed = run_train([*args, f"trainer.max_epochs={total}", "ckpt_path=last", f"hydra.run.dir={run}"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    results = json.loads((run / "results.json").read_text())
    assert results["status"] == "completed" and results["epochs_completed"] == total
    return saved, total, resumed, results


@pytest.mark.slow
def test_sigterm_is_recorded_and_the_run_resumes_with_its_history(tmp_path):
    run, log = tmp_path / "run", tmp_path / "first.log"
    proc = _start([*LONG, f"hydra.run.dir={run}"], log)
    _wait_for_checkpoint(proc, run, log)

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 128 + signal.SIGTERM, log.read_text()[-3000:]
    stopped = json.loads((run / "results.json").read_text())
    assert stopped["status"] == "interrupted" and stopped["signal"] == "SIGTERM" and stopped["seed"] == 0
    done = stopped["epochs_completed"]
    assert done >= 2 and len(stopped["epoch_seconds"]) >= done
    assert "stopped by SIGTERM" in log.read_text().strip().splitlines()[-1]

    # ckpt_path=last resumes it (a second run into the folder while it trains, or a fresh start
    # over it once stopped, is refused: tests/run/test_run_folder.py, test_checkpoints.py)
    saved, total, resumed, results = _resume(LONG, run)
    assert results["resumed_from"] == str(run / "checkpoints" / "last.ckpt")
    # one entry per epoch of the whole run, and metrics.csv still holds the epochs before the stop
    assert len(results["epoch_seconds"]) == total
    with open(run / "csv" / "metrics.csv", newline="") as f:
        epochs = sorted({int(row["epoch"]) for row in csv.DictReader(f) if row.get("val/error_goodness")})
    assert epochs == list(range(total))


class FailsWhileStopping(L.Callback):
    """Raises from Lightning's on_exception hook, as a logger or callback may while the run stops."""

    def on_exception(self, trainer: L.Trainer, module: L.LightningModule, exception: BaseException) -> None:
        raise RuntimeError("failed while stopping")


@pytest.mark.slow
def test_ctrl_c_exits_130_and_is_recorded_even_when_lightning_fails_while_stopping(tmp_path):
    # two runs side by side: a plain one, and one whose on_exception hook raises after the signal
    fails = f"+callbacks.fails._target_={__name__}.FailsWhileStopping"
    started = {}
    for name, extra in (("plain", []), ("fails", [fails])):
        run, log = tmp_path / name, tmp_path / f"{name}.log"
        started[name] = (_start([*LONG, *extra, f"hydra.run.dir={run}"], log), run, log)
    for proc, run, log in started.values():
        _wait_for_checkpoint(proc, run, log, epoch=0)
        proc.send_signal(signal.SIGINT)
    for proc, run, log in started.values():
        assert proc.wait(timeout=120) == 128 + signal.SIGINT, log.read_text()[-3000:]
        results = json.loads((run / "results.json").read_text())
        assert results["status"] == "interrupted" and results["signal"] == "SIGINT"
        assert "Traceback" not in log.read_text()
    assert "while stopping on SIGINT: RuntimeError: failed while stopping" in started["fails"][2].read_text()


@pytest.mark.slow
def test_a_resume_of_a_run_validated_every_second_epoch_keeps_one_time_per_epoch(tmp_path):
    # validation every 2 epochs: last.ckpt is written at each epoch's end (after its validation,
    # if it has one), and a resume from it starts at that epoch's end, which this process never
    # timed
    run, log = tmp_path / "run", tmp_path / "first.log"
    every2 = [*LONG, "trainer.check_val_every_n_epoch=2"]
    proc = _start([*every2, f"hydra.run.dir={run}"], log)
    _wait_for_checkpoint(proc, run, log, epoch=3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 128 + signal.SIGTERM, log.read_text()[-3000:]
    saved, total, resumed, results = _resume(every2, run)
    # one training time per epoch, each an epoch's (a fraction of a second here), none spanning
    # the process's life
    assert len(results["epoch_seconds"]) == total and max(results["epoch_seconds"]) < 30
    assert [e["epoch"] for e in results["val_history"]] == list(range(2, total + 1, 2))
    # no summary line for the epoch the checkpoint had finished
    assert f"epoch {saved}/{total} |" not in resumed.stdout + resumed.stderr
