"""One run folder, one run: the folder's lock, its checks before Hydra writes (a file, a
read-only or full disk), and overwrite=true clearing the earlier run's files. Through
`python train.py` where the process boundary is what is tested."""

import json
import subprocess

import pytest

from ff_lightning.errors import UserInputError
from ff_lightning.run.jobs import check_jobs
from ff_lightning.run.run_folder import check_usable, lock
from tests.conftest import CONF_DIR, TINY_MODEL, run_train

TINY = [*TINY_MODEL, "trainer.max_epochs=1", "logger=none"]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs (root can mount one); the test is skipped where none can be mounted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_refused_before_training_with_one_line(tiny_disk):
    run = tiny_disk / "run"
    proc = run_train(["experiment=smoke", "logger=none", f"hydra.run.dir={run}"])
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines() == [
        f"train.py: error: hydra.run.dir={run}: 0.2 MiB free on its disk, the run's checkpoints need about "
        "22.4 MiB; free some space or choose another hydra.run.dir"
    ]
    # nothing made, nothing trained
    assert list(tiny_disk.iterdir()) == []


def test_a_read_only_folder_is_refused_before_training(tiny_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    proc = run_train([*TINY, "callbacks=none", f"hydra.run.dir={tiny_disk}/run"])
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"train.py: error: hydra.run.dir={tiny_disk}/run: cannot write there (Read-only file system)"
    )


def test_a_run_folder_that_is_a_file_or_empty_is_refused(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    for folder, message in [
        (afile, f"hydra.run.dir={afile}: a file is there, not a folder"),
        (afile / "run", f"hydra.run.dir={afile / 'run'}: {afile} on its path is a file"),
    ]:
        with pytest.raises(UserInputError, match="^" + message):
            check_usable(folder)
    assert afile.read_text() == "mine"
    with pytest.raises(UserInputError, match="^hydra.run.dir is empty; name a folder"):
        check_jobs([*TINY, "hydra.run.dir="], CONF_DIR)
    with pytest.raises(UserInputError, match=r"^job 0 \(.*\): hydra.sweep.dir is empty"):
        check_jobs(["-m", *TINY, "seed=0,1", "hydra.sweep.dir="], CONF_DIR)


def test_a_locked_folder_is_refused_to_a_second_process(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    lock(folder)  # this process holds it, as a running train.py does
    proc = run_train([*TINY, f"hydra.run.dir={folder}"])
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"train.py: error: {folder} is in use by another run (it holds the folder's lock); wait for it to "
        "end or choose another folder for the run"
    )
    assert list(folder.iterdir()) == []


@pytest.mark.slow
def test_overwrite_removes_the_earlier_runs_checkpoints_and_logs(tmp_path):
    run = tmp_path / "run"
    first = run_train([*TINY, "logger=csv", f"hydra.run.dir={run}"])
    assert first.returncode == 0, first.stderr[-2000:]
    assert (run / "checkpoints" / "best.ckpt").is_file() and (run / "csv" / "metrics.csv").is_file()
    # without overwrite=true the second run is refused (tests/test_cli.py)
    second = run_train([*TINY, "seed=1", "callbacks=none", "overwrite=true", f"hydra.run.dir={run}"])
    assert second.returncode == 0, second.stderr[-2000:]
    # nothing of the seed-0 run is left beside the seed-1 run's results
    assert not (run / "checkpoints").exists() and not (run / "csv").exists()
    assert json.loads((run / "results.json").read_text())["seed"] == 1
    assert (
        "overwrite=true: removed the earlier run's checkpoints, csv, results.json"
        in second.stdout + second.stderr
    )
