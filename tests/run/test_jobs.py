import subprocess
import sys

import pytest

from ff_lightning.errors import UserInputError
from ff_lightning.run.jobs import check_jobs, command_line_jobs, drop_empty_folder_variables, main
from tests.conftest import CONF_DIR


def test_a_multirun_has_one_job_per_combination_in_hydras_order():
    jobs, multirun, name = command_line_jobs(["-m", "activation=relu,tanh", "seed=0,1", "trick=[jitter,ema]"])
    assert multirun and name == "train"
    assert jobs == [
        ["activation=relu", "seed=0", "trick=[jitter,ema]"],
        ["activation=relu", "seed=1", "trick=[jitter,ema]"],
        ["activation=tanh", "seed=0", "trick=[jitter,ema]"],
        ["activation=tanh", "seed=1", "trick=[jitter,ema]"],
    ]


def test_a_single_run_is_one_job():
    assert command_line_jobs(["seed=3", "experiment=smoke"]) == (
        [["seed=3", "experiment=smoke"]],
        False,
        "train",
    )


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--cfg", "job"], ["-m", "hydra/sweeper=optuna", "seed=0,1"], ["seed=0,1"]],
)
def test_commands_that_run_no_foreseeable_job_are_left_to_hydra(args):
    assert command_line_jobs(args) is None


def test_every_job_is_checked_and_a_bad_one_is_named(tmp_path):
    sweep = [f"hydra.sweep.dir={tmp_path}", "logger=none"]
    assert check_jobs(["-m", "experiment=smoke", "seed=0,1,2", *sweep], CONF_DIR).count == 3
    with pytest.raises(UserInputError) as err:
        check_jobs(["-m", "activation=relu,tanh", "threshold.k=1,0", *sweep], CONF_DIR)
    assert str(err.value) == (
        "job 1 (activation=relu threshold.k=0 logger=none): threshold.k must be a positive number, got 0"
    )


def test_a_finished_job_folder_in_a_sweep_is_found_before_anything_runs(tmp_path):
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "results.json").write_text("{}")
    with pytest.raises(
        UserInputError, match=r"^job 1 \(seed=1 logger=none\): .*1/results.json already exists"
    ):
        check_jobs(["-m", "seed=0,1", "logger=none", f"hydra.sweep.dir={tmp_path}"], CONF_DIR)
    check_jobs(["-m", "seed=0,1", "logger=none", "overwrite=true", f"hydra.sweep.dir={tmp_path}"], CONF_DIR)


def test_empty_folder_variables_are_unset(monkeypatch):
    monkeypatch.setenv("FF_DATA_DIR", "")
    monkeypatch.setenv("FF_CACHE_DIR", "/somewhere")
    drop_empty_folder_variables()
    import os

    assert "FF_DATA_DIR" not in os.environ and os.environ["FF_CACHE_DIR"] == "/somewhere"


def test_the_job_list_has_a_line_per_job_in_hydras_order_and_refuses_what_it_cannot_list(capsys):
    assert main(["-m", "activation=relu,tanh", "model.hidden_dims=[8,8],[4]", "seed=0"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "activation=relu 'model.hidden_dims=[8,8]' seed=0",
        "activation=relu 'model.hidden_dims=[4]' seed=0",
        "activation=tanh 'model.hidden_dims=[8,8]' seed=0",
        "activation=tanh 'model.hidden_dims=[4]' seed=0",
    ]
    assert main(["--cfg", "job"]) == 2
    # as a script calls it
    typed = subprocess.run(
        [sys.executable, "-m", "ff_lightning.run.jobs", "-m", "activation=relu,tanh", "seed=0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert typed.returncode == 0 and typed.stdout.splitlines() == [
        "activation=relu seed=0",
        "activation=tanh seed=0",
    ]
    assert (
        capsys.readouterr().err.strip()
        == "ff_lightning.run.jobs: this command line runs no jobs that can be listed"
    )
