"""The sweep scripts run as a user runs them, with tiny settings appended."""

import json
import os
import re
import shlex
import subprocess
import sys

import pytest
from hydra import initialize_config_dir
from omegaconf import DictConfig

from ff_lightning.run.jobs import command_line_jobs, compose_job, hydra_choices
from tests.conftest import CONF_DIR, ROOT, TINY_MODEL, data_dir, script_commands

# the tests here start training processes, or the scripts' dry runs
pytestmark = pytest.mark.slow

TINY = [*TINY_MODEL, "trainer.max_epochs=1", "logger=csv"]


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FF_DATA_DIR": str(data_dir()), "WANDB_MODE": "offline"}
    return subprocess.run(
        ["bash", str(ROOT / "multirun_scripts" / name), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def dry_run(script: str, *args: str, **env: str) -> list[list[str]]:
    """The train.py command lines the script would run (its dry run), as argument lists."""
    command = shlex.join([str(ROOT / "multirun_scripts" / script), *args])
    return [shlex.split(line) for line in script_commands(command, **env)]


def test_threshold_ablation_script_sweeps_schedules_and_reports(tmp_path):
    proc = run_script("threshold_ablation.sh", *TINY, "seed=0", f"hydra.sweep.dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = [json.loads(p.read_text()) for p in tmp_path.glob("*/results.json")]
    assert len(runs) == 4  # 4 schedules, one seed
    assert {r["choices"]["threshold"] for r in runs} == {
        "constant",
        "pyramid",
        "inverted_pyramid",
        "scheduled",
    }
    report = (tmp_path / "report.md").read_text()
    assert "4 runs: 4 completed, 0 diverged, 0 failed" in report
    assert "| scheduled |" in report and "| 1 | 0 |" in report
    assert (tmp_path / "error_by_threshold.png").is_file()
    assert "## threshold" in proc.stdout


def test_default_seeds_and_sweep_folder(tmp_path):
    # the command the script would run (FF_SWEEP_DRY_RUN=1): seeds 0-2 by default, a dated folder
    # under FF_SWEEP_ROOT named after the script, the user's overrides last
    (args,) = dry_run("weights_ff_vs_bp.sh", "trainer.max_epochs=1", FF_SWEEP_ROOT=str(tmp_path / "sweeps"))
    assert args[:3] == ["python", "train.py", "-m"] and "seed=0,1,2" in args
    assert args[-1] == "trainer.max_epochs=1" and "model=ff_mlp,backprop_mlp" in args
    (folder,) = [a.removeprefix("hydra.sweep.dir=") for a in args if a.startswith("hydra.sweep.dir=")]
    assert re.fullmatch(rf"{tmp_path}/sweeps/weights_ff_vs_bp/\d{{4}}-\d\d-\d\d_\d\d-\d\d-\d\d", folder)


def composed_jobs(script: str, *args: str, **env: str) -> list[tuple[dict[str, str], DictConfig]]:
    """Every job the script would run (read from its dry run, in its order), composed as Hydra
    composes it: the job's group choices and config."""
    out = []
    for line in dry_run(script, *args, **env):
        jobs, multirun, name = command_line_jobs(line[2:])
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            for num, job in enumerate(jobs):
                cfg = compose_job(name, job, num, multirun)
                out.append((hydra_choices(), cfg))
    return out


def test_best_mnist_script_sweeps_every_trick_in_its_order():
    # the sweep machinery and the report run for real in the threshold and leave-one-out tests;
    # here, what this script sweeps: each trick alone after the paper's setting, best last
    jobs = composed_jobs("best_mnist.sh", "seed=0")
    assert [choices["trick"] for choices, _ in jobs] == [
        "none",
        "hard_negatives",
        "linear_decay",
        "peer_normalisation",
        "symba",
        "every_layer",
        "weight_decay",
        "dropout",
        "input_dropout",
        "jitter",
        "ema",
        "all_labels",
        "best",
    ]
    assert {choices["experiment"] for choices, _ in jobs} == {"paper_mnist"}
    by_trick = {choices["trick"]: cfg for choices, cfg in jobs}
    assert by_trick["none"].model.negatives == "uniform" and by_trick["best"].model.negatives == "hard"
    assert by_trick["ema"].weight_averaging.multi_avg_fn.decay == 0.9997
    assert not by_trick["none"].weight_averaging


def test_reference_recipe_script_puts_each_part_next_to_the_suites_default():
    jobs = composed_jobs("reference_recipe.sh", "model.hidden_dims=[32,32]", "seed=0")
    tricks = [choices["trick"] for choices, _ in jobs]
    assert tricks[:3] == ["none", "peer_normalisation", "reference"]
    assert set(tricks) == {
        "none",
        "peer_normalisation",
        "reference",
        "reference_sgd",
        "reference_loss",
        "straight_through",
        "reference_init",
        "reference_peer",
        "reference_cooldown",
    }
    by_trick = dict(zip(tricks, jobs, strict=True))
    assert by_trick["straight_through"][0]["activation"] == "relu_straight_through"
    # the user's widths win over the script's 3 x 1000
    assert all(list(cfg.model.hidden_dims) == [32, 32] for _, cfg in jobs)


def test_best_mnist_screen_adds_each_part_of_the_recipe_to_best_mnist_on_validation_only():
    jobs = composed_jobs("best_mnist_screen.sh", "model.hidden_dims=[32,32]", "seed=0")
    by_trick = {choices["trick"]: cfg for choices, cfg in jobs}
    assert list(by_trick)[0] == "none" and len(by_trick) == 7
    assert all(choices["experiment"] == "best_mnist" for choices, _ in jobs)
    # the test set untouched, validated every 5 epochs on the last 10k training images
    assert all(not cfg.test and cfg.dataset.val_size == 10000 for cfg in by_trick.values())
    assert all(cfg.trainer.check_val_every_n_epoch == 5 for cfg in by_trick.values())
    # best_mnist's own tricks stay under every added part
    assert all(cfg.model.negatives == "hard" and cfg.model.input_dropout == 0.2 for cfg in by_trick.values())
    assert by_trick["none"].model.init != "reference" and by_trick["reference_init"].model.init == "reference"
    assert by_trick["reference_cooldown"].model.lr_schedule == "linear_cooldown"
    together = by_trick["[reference_init,reference_peer,reference_cooldown]"]
    assert together.model.init == "reference" and together.model.lr_schedule == "linear_cooldown"
    assert together.model.optimizer._target_ == by_trick["none"].model.optimizer._target_


@pytest.mark.slow
def test_a_sweep_run_a_job_at_a_time_goes_on_where_it_stopped(tmp_path):
    # the screen's first job finished before a stop (kept as it is), its second never started
    first = tmp_path / "0"
    first.mkdir()
    kept = json.dumps({"status": "completed", "seed": 0, "choices": {"trick": "none"}})
    (first / "results.json").write_text(kept)
    small = [*TINY, "dataset.val_size=200", "trick=none,reference_init", "seed=0"]
    proc = run_script("best_mnist_screen.sh", *small, f"hydra.sweep.dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (first / "results.json").read_text() == kept and "best_mnist_screen/0:" not in proc.stdout
    second = json.loads((tmp_path / "1" / "results.json").read_text())
    assert second["status"] == "completed" and second["choices"]["trick"] == "reference_init"
    assert (tmp_path / "1" / "checkpoints" / "last.ckpt").is_file()  # what a stop resumes from
    assert (tmp_path / "report.md").is_file()
    # with a launcher that runs jobs side by side (packed on one GPU) it is one Hydra multirun
    (packed,) = dry_run("best_mnist_screen.sh", "hydra/launcher=packed", f"hydra.sweep.dir={tmp_path}")
    assert packed[2] == "-m" and "hydra/launcher=packed" in packed


def test_packed_launcher_under_the_mps_wrapper_runs_the_jobs_n_at_a_time(tmp_path):
    # the one-GPU preset, on the CPU (no MPS here: the wrapper runs the command as it is):
    # 3 jobs through 2 worker processes
    args = ["-m", "hydra/launcher=packed", "hydra.launcher.n_jobs=2", *TINY, "seed=0,1,2"]
    proc = run_script(
        "with_mps.sh", sys.executable, str(ROOT / "train.py"), *args, f"hydra.sweep.dir={tmp_path}"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = sorted(
        (json.loads(p.read_text()) for p in tmp_path.glob("*/results.json")), key=lambda r: r["seed"]
    )
    assert [r["seed"] for r in runs] == [0, 1, 2] and all(r["status"] == "completed" for r in runs)
    assert len({r["pid"] for r in runs}) <= 2


def test_threshold_sensitivity_script_sweeps_k_by_depth_and_pyramid_start_by_end(tmp_path):
    constant, pyramid = dry_run(
        "threshold_sensitivity.sh",
        "model.hidden_dims=[300,300,300,300]",
        "trainer.max_epochs=5",
        f"hydra.sweep.dir={tmp_path}",
    )
    # constant k over three depths at the width the user gave, into its own folder
    assert "threshold.k=0.1,0.25,0.5,1.0,2.0" in constant
    assert "model.hidden_dims=[300,300],[300,300,300],[300,300,300,300]" in constant
    assert "model.hidden_dims=[300,300,300,300]" not in constant
    assert f"hydra.sweep.dir={tmp_path}/constant_k" in constant and "trainer.max_epochs=5" in constant
    # the pyramids at the user's network
    assert "threshold=pyramid" in pyramid and "threshold.end=0.5,1.0,2.0" in pyramid
    assert "model.hidden_dims=[300,300,300,300]" in pyramid
    assert f"hydra.sweep.dir={tmp_path}/pyramid" in pyramid


def test_imdb_script_runs_ff_and_both_baselines_a_job_at_a_time(tmp_path):
    # each model a train.py run of its own in SWEEP_DIR/N, so the same command goes on where it
    # stopped (run_jobs resumes for real in the screen test above)
    lines = dry_run("imdb.sh", "seed=0", f"hydra.sweep.dir={tmp_path}")
    assert [line[2:] for line in lines] == [
        ["experiment=paper_imdb", f"model={model}", "seed=0", f"hydra.run.dir={tmp_path}/{n}"]
        for n, model in enumerate(["ff_mlp", "backprop_mlp", "logreg"])
    ]
    small = [c["experiment"] for c, _ in composed_jobs("imdb.sh", "seed=0", "experiment=smoke")]
    assert small == ["imdb_smoke"] * 3


def test_cnn_vs_mlp_script_puts_the_conv_models_next_to_the_mlps():
    jobs = composed_jobs("cnn_vs_mlp.sh", "seed=0")
    assert [(c["experiment"], c["model"]) for c, _ in jobs] == [
        ("cnn_mnist", "ff_cnn_channelwise"),
        ("cnn_mnist", "backprop_cnn"),
        ("mlp_mnist", "ff_mlp"),
        ("mlp_mnist", "backprop_mlp"),
    ]
    cnn, twin, mlp, _ = (cfg for _, cfg in jobs)
    # the twin has the FF conv network's layers, and both conv and MLP train as long
    assert cnn.model.conv == twin.model.conv and cnn.model.hidden_dims == twin.model.hidden_dims
    assert cnn.trainer.max_epochs == mlp.trainer.max_epochs
    # experiment=smoke shrinks each half with its own smoke experiment
    small = [c["experiment"] for c, _ in composed_jobs("cnn_vs_mlp.sh", "seed=0", "experiment=smoke")]
    assert small == ["cnn_smoke", "cnn_smoke", "smoke", "smoke"]


def test_cnn_vs_mlp_script_compares_the_published_channel_wise_network_on_request():
    jobs = composed_jobs("cnn_vs_mlp.sh", "seed=0", "trainer.max_epochs=20", CNN_EXPERIMENT="cwcomp_mnist")
    assert [(c["experiment"], c["model"]) for c, _ in jobs][:2] == [
        ("cwcomp_mnist", "ff_cnn_channelwise"),
        ("cwcomp_mnist", "backprop_cnn"),
    ]
    ff, twin, mlp, _ = (cfg for _, cfg in jobs)
    assert ff.model.conv == twin.model.conv and twin.model.conv.grouped == [False, True, False, True]
    assert ff.trainer.max_epochs == twin.trainer.max_epochs == mlp.trainer.max_epochs == 20


def test_the_campaign_plans_every_question_and_each_run_passes_the_checks(tmp_path):
    from ff_lightning.run.jobs import check_jobs

    env = {"FF_CAMPAIGN_ROOT": str(tmp_path / "campaign")}
    runs = dry_run("campaign.sh", **env)
    assert len(runs) == 24
    # the headline first, its seeds interleaved so that the runs done so far pair up
    assert [r[-2:] for r in runs[:2]] == [
        ["seed=0", f"hydra.run.dir={tmp_path}/campaign/pyramid_vs_units/pyramid_seed0"],
        ["seed=0", f"hydra.run.dir={tmp_path}/campaign/pyramid_vs_units/units_seed0"],
    ]
    for args in runs:
        assert check_jobs(args[2:], CONF_DIR).count == 1
    # a finished run is skipped, an interrupted one resumed
    (tmp_path / "campaign" / "pyramid_vs_units" / "pyramid_seed0").mkdir(parents=True)
    (tmp_path / "campaign" / "pyramid_vs_units" / "pyramid_seed0" / "results.json").write_text("{}")
    (tmp_path / "campaign" / "pyramid_vs_units" / "units_seed0" / "checkpoints").mkdir(parents=True)
    (tmp_path / "campaign" / "pyramid_vs_units" / "units_seed0" / "checkpoints" / "last.ckpt").write_text("")
    # a run stopped by a signal (results.json says interrupted) resumes too
    stopped = tmp_path / "campaign" / "pyramid_vs_units" / "pyramid_seed1"
    (stopped / "checkpoints").mkdir(parents=True)
    (stopped / "checkpoints" / "last.ckpt").write_text("")
    (stopped / "results.json").write_text(json.dumps({"status": "interrupted"}, indent=2))
    again = dry_run("campaign.sh", "--only", "pyramid_vs_units", **env)
    assert len(again) == 5 and again[0][-1] == "ckpt_path=last" and again[1][-1] == "ckpt_path=last"
    plan = subprocess.run(
        ["bash", str(ROOT / "multirun_scripts" / "campaign.sh"), "--plan"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert plan.returncode == 0 and "23 of 24 runs to do" in plan.stdout and " done " in plan.stdout


def test_the_records_script_reruns_each_documented_sweep_as_its_report_records_it(tmp_path):
    from ff_lightning.run.jobs import check_jobs

    # every sweep as if none had its records yet (the repository's may all be there)
    keep = tmp_path / "kept"
    jobs = dry_run("records.sh", FF_RECORDS_ROOT=str(tmp_path), FF_RECORDS_KEEP=str(keep))
    by_sweep: dict[str, list[list[str]]] = {}
    for args in jobs:
        name, num = args[-1].removeprefix(f"hydra.run.dir={tmp_path}/").split("/")
        assert int(num) == len(by_sweep.setdefault(name, []))  # numbered as Hydra's multirun would
        by_sweep[name].append(args)
    # every sweep of it is a documented folder under docs/results/, with a report there
    for name, sweep in by_sweep.items():
        report = (ROOT / "docs" / "results" / name / "report.md").read_text()
        # as many runs as its report counts, seeds 0-2, each composed and checked as train.py would
        runs = int(report.split(" runs:")[0].rsplit("\n", 1)[-1])
        assert len(sweep) == runs, name
        assert {a for args in sweep for a in args if a.startswith("seed=")} == {"seed=0", "seed=1", "seed=2"}
        for args in sweep:
            assert "callbacks=default" in args  # a checkpoint every epoch, to resume from
            assert check_jobs(args[2:], CONF_DIR).count == 1, name
    # a finished job is skipped, a stopped one resumed from its checkpoint
    name = next(iter(by_sweep))
    done, killed, stopped = (tmp_path / name / str(n) for n in range(3))
    done.mkdir(parents=True)
    (done / "results.json").write_text(json.dumps({"status": "completed"}, indent=2))
    for run in (killed, stopped):
        (run / "checkpoints").mkdir(parents=True)
        (run / "checkpoints" / "last.ckpt").write_text("")
    (stopped / "results.json").write_text(json.dumps({"status": "interrupted"}, indent=2))
    again = dry_run("records.sh", "--only", name, FF_RECORDS_ROOT=str(tmp_path), FF_RECORDS_KEEP=str(keep))
    assert [args[-2:] for args in again[:2]] == [
        [f"hydra.run.dir={killed}", "ckpt_path=last"],
        [f"hydra.run.dir={stopped}", "ckpt_path=last"],
    ]
    assert len(again) == len(by_sweep[name]) - 1 and again[2][-1] == f"hydra.run.dir={tmp_path / name / '3'}"
    plan = subprocess.run(
        ["bash", str(ROOT / "multirun_scripts" / "records.sh"), "--plan"],
        env={**os.environ, "FF_RECORDS_ROOT": str(tmp_path), "FF_RECORDS_KEEP": str(keep)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert plan.returncode == 0 and "epochs to run" in plan.stdout.splitlines()[-1]
