"""Checkpoints, ckpt_path and resuming: a real run killed with a real signal, then resumed."""

import errno
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ff_lightning.errors import UserInputError
from ff_lightning.run.checkpoints import (
    CONFIG_KEY,
    RNG_KEY,
    AtomicCheckpointIO,
    check_checkpoint,
    newest_readable,
    resolve_ckpt_path,
)
from ff_lightning.run.train import train
from tests.conftest import ROOT, compose_cfg, data_dir, tiny_overrides

# a slice of real MNIST, big enough that an epoch takes about a second on two cores; no
# validation split, which would only add a pass over 5000 images to every epoch
RESUMABLE = [
    "experiment=smoke",
    "dataset.train_subset=3000",
    "dataset.val_size=0",
    "model.hidden_dims=[300,300]",
    "trainer.max_epochs=4",
    "trainer.enable_progress_bar=false",
    "logger=none",
]


def _start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "FF_DATA_DIR": str(data_dir()), "WANDB_MODE": "offline"}
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "train.py"), *args], cwd=ROOT, env=env, stdout=out, stderr=out
        )


def _saved_epoch(path: Path) -> int:
    """The epoch in a checkpoint that may still be being written (-1: none readable yet)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)["epoch"]
    except (OSError, RuntimeError, EOFError, KeyError):
        return -1


def _results(run: Path) -> dict:
    return json.loads((run / "results.json").read_text())


@pytest.mark.slow
def test_killed_run_resumes_to_the_weights_of_an_uninterrupted_run(mnist_dir, tmp_path, monkeypatch):
    reference, killed, resumed = tmp_path / "ref" / "c", tmp_path / "runs" / "a", tmp_path / "runs" / "b"
    proc = _start([*RESUMABLE, f"hydra.run.dir={killed}"], tmp_path / "killed.log")
    deadline = time.monotonic() + 300
    while _saved_epoch(killed / "checkpoints" / "last.ckpt") < 1:  # Lightning counts from 0
        assert proc.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "results.json").exists()
    saved = torch.load(killed / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert saved["epoch"] in (1, 2)  # after epoch 2 (or 3, had the kill come late)
    # every FF layer's Adam state, and the head's, are in the checkpoint
    assert len(saved["optimizer_states"]) == 3 and RNG_KEY in saved and CONFIG_KEY in saved

    done = _start([*RESUMABLE, f"hydra.run.dir={resumed}", "ckpt_path=last"], tmp_path / "run.log")
    assert done.wait(timeout=300) == 0, (tmp_path / "run.log").read_text()[-3000:]
    # the uninterrupted run in this process: a seed gives the same weights on CPU in any process
    monkeypatch.setenv("FF_DATA_DIR", str(mnist_dir))
    train(compose_cfg(RESUMABLE, reference))
    after, uninterrupted = _results(resumed), _results(reference)
    assert after["resumed_from"] == str(killed / "checkpoints" / "last.ckpt")
    assert after["epochs_completed"] == 4
    assert after["weights_sha256_per_rank"] == uninterrupted["weights_sha256_per_rank"]
    assert after["test/error_goodness"] == uninterrupted["test/error_goodness"]
    assert after["test/error_head"] == uninterrupted["test/error_head"]
    # the interrupted run is finished now: `last` no longer points at it
    cfg = compose_cfg(RESUMABLE, tmp_path / "runs" / "d")
    assert resolve_ckpt_path("last", tmp_path / "runs" / "d", cfg) is None


def test_last_only_resumes_a_run_of_the_same_config(tmp_path):
    first = tmp_path / "runs" / "first"
    cfg = compose_cfg(tiny_overrides("trainer.max_epochs=1"), first)
    train(cfg)
    (first / "results.json").unlink()  # as if it had been stopped after its checkpoint
    same = compose_cfg(tiny_overrides("trainer.max_epochs=1"), tmp_path / "runs" / "second")
    assert resolve_ckpt_path("last", tmp_path / "runs" / "second", same) == str(
        first / "checkpoints/last.ckpt"
    )
    other = compose_cfg(tiny_overrides("trainer.max_epochs=1", "seed=9"), tmp_path / "runs" / "third")
    assert resolve_ckpt_path("last", tmp_path / "runs" / "third", other) is None
    # a run folder or a file names its checkpoint directly
    assert resolve_ckpt_path(str(first), tmp_path, other) == str(first / "checkpoints/last.ckpt")
    with pytest.raises(
        UserInputError, match="ckpt_path=/no/such.ckpt: no such checkpoint; give a .ckpt file"
    ):
        resolve_ckpt_path("/no/such.ckpt", tmp_path, other)


def test_best_and_last_checkpoints_are_written_every_epoch(tmp_path):
    train(compose_cfg(tiny_overrides("trainer.max_epochs=3"), tmp_path))
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["best.ckpt", "last.ckpt"]
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["epoch"] == 2 and last[CONFIG_KEY]["seed"] == 0
    # without a validation split there is no "best": only last.ckpt
    train(compose_cfg(tiny_overrides("dataset.val_size=0"), tmp_path / "noval"))
    assert sorted(p.name for p in (tmp_path / "noval" / "checkpoints").iterdir()) == ["last.ckpt"]
    # validated every second epoch, with or without a validation split: last.ckpt still follows
    # every epoch (the epochs between validations are not lost to a stop)
    for val_size in (0, 1000):
        run = tmp_path / f"every2_{val_size}"
        overrides = ("trainer.max_epochs=3", "trainer.check_val_every_n_epoch=2")
        train(compose_cfg(tiny_overrides(*overrides, f"dataset.val_size={val_size}"), run))
        last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
        assert last["epoch"] == 2, val_size  # the third epoch, counted from 0
    train(compose_cfg(tiny_overrides("callbacks=none"), tmp_path / "none"))
    assert not (tmp_path / "none" / "checkpoints").exists()


def test_ckpt_path_last_survives_a_corrupt_results_file_beside_it(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="ff_lightning")
    runs = tmp_path / "runs"
    train(compose_cfg(tiny_overrides(), runs / "a"))
    (runs / "a" / "results.json").write_text("{not json")
    assert train(compose_cfg(tiny_overrides("ckpt_path=last"), runs / "b"))["status"] == "completed"
    assert "not a readable results file" in caplog.text


def test_a_checkpoint_of_another_model_size_is_refused_with_one_line(tmp_path):
    run = tmp_path / "run"
    train(compose_cfg(tiny_overrides("trainer.max_epochs=1"), run))
    other = compose_cfg(tiny_overrides("model.hidden_dims=[16,16]"), tmp_path / "2")
    with pytest.raises(UserInputError) as refused:
        check_checkpoint(str(run), other)
    assert str(refused.value) == (
        f"ckpt_path={run} was saved with model.hidden_dims=[32,32], this run has model.hidden_dims=[16,16]; "
        "resume with the checkpoint's settings, or start afresh without ckpt_path"
    )


def test_a_checkpoint_that_cannot_be_written_whole_leaves_the_last_one_whole(tmp_path, monkeypatch):
    path = tmp_path / "checkpoints" / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"state_dict": {"w": torch.ones(3)}, "epoch": 0}, path)

    def disk_full(obj, f):  # the write runs out of room half way
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError) as failed:
        io.save_checkpoint({"state_dict": {"w": torch.zeros(3)}, "epoch": 1}, path)
    assert failed.value.errno == errno.ENOSPC and failed.value.filename == str(path)
    monkeypatch.undo()
    # the earlier checkpoint whole, no temporary file left
    assert torch.load(path, weights_only=False)["epoch"] == 0
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]


def test_ckpt_path_last_skips_an_unreadable_checkpoint_for_the_newest_readable(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="ff_lightning")
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    torch.save({"state_dict": {}, "epoch": 3}, folder / "best.ckpt")
    (folder / "last.ckpt").write_bytes(b"PK\x03\x04 truncated")
    assert newest_readable(tmp_path) == folder / "best.ckpt"
    assert caplog.text.count("skipping") == 1 and f"skipping {folder / 'last.ckpt'}" in caplog.text
    (folder / "best.ckpt").write_bytes(b"")
    assert newest_readable(tmp_path) is None


def test_a_requeued_slurm_job_goes_on_from_its_interrupted_run(tmp_path, monkeypatch):
    from ff_lightning.run.jobs import check_output_folder

    cfg = compose_cfg(tiny_overrides("trainer.max_epochs=1"), tmp_path)
    train(cfg)
    # as a pre-empted job leaves its folder: SIGTERM recorded, a checkpoint of the epochs done
    (tmp_path / "results.json").write_text(json.dumps({"status": "interrupted", "epochs_completed": 1}))
    with pytest.raises(UserInputError, match="holds an interrupted run; resume it with ckpt_path=last"):
        check_output_folder(cfg)
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    check_output_folder(cfg)
    assert resolve_ckpt_path(None, tmp_path, cfg) == str(tmp_path / "checkpoints" / "last.ckpt")


def test_a_checkpoint_from_before_mnist_declared_its_classes_still_resumes(tmp_path):
    from ff_lightning.run.checkpoints import CONFIG_KEY, check_checkpoint

    mnist = [o for o in tiny_overrides("trainer.max_epochs=1") if o != "dataset=synthetic"]
    cfg = compose_cfg([*mnist, "dataset=mnist", "dataset.train_subset=300", "dataset.val_size=100"], tmp_path)
    train(cfg)
    path = tmp_path / "checkpoints" / "last.ckpt"
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    assert ckpt[CONFIG_KEY]["dataset"].pop("num_classes") == 10  # as written before
    old = tmp_path / "old.ckpt"
    torch.save(ckpt, old)
    assert check_checkpoint(str(old), cfg) == old
