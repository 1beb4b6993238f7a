"""`python train.py ...` run as a user runs it: real processes, real MNIST, real multirun."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ff_lightning.errors import UserInputError
from ff_lightning.run.jobs import check_jobs
from tests.conftest import CONF_DIR, ROOT, TINY_MODEL, run_train
from tests.wandb_files import collect, history_by_epoch, key_of, records, run_file

TINY = [*TINY_MODEL, "trainer.max_epochs=1"]
CORES = os.cpu_count() or 1


def results_under(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*/results.json"))]


def check_console_without_a_terminal(out: str, run: Path) -> None:
    """One line per message and per epoch: the run folder first, then Lightning's messages once
    each, in Hydra's format; no progress bar in a log."""
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[0].endswith(f"run folder: {run}")
    assert sum("GPU available" in line for line in lines) == 1
    assert "💡" not in out and "smaller than the logging interval" not in out
    assert "it/s" not in out and "\r" not in out
    assert [line.split(" - ")[1].split(" |")[0] for line in lines if "] - epoch " in line] == ["epoch 1/1"]
    assert (run / "train.log").read_text().count("GPU available") == 1


@pytest.mark.slow
def test_smoke_experiment_on_real_mnist(mnist_dir, tmp_path):
    # its first of 6 epochs: 10.57 % (goodness) and 7.13 % (head) test error measured for seed 0
    # on a 2-core Intel Xeon; the bound catches a broken pipeline, not a small change in tuning
    args = ["experiment=smoke", "trainer.max_epochs=1", "logger=csv", "trainer.enable_progress_bar=false"]
    proc = run_train([*args, f"hydra.run.dir={tmp_path}"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["status"] == "completed"
    # 60000 training images less the 5000 held out for validation
    assert results["train_samples"] == 55000
    assert results["test/error_goodness"] <= 14.0, results
    assert results["test/error_head"] <= 10.0, results
    assert (tmp_path / "config_resolved.yaml").is_file()
    assert "epoch 1/1 | train/loss" in proc.stdout + proc.stderr
    check_console_without_a_terminal(proc.stdout + proc.stderr, tmp_path)


@pytest.mark.slow
def test_the_readme_sweep_runs_every_job_in_its_own_folder_and_gets_a_dashboard(
    tmp_path, monkeypatch, capsys
):
    from ff_lightning.analysis.dashboard import main as dashboard

    # the README's sweep, on the synthetic set so that the test stays short, by a user whose W&B
    # key cannot log in (here: no network): the sweep logs offline and says so, once
    sweep = tmp_path / "sweeps" / "activations" / "2026-12-01_10-00-00"
    readme = ["-m", "threshold=pyramid", "activation=relu,tanh,sigmoid"]
    env = {"WANDB_MODE": None, "WANDB_API_KEY": "0123456789abcdef0123456789abcdef01234567"}
    proc = run_train(
        [*readme, *TINY, "callbacks=none", "logger=wandb", f"hydra.sweep.dir={sweep}"], cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    assert output.count("W&B: cannot log in") == 1 and "logging offline instead" in output
    results = results_under(sweep)
    assert [r["wandb"]["mode"] for r in results] == ["offline"] * 3
    assert [r["choices"]["activation"] for r in results] == ["relu", "tanh", "sigmoid"]
    assert all(r["choices"]["threshold"] == "pyramid" for r in results)
    # the pyramid's 0.3 to 0.5 times the 32 units of each layer
    assert all(r["thresholds"] == pytest.approx([9.6, 16.0]) for r in results)

    # its W&B dashboard (`python -m ff_lightning.dashboard SWEEP` runs main), offline: the spec
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert dashboard([str(sweep)]) == 0
    assert "publish it with a W&B login" in capsys.readouterr().out
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


@pytest.mark.slow
def test_a_diverging_job_does_not_stop_the_sweep_and_every_job_has_its_wandb_run(tmp_path):
    sweep = tmp_path / "lr_sweep"
    # logger=many: W&B and the CSV logger at once
    lr = "model.optimizer.lr=1e30,0.001"
    proc = run_train(
        ["-m", *TINY, "trainer.max_epochs=2", "logger=many", "seed=3", lr, f"hydra.sweep.dir={sweep}"]
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = results_under(sweep)
    assert [r["status"] for r in results] == ["diverged", "completed"]
    assert (sweep / "1" / "csv" / "metrics.csv").is_file()
    # no warning from wandb about a setting nobody asked for (Lightning passes anonymous=None)
    assert "anonymous setting" not in proc.stderr
    # each job had its own W&B run, in one group named after the sweep folder, and closed it
    assert [r["wandb"]["group"] for r in results] == ["lr_sweep", "lr_sweep"]
    assert results[0]["wandb"]["id"] != results[1]["wandb"]["id"]
    for r in results:
        assert run_file(Path(r["wandb"]["run_dir"])).stat().st_size > 0
    assert (
        proc.stdout.count("upload this run with: wandb sync")
        + proc.stderr.count("upload this run with: wandb sync")
        == 2
    )
    # the multirun ends with a table of its jobs and the command that writes the report
    lines = proc.stdout.strip().splitlines()
    header = max(i for i, line in enumerate(lines) if line.startswith("job "))
    assert lines[header].split() == ["job", "swept", "status", "error", "goodness", "%", "error", "head", "%"]
    assert [line.split()[0] for line in lines[header + 1 : header + 3]] == ["0", "1"]
    assert "diverged" in lines[header + 1] and "completed" in lines[header + 2]
    assert lines[header + 3].startswith("every job: ") and "model.optimizer.lr" not in lines[header + 3]
    assert lines[-1] == f"report: python -m ff_lightning.report {sweep}"

    # the completed job's offline W&B run, read back from its file
    found = list(records(run_file(Path(results[1]["wandb"]["run_dir"]))))
    (run,) = [r.run for r in found if r.HasField("run")]
    # a name from the job's own choices, and the job type that tells runs from reports
    assert run.job_type == "train"
    assert "seed=3" in run.display_name and "hydra" not in run.display_name
    # what the sweep varied comes first
    assert run.display_name.startswith("model.optimizer.lr=0.001 ")
    # every epoch metric is plotted against the epoch, the validation errors summarised by their lowest
    metrics = {r.metric.name: r.metric for r in found if r.HasField("metric") and r.metric.name}
    for key in ("train/loss", "train/layer0/goodness_pos", "val/error_goodness", "val/error_head_best"):
        assert metrics[key].step_metric == "epoch", key
    assert metrics["val/error_goodness"].summary.min and metrics["val/error_head"].summary.min
    assert not metrics["train/loss"].summary.min
    epochs = history_by_epoch(found)
    assert set(epochs) == {1, 2}  # epochs trained, as the console counts them
    # the best so far never rises, and is the lowest of the errors logged up to then
    errors = [float(epochs[e]["val/error_goodness"]) for e in (1, 2)]
    assert [float(epochs[e]["val/error_goodness_best"]) for e in (1, 2)] == [errors[0], min(errors)]
    # the run's config on W&B names the chosen group options, to group and filter runs by
    (config,) = [r.config for r in found if r.HasField("config")]
    items = {key_of(i): i.value_json for i in config.update}
    choices = json.loads(items["choices"])
    assert choices["trick"] == "none" and choices["activation"] == "relu" and choices["logger"] == "many"


# every refusal of the checks train.py makes before anything runs, each one line that names the
# setting and what it allows
BAD_INPUT = [
    (["activation=swish"], "activation=swish is not an option; choose one of: gelu, leaky_relu"),
    (["-m", "threshold=pyramid,steep"], "threshold=steep is not an option; choose one of:"),
    (["trainer.max_epoch=3"], "trainer.max_epoch is not a setting; trainer has: _target_, accelerator"),
    (["model.hidden_dims=[500,-1]"], "every value in model.hidden_dims must be a positive integer"),
    (["model.optimizer.lr=0"], "model.optimizer.lr must be a positive number"),
    (["threshold=custom", "threshold.multipliers=[0.5,1]"], "threshold.multipliers has 2 values"),
    (["dataset=imdb", "dataset.vectors.pooling=max"], "dataset.vectors.pooling=max is not an option"),
    (["dataset=imdb", "dataset.vectors.features=bert"], "dataset.vectors.features=bert is not an option"),
    (
        ["dataset=imdb", "paths.data_dir=/nonexistent/data", "dataset.download=false"],
        "IMDb not found in /nonexistent/data/imdb/",
    ),
    (
        ["model.objective=hinge"],
        "model.objective=hinge is not an option; choose one of: threshold, symba, symba_log",
    ),
    (["trick=tricks"], "trick=tricks is not an option; choose one of: all_labels, best, dropout"),
    (["trick=[jitter,emma]"], "trick=emma is not an option; choose one of: all_labels, best, dropout"),
    (["dataset=synthetic", "trick=jitter"], "(trick=jitter) shifts MNIST images and needs dataset=mnist"),
    (
        ["float32_matmul_precision=tf32"],
        "float32_matmul_precision=tf32 is not an option; choose one of: highest, high, medium",
    ),
    (["weight_averaging=swa"], "weight_averaging=swa is not an option; choose one of: ema, none"),
    (["flush_denormal=maybe"], "flush_denormal must be true or false, got 'maybe'"),
    (["-m", "flush_denormal=true,false"], "flush_denormal=true,false needs a process per job"),
    (["dataset.label_scale=abc"], "dataset.label_scale must be a positive number or null, got 'abc'"),
    (
        ["model.negatives_per_image=10"],
        "model.negatives_per_image must be between 1 and 9 (the wrong labels there are), got 10",
    ),
    (
        ["dataset=imdb", "model.negatives_per_image=2"],
        "model.negatives_per_image must be between 1 and 1",
    ),
    (
        ["weight_averaging=ema", "weight_averaging.multi_avg_fn.decay=1"],
        "weight_averaging.multi_avg_fn.decay must be a number in [0, 1), got 1",
    ),
    (["seed=abc"], "seed must be an integer from 0 to 4294967295, got 'abc'"),
    (["seed=-1"], "seed must be an integer from 0 to 4294967295, got -1"),
    (["model.optimizer.lr=nan"], "model.optimizer.lr must be a positive number, got nan"),
    (["model.optimizer.lr=inf"], "model.optimizer.lr must be a positive number, got inf"),
    (["threshold.k=-1"], "threshold.k must be a positive number, got -1"),
    (["dataset.batch_size=2.5"], "dataset.batch_size must be a positive integer, got 2.5"),
    (["trainer.max_epochs=-1"], "trainer.max_epochs must be a positive integer, got -1"),
    (["model.input_dropout=1"], "model.input_dropout must be a number in [0, 1), got 1"),
    (["threshold=scheduled", "threshold.every=0"], "threshold.every must be a positive integer, got 0"),
    (["dataset=imdb", "dataset.vectors.sg=2"], "dataset.vectors.sg must be an integer from 0 to 1"),
    (["overwrite=yes"], "overwrite must be true or false, got 'yes'"),
    (["model.whole_step=maybe"], "model.whole_step: Value 'maybe' is not a valid bool"),
    # Hydra's override syntax, Lightning's settings and this machine
    (
        ["model.hidden_dims=[1,2"],
        "the override 'model.hidden_dims=[1,2' does not parse: no viable alternative",
    ),
    (["trainer.precision=17"], "trainer.precision=17 is not a precision Lightning knows; allowed: "),
    (
        ["+trainer.max_epoch=3"],
        "trainer.max_epoch is not an argument of lightning.pytorch.Trainer; it takes: ",
    ),
    (
        ["trainer=ddp_cpu", f"trainer.devices={CORES + 1}"],
        f"starts {CORES + 1} CPU processes on {CORES} cores",
    ),
    # 4 x 10^11 weights: more memory than any machine this runs on has
    (["model.hidden_dims=[600000,600000]"], "model.hidden_dims=[600000,600000]: training needs about"),
    (["+model.symba_aplha=2"], "model.symba_aplha is not a setting; model settings are: "),
    # an Optuna search that would train every trial and compare nothing
    (
        ["-m", "hparams_search=best_mnist_optuna", "optimized_metric=val/loss"],
        "optimized_metric=val/loss is not a "
        "metric this run reports; choose one of: val/error_goodness, val/error_head",
    ),
    (
        ["-m", "hparams_search=best_mnist_optuna", "trainer.max_epochs=5"],
        "trainer.check_val_every_n_epoch=10 > trainer.max_epochs=5: a trial would never validate",
    ),
]


@pytest.mark.parametrize(("args", "fragment"), BAD_INPUT)
def test_bad_input_is_refused_with_one_line_before_anything_runs(args, fragment, tmp_path):
    # check_jobs is what train.py runs first, here in this process; as train.py prints a refusal:
    # the next test
    with pytest.raises(UserInputError) as refused:
        check_jobs([*args, "logger=none", f"hydra.run.dir={tmp_path}/run"], CONF_DIR)
    assert fragment in str(refused.value) and "\n" not in str(refused.value)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    # one of each kind: a group option, a sweep, a number, a cross-setting rule, a type, the data
    [
        (args, fragment)
        for args, fragment in BAD_INPUT
        if {
            "activation=swish",
            "threshold=pyramid,steep",
            "model.optimizer.lr=0",
            "threshold.multipliers=[0.5,1]",
            "model.whole_step=maybe",
            "paths.data_dir=/nonexistent/data",
            "model.hidden_dims=[1,2",
            "model.hidden_dims=[600000,600000]",
            "optimized_metric=val/loss",
        }
        & set(args)
    ],
)
def test_bad_input_fails_before_training_with_one_line(args, fragment, tmp_path):
    proc = run_train([*args, "logger=none", f"hydra.run.dir={tmp_path}/run"])
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("train.py: error: ") and fragment in last, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "run" / "results.json").exists()
    assert "Epoch" not in proc.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine with a CUDA GPU runs trainer=gpu")
def test_trainer_gpu_on_a_machine_without_one_is_refused(tmp_path):
    proc = run_train(["trainer=gpu", f"hydra.run.dir={tmp_path}/run"])
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "train.py: error: trainer.accelerator=gpu: no CUDA GPU on this machine; use trainer=cpu or "
        "trainer=default (the GPU where there is one, else the CPU)"
    )
    assert not (tmp_path / "run").exists()


def test_missing_data_is_one_line_that_names_the_folder_and_the_variable(tmp_path):
    proc = run_train(
        [f"paths.data_dir={tmp_path}/none", "dataset.download=false", f"hydra.run.dir={tmp_path}/run"]
    )
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert (
        last.startswith(f"train.py: error: MNIST not found in {tmp_path}/none/mnist/")
        and "FF_DATA_DIR" in last
    )
    assert "Traceback" not in proc.stderr and not (tmp_path / "run").exists()


@pytest.mark.slow
def test_two_runs_started_together_get_two_folders(tmp_path):
    args = [sys.executable, str(ROOT / "train.py"), *TINY, "logger=none", "callbacks=none"]
    env = {**os.environ, "WANDB_MODE": "offline"}
    procs = [subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    runs = sorted((tmp_path / "outputs" / "runs").iterdir())
    assert len(runs) == 2 and all((run / "results.json").is_file() for run in runs)
    pids = {json.loads((run / "results.json").read_text())["pid"] for run in runs}
    assert {run.name.rsplit("_", 1)[1] for run in runs} == {str(pid) for pid in pids}


@pytest.mark.slow
def test_submitit_local_launcher_runs_each_job_in_its_own_process(tmp_path):
    proc = run_train(
        [
            "-m",
            "hydra/launcher=submitit_local",
            *TINY,
            "logger=csv",
            # a sweep that needs a process per job (train.py refuses it under Hydra's own launcher)
            "flush_denormal=true,false",
            f"hydra.sweep.dir={tmp_path}",
        ]
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = results_under(tmp_path)
    assert [r["flush_denormal"] for r in results] == [True, False]
    assert all(r["status"] == "completed" for r in results)
    assert len({r["pid"] for r in results}) == 2
    # submitit kept each job's own log and result
    assert len(list((tmp_path / ".submitit").glob("*/*_0_result.pkl"))) == 2


# -- faults: every job checked first, honest statuses, atomic and tolerant files ----------------


def test_a_sweep_with_one_bad_job_stops_before_any_job_trains(tmp_path):
    sweep = tmp_path / "sweep"
    proc = run_train(
        ["-m", "experiment=smoke", "dataset.batch_size=100,0,50", "logger=none", f"hydra.sweep.dir={sweep}"]
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("train.py: error: job 1 (experiment=smoke dataset.batch_size=0 logger=none): ")
    assert "dataset.batch_size must be a positive integer, got 0" in last
    assert not sweep.exists()  # nothing trained, nothing written
    assert "epoch 1/" not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_online_wandb_with_a_bad_key_is_one_line(tmp_path):
    env = {"WANDB_MODE": "online", "WANDB_API_KEY": "0123456789abcdef0123456789abcdef01234567"}
    proc = run_train([*TINY, "logger=wandb", f"hydra.run.dir={tmp_path}/run"], cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert (
        last.startswith("train.py: error: W&B: online logging was asked for") and "WANDB_MODE=offline" in last
    )
    assert "Traceback" not in proc.stderr and not (tmp_path / "run").exists()


def test_an_empty_data_variable_means_the_default_folder_not_the_working_directory(tmp_path):
    proc = run_train(
        ["dataset.download=false", f"hydra.run.dir={tmp_path}/run"], cwd=tmp_path, env={"FF_DATA_DIR": ""}
    )
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert f"MNIST not found in {tmp_path / 'data'}/mnist/" in last, last


def test_a_corrupt_uncompressed_mnist_file_is_refused_and_leaves_no_run_folder(mnist_gz_folder, tmp_path):
    import gzip

    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        (raw / name).write_bytes(gzip.decompress((mnist_gz_folder / f"{name}.gz").read_bytes()))
    labels = bytearray(gzip.decompress((mnist_gz_folder / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    labels[100] = (labels[100] + 1) % 10  # one test label changed
    (raw / "t10k-labels-idx1-ubyte").write_bytes(bytes(labels))
    run = tmp_path / "run"
    proc = run_train(
        [
            *TINY,
            "dataset=mnist",
            f"paths.data_dir={tmp_path / 'data'}",
            "dataset.download=false",
            f"hydra.run.dir={run}",
        ]
    )
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert "t10k-labels-idx1-ubyte fails its md5 checksum" in last, last
    assert not run.exists()


# the study of the tiny network below: named by its size and budget
STUDY = "best_mnist_optuna_32x32_1ep"


def study_trials(db: Path) -> list[tuple[str, float | None]]:
    import optuna

    study = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{db}")
    return [(t.state.name, t.value) for t in study.trials]


@pytest.mark.slow
def test_an_optuna_study_runs_records_diverged_trials_as_failed_and_resumes(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="the optuna extra is not installed")
    db = tmp_path / "study" / "optuna.db"  # a folder that does not exist yet: train.py makes it
    tiny = [*TINY, "dataset.val_size=200", "trainer.check_val_every_n_epoch=1", "logger=none"]
    search = ["-m", "hparams_search=best_mnist_optuna", *tiny, f"hydra.sweeper.storage=sqlite:///{db}"]
    first = run_train([*search, "hydra.sweeper.n_trials=1", f"hydra.sweep.dir={tmp_path / 'a'}"])
    assert first.returncode == 0, first.stderr[-3000:]
    trials = study_trials(db)
    assert [state for state, _ in trials] == ["COMPLETE"]
    assert all(0 < value <= 100 for _, value in trials)
    # each trial's value is its validation error; the test set was never run
    results = results_under(tmp_path / "a")
    assert [r["val/error_goodness"] for r in results] == [value for _, value in trials]
    assert all(r["test/error_goodness"] is None for r in results)
    # the same command again goes on with the stored study; a diverged trial is failed, never a
    # value (such as 0) for the sampler to prefer, and the study goes on past it
    again = run_train(
        [*search, "hydra.sweeper.n_trials=1", "model.optimizer.lr=1e30", f"hydra.sweep.dir={tmp_path / 'b'}"]
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert study_trials(db)[1] == ("FAIL", None)
    assert results_under(tmp_path / "b")[0]["status"] == "diverged"


@pytest.mark.slow
def test_a_search_on_a_test_metric_is_refused_with_one_line(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="the optuna extra is not installed")
    proc = run_train(
        [
            "-m",
            "hparams_search=best_mnist_optuna",
            "optimized_metric=test/error_goodness",
            f"hydra.sweep.dir={tmp_path}",
        ]
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "train.py: error: job 0 (hparams_search=best_mnist_optuna optimized_metric=test/error_goodness): "
        "optimized_metric=test/error_goodness cannot be searched: a search optimises a validation metric "
        "(val/error_goodness or val/error_head), never the test set's"
    ]
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_a_finished_run_is_written_whole_and_a_rerun_into_its_folder_is_refused(tmp_path):
    run = tmp_path / "run"
    proc = run_train([*TINY, "logger=none", f"hydra.run.dir={run}"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    # its files were written whole, through a rename
    assert json.loads((run / "results.json").read_text())["status"] == "completed"
    assert (run / "config_resolved.yaml").is_file()
    assert not list(run.glob(".*.tmp"))  # no temporary file left beside them

    # the same folder again is refused, and the finished run is left untouched
    before = {p: p.read_bytes() for p in sorted((run / ".hydra").iterdir())}
    proc = run_train([*TINY, "seed=1", "logger=none", f"hydra.run.dir={run}"])
    assert proc.returncode == 2
    assert "results.json already exists" in proc.stderr.strip().splitlines()[-1]
    assert {p: p.read_bytes() for p in sorted((run / ".hydra").iterdir())} == before


def test_help_lists_only_the_options_a_user_can_choose():
    proc = run_train(["--help"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    groups = dict(line.split(": ", 1) for line in proc.stdout.splitlines() if ": " in line and "," in line)
    assert groups["model"] == "backprop_cnn, backprop_mlp, ff_cnn, ff_cnn_channelwise, ff_mlp, logreg"
    assert groups["debug"] == "fast_dev_run, limit, overfit, profiler"
    assert "== Config ==" in proc.stdout and "schema" not in proc.stdout.split("== Config ==")[0]


@pytest.mark.slow
def test_a_default_run_prints_no_wandb_warning_and_one_sync_hint(tmp_path):
    # the default logger (W&B, offline without a login), no WANDB_MODE in the environment
    proc = run_train([*TINY, f"hydra.run.dir={tmp_path}"], env={"WANDB_MODE": None, "WANDB_API_KEY": None})
    assert proc.returncode == 0, proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    assert "wandb: WARNING" not in output, output[-3000:]
    assert output.count("wandb sync ") == 1, output[-3000:]
    # no run summary or history on the console
    assert "Run history" not in output and "Run summary" not in output
