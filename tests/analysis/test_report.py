import json
from pathlib import Path

import pytest

from ff_lightning.analysis.report import build_report, main
from ff_lightning.analysis.runs import load_runs, swept_keys
from tests.conftest import ROOT, run_report


def fake_run(folder: Path, status: str, seed: int, threshold: str, error: float | None, model="ff_mlp"):
    folder.mkdir(parents=True)
    (folder / ".hydra").mkdir()
    weights = {
        f"layer{i}": {
            "mean_abs": (0.2 if model == "ff_mlp" else 0.01) * (i + 1),
            "std": 0.3 if model == "ff_mlp" else 0.02,
            "fro_norm": 1.0,
            "hist_range": [-1.0, 1.0],
            "hist_counts": [1, 5, 10, 5, 1],
        }
        for i in range(2)
    }
    results = {
        "status": status,
        "seed": seed,
        "choices": {"threshold": threshold, "model": model, "logger": "csv"},
        "overrides": [f"threshold={threshold}", f"seed={seed}", "experiment=smoke"],
        "test/error_goodness": error,
        "test/error_head": None if error is None else error + 1.0,
        "weights": weights,
    }
    (folder / "results.json").write_text(json.dumps(results))


@pytest.fixture
def sweep(tmp_path) -> Path:
    fake_run(tmp_path / "0", "completed", 0, "constant", 2.0)
    fake_run(tmp_path / "1", "completed", 1, "constant", 4.0)
    fake_run(tmp_path / "2", "completed", 0, "pyramid", 1.5)
    fake_run(tmp_path / "3", "diverged", 1, "pyramid", None)
    (tmp_path / "4" / ".hydra").mkdir(parents=True)  # a job that crashed before writing results
    return tmp_path


def test_swept_keys_ignore_seed_and_fixed_settings(sweep):
    runs = [json.loads(p.read_text()) for p in sweep.glob("*/results.json")]
    assert swept_keys(runs) == ["threshold"]
    # runs kept with and without checkpoints, or logged elsewhere, have not swept that
    for n, run in enumerate(runs):
        run["overrides"] += [
            f"callbacks={('none', 'default')[n % 2]}",
            f"trainer.enable_progress_bar={n % 2}",
        ]
        run["choices"]["logger"] = ("csv", "wandb")[n % 2]
    assert swept_keys(runs) == ["threshold"]


def _trick_runs(tmp_path: Path, pairs: list[tuple[str, str]]) -> list[dict]:
    """Runs of a sweep over `trick`, each with the weight_averaging group it composed to."""
    for job, (trick, averaging) in enumerate(pairs):
        fake_run(tmp_path / str(job), "completed", 0, "constant", 1.0 + job)
        path = tmp_path / str(job) / "results.json"
        run = json.loads(path.read_text())
        run["choices"] |= {"trick": trick, "weight_averaging": averaging}
        run["overrides"].append(f"trick={trick}")
        path.write_text(json.dumps(run))
    return [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*/results.json"))]


def test_a_group_switched_on_by_a_swept_option_gets_no_table_of_its_own(tmp_path):
    # trick=ema overrides the weight_averaging group, so its choice follows the trick
    runs = _trick_runs(tmp_path, [("none", "none"), ("ema", "ema"), ("symba", "none")])
    assert swept_keys(runs) == ["trick"]
    text, _ = build_report(tmp_path)
    assert "## trick" in text and "## weight_averaging" not in text
    # typed on the command line, it is swept in its own right
    for run in runs:
        run["overrides"].append(f"weight_averaging={run['choices']['weight_averaging']}")
    assert swept_keys(runs) == ["trick", "weight_averaging"]


def test_a_sweep_over_lists_of_options_keeps_each_list_as_one_row_in_the_sweeps_order(tmp_path):
    # the leave-one-out sweep: trick=best,[linear_decay,symba],[hard_negatives,symba]
    rows = ["best", "[linear_decay,symba]", "[hard_negatives,symba]"]
    _trick_runs(tmp_path, [(trick, "none") for trick in rows])
    text, _ = build_report(tmp_path)
    table = text[text.index("## trick") :].split("\n## ")[0]
    assert [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")][2:] == rows


def test_a_group_that_does_not_follow_the_swept_option_keeps_its_table(tmp_path):
    runs = _trick_runs(tmp_path, [("none", "none"), ("ema", "ema"), ("none", "ema")])
    assert swept_keys(runs) == ["trick", "weight_averaging"]


def test_report_tables_account_for_every_run(sweep):
    text, figures = build_report(sweep)
    assert "5 runs: 3 completed, 1 diverged, 1 failed (no readable results.json)" in text
    assert "| constant | 3.00 +- 1.41 | 4.00 +- 1.41 | 2 | 0 |" in text
    assert "| pyramid | 1.50 | 2.50 | 2 | 1 |" in text
    assert (sweep / "report.md").read_text() == text
    assert {f.name for f in figures} == {"error_by_threshold.png", "weights.png", "weight_histograms.png"}
    for fig in figures:
        assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rows_follow_the_sweeps_order_not_the_alphabet(tmp_path):
    # Hydra numbers the jobs in the order of the values on the command line
    for job, threshold in enumerate(["pyramid", "scheduled", "constant"] * 4):
        fake_run(tmp_path / str(job), "completed", job // 3, threshold, 1.0 + job)
    text, _ = build_report(tmp_path)
    table = text.split("## threshold\n")[1].split("\n## ")[0]
    rows = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")][2:]
    assert rows == ["pyramid", "scheduled", "constant"]
    # the comparisons are against the sweep's first value
    assert "minus the baseline (threshold=pyramid ff_mlp)" in text
    assert "| pyramid | 5.50 +- 3.87 |" in text  # jobs 0, 3, 6 and 9 (not 10 before 2)


def test_report_compares_ff_with_backprop(tmp_path):
    fake_run(tmp_path / "0", "completed", 0, "constant", 2.0, model="ff_mlp")
    fake_run(tmp_path / "1", "completed", 0, "constant", 2.5, model="backprop_mlp")
    text, figures = build_report(tmp_path)
    assert "ff_mlp against backprop_mlp" in text
    assert "| layer0 | 0.2 | 0.01 | 20.0x | 0.3 | 0.02 | 15.0x |" in text
    assert "weights_ff_vs_bp.png" in {f.name for f in figures}


def test_ff_meets_its_twin_within_each_setting_of_the_other_swept_keys(tmp_path):
    # FF and backprop at two thresholds; the pyramid's FF weights twice as large: one ratio
    # table per threshold, none pooled over both
    for job, (threshold, model) in enumerate(
        [(t, m) for t in ("constant", "pyramid") for m in ("ff_mlp", "backprop_mlp")]
    ):
        fake_run(tmp_path / str(job), "completed", 0, threshold, 2.0, model=model)
        if (threshold, model) == ("pyramid", "ff_mlp"):
            path = tmp_path / str(job) / "results.json"
            run = json.loads(path.read_text())
            for layer in run["weights"].values():
                layer["mean_abs"] *= 2
            path.write_text(json.dumps(run))
    text, _ = build_report(tmp_path)
    constant = text.split("ff_mlp against backprop_mlp at threshold=constant,")[1].split("\n\n", 2)[1]
    pyramid = text.split("ff_mlp against backprop_mlp at threshold=pyramid,")[1].split("\n\n", 2)[1]
    assert "| layer0 | 0.2 | 0.01 | 20.0x |" in constant and "| layer0 | 0.4 | 0.01 | 40.0x |" in pyramid
    assert text.count("ff_mlp against backprop_mlp") == 2


def test_report_compares_each_ff_model_with_its_own_twin(tmp_path):
    # a sweep of conv and MLP models: the conv FF model against the backprop CNN, not the MLP
    for job, model in enumerate(["ff_cnn_channelwise", "backprop_cnn", "ff_mlp", "backprop_mlp"]):
        fake_run(tmp_path / str(job), "completed", 0, "constant", 2.0, model=model)
    text, _ = build_report(tmp_path)
    assert "ff_mlp against backprop_mlp" in text and "ff_cnn_channelwise against backprop_cnn" in text
    assert "ff_cnn against" not in text  # no label-in-image conv runs here


@pytest.mark.slow
def test_report_cli_prints_tables(sweep):
    proc = run_report(sweep)
    assert proc.returncode == 0, proc.stderr
    assert "| pyramid | 1.50 | 2.50 | 2 | 1 |" in proc.stdout
    # progress on stderr: what was read, then a line per figure
    progress = [line for line in proc.stderr.splitlines() if line.startswith("report: ")]
    assert progress[0].startswith("report: read ") and "report: drew error_by_threshold.png" in progress


def test_report_on_an_empty_folder_fails_clearly(tmp_path, capsys):
    # main() is what `python -m ff_lightning.report` runs; the command itself: the test above
    assert main([str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"report: error: no results.json under {tmp_path}\n"


def test_a_value_a_group_option_set_is_read_from_the_runs_resolved_config(tmp_path):
    # job 0 typed model.input_dropout=0.2, job 1 got 0.2 from trick=input_dropout, job 2 has 0.0
    # and the widths, typed by job 0 alone, are the same in all three: no table for them
    jobs = [
        ("none", ["model.input_dropout=0.2", "model.hidden_dims=[8,8]"], 0.2),
        ("input_dropout", [], 0.2),
        ("none", [], 0.0),
    ]
    for job, (trick, typed, value) in enumerate(jobs):
        folder = tmp_path / str(job)
        fake_run(folder, "completed", job, "constant", 1.0 + job)
        run = json.loads((folder / "results.json").read_text())
        run["choices"]["trick"] = trick
        run["overrides"] += [f"trick={trick}", *typed]
        (folder / "results.json").write_text(json.dumps(run))
        resolved = f"model:\n  input_dropout: {value}\n  hidden_dims: [8, 8]\n"
        (folder / "config_resolved.yaml").write_text(resolved)
    text, _ = build_report(tmp_path)
    assert "| 0.2 | 1.50 +- 0.71 | 2.50 +- 0.71 | 2 | 0 |" in text, text
    assert "| 0.0 | 3.00 | 4.00 | 1 | 0 |" in text and "(default)" not in text
    assert "## model.hidden_dims" not in text and "## trick" in text


def _fabricated_run(folder: Path, **values) -> None:
    (folder / ".hydra").mkdir(parents=True)
    results = {"status": "completed", "choices": {"activation": "relu"}, "overrides": [], **values}
    (folder / "results.json").write_text(json.dumps(results))


def test_report_skips_a_corrupt_results_file_and_counts_that_job_as_failed(tmp_path, caplog):
    _fabricated_run(tmp_path / "0", **{"test/error_goodness": 2.0, "test/error_head": 2.5})
    _fabricated_run(tmp_path / "1", **{"test/error_goodness": 3.0, "test/error_head": 3.5})
    (tmp_path / "1" / "results.json").write_text('{"status": "compl')  # a run killed mid-write
    assert main([str(tmp_path), "--no-wandb"]) == 0
    assert f"skipping {tmp_path / '1' / 'results.json'}: not a readable results file" in caplog.text
    report = (tmp_path / "report.md").read_text()
    assert "2 runs: 1 completed" in report and "1 failed" in report


def test_report_keeps_runs_at_chance_out_of_the_means(tmp_path):
    for i, (act, err, chance) in enumerate(
        [("relu", 2.0, False), ("tanh", 89.9, True), ("tanh", 20.0, False)]
    ):
        _fabricated_run(
            tmp_path / str(i),
            choices={"activation": act},
            at_chance={"goodness": chance, "head": False},
            **{"test/error_goodness": err, "test/error_head": 5.0},
        )
    assert main([str(tmp_path), "--no-wandb"]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "| tanh | 20.00 | 5.00 +- 0.00 | 2 | 0 | 1 / 0 |" in report
    assert "0 failed (no readable results.json); 1 completed at chance level in an inference mode" in report


def test_the_reports_wandb_run_joins_the_sweeps_project_entity_and_group(sweep):
    from ff_lightning.analysis.report import wandb_target
    from ff_lightning.analysis.runs import load_runs

    runs, _ = load_runs(sweep)
    assert wandb_target(runs, sweep) is None  # the runs logged to CSV: no W&B run for the report
    first = sweep / "1"
    results = json.loads((first / "results.json").read_text())
    results["wandb"] = {"group": "threshold_ablation/2026-12-01_10-00-00", "mode": "offline"}
    (first / "results.json").write_text(json.dumps(results))
    # logger=many keeps W&B's settings under logger.wandb
    (first / "config_resolved.yaml").write_text("logger:\n  wandb:\n    project: mine\n    entity: lab\n")
    runs, _ = load_runs(sweep)
    assert wandb_target(runs, sweep) == {
        "project": "mine",
        "entity": "lab",
        "group": "threshold_ablation/2026-12-01_10-00-00",
    }


def _grid_run(folder: Path, activation: str, k: str, seed: int, error: float) -> None:
    folder.mkdir(parents=True)
    results = {
        "status": "completed",
        "seed": seed,
        "choices": {"activation": activation, "model": "ff_mlp", "logger": "csv"},
        "overrides": [f"activation={activation}", f"threshold.k={k}", f"seed={seed}", "experiment=smoke"],
        "test/error_goodness": error,
        "test/error_head": error + 1.0,
        "weights": {
            "layer0": {"mean_abs": 0.1 * (1 + seed), "std": 0.2, "hist_range": [-1, 1], "hist_counts": [1, 2]}
        },
    }
    (folder / "results.json").write_text(json.dumps(results))


def test_a_sweep_over_two_settings_gets_a_heatmap_of_their_means(tmp_path):
    from ff_lightning.analysis.figures import heatmap_cells
    from ff_lightning.analysis.runs import run_settings

    job = 0
    for activation in ("relu", "tanh"):
        for k in ("0.5", "1.0", "2.0"):
            for seed in (0, 1):
                # error = 10 x k (+1 for tanh) + seed, so each cell's mean is known
                _grid_run(
                    tmp_path / str(job), activation, k, seed, 10 * float(k) + (activation == "tanh") + seed
                )
                job += 1
    text, figures = build_report(tmp_path)
    runs, _ = load_runs(tmp_path)
    rows, cols, means, counts = heatmap_cells(
        runs, run_settings(runs), "activation", "threshold.k", "test/error_goodness"
    )
    assert rows == ["relu", "tanh"] and cols == ["0.5", "1.0", "2.0"]
    assert means == [[5.5, 10.5, 20.5], [6.5, 11.5, 21.5]] and counts == [[2, 2, 2], [2, 2, 2]]
    heatmap = tmp_path / "heatmap_activation_by_threshold_k.png"
    assert heatmap in figures and heatmap.stat().st_size > 0
    assert "## activation by threshold.k" in text
    # every run shared experiment=smoke: the caption names it, the tables do not repeat it
    assert "experiment=smoke" in text.split("## activation")[0]
    # weights per setting (never averaged over the swept values): one group per (activation, k)
    from ff_lightning.analysis.runs import variants

    groups = variants(runs, run_settings(runs), ["activation", "threshold.k"])
    assert len(groups) == 6 and all(len(g) == 2 for g in groups.values())
    # and each combination's own mean, which the per-setting tables pool, in a table
    combined = text.split("## Each setting")[1].split("\n## ")[0]
    assert "| activation=tanh threshold.k=1.0 ff_mlp | 11.50 +- 0.71 |" in combined


def test_a_baseline_several_settings_hold_is_met_within_each_value_of_the_other(tmp_path):
    # k against theta = units (k=1.0) at each activation: tanh's k=2.0 against tanh's k=1.0
    job = 0
    for activation in ("relu", "tanh"):
        for k in ("1.0", "2.0"):
            for seed in (0, 1, 2):
                error = 10 * float(k) + 5 * (activation == "tanh") + seed / 10
                _grid_run(tmp_path / str(job), activation, k, seed, error)
                job += 1
    # as a user names it: python -m ff_lightning.report SWEEP_DIR --baseline threshold.k=1.0
    assert main([str(tmp_path), "--no-wandb", "--baseline", "threshold.k=1.0"]) == 0
    text = (tmp_path / "report.md").read_text()
    table = text.split("## Against the baseline")[1].split("\n## ")[0]
    assert "minus its baseline (the setting with threshold.k=1.0 and its other settings, one of 2)" in table
    rows = [line for line in table.splitlines() if line.startswith("| activation=")]
    # each k=2.0 setting is 10 points above the k=1.0 one of its own activation, not 15 or 5
    assert rows == [
        "| activation=relu threshold.k=2.0 ff_mlp | activation=relu threshold.k=1.0 ff_mlp | test set "
        "| 3 paired | +10.00 [+10.00, +10.00] | **higher** | +10.00 [+10.00, +10.00] | **higher** |",
        "| activation=tanh threshold.k=2.0 ff_mlp | activation=tanh threshold.k=1.0 ff_mlp | test set "
        "| 3 paired | +10.00 [+10.00, +10.00] | **higher** | +10.00 [+10.00, +10.00] | **higher** |",
    ]


def test_the_report_reads_what_the_sweep_declared_in_multirun_yaml(sweep):
    from ff_lightning.analysis.runs import declared_sweep

    assert declared_sweep(sweep) is None  # no multirun.yaml: the runs' differences decide
    (sweep / "multirun.yaml").write_text(
        "hydra:\n  overrides:\n    task:\n    - threshold=constant,pyramid\n    - seed=0,1\n"
        "    - experiment=smoke\n    - model.optimizer.lr=choice(0.001,0.002)\n"
    )
    assert declared_sweep(sweep) == ["threshold", "model.optimizer.lr"]
    # an Optuna search declares its dimensions as the sweeper's parameters
    (sweep / "multirun.yaml").write_text(
        "hydra:\n  overrides:\n    task:\n    - hparams_search=best_mnist_optuna\n"
        "  sweeper:\n    params:\n      model.symba_alpha: tag(log, interval(0.02, 0.32))\n"
    )
    assert declared_sweep(sweep) == ["model.symba_alpha"]


def test_corruptions_of_each_setting_get_a_table_and_a_figure(sweep):
    def corrupted(job: str, clean: float, noisy: float) -> None:
        cells = {
            "1": {"error_goodness": noisy, "error_head": noisy + 1},
            "3": {"error_goodness": 3 * noisy, "error_head": 0},
        }
        result = {
            "test/error_goodness": clean,
            "test/error_head": clean + 1,
            "corruptions": {"rotate": cells},
        }
        (sweep / job / "corruptions.json").write_text(json.dumps(result))

    corrupted("0", 2.0, 10.0)
    corrupted("1", 4.0, 20.0)
    corrupted("2", 1.5, 5.0)
    text, figures = build_report(sweep)
    section = text[text.index("## Corruptions") :]
    assert (
        "| corruption | threshold=constant ff_mlp (2 runs) | threshold=pyramid ff_mlp (1 runs) |" in section
    )
    # goodness: severities and runs averaged, (10 + 30 + 20 + 60) / 4 and (5 + 15) / 2
    goodness = section[section.index("### goodness") : section.index("### head")]
    assert "| clean | 3.00 | 1.50 |" in goodness and "| rotate | 30.00 | 10.00 |" in goodness
    # each run's own mean over the cases, then mean +- std over runs: (20, 40) and (10)
    assert "| every corruption and severity, mean +- std over runs | 30.00 +- 14.14 | 10.00 |" in goodness
    assert {"corruptions_goodness.png", "corruptions_head.png"} <= {f.name for f in figures}
    assert all(f.is_file() for f in figures)
    # the corrupted test set is compared with the baseline too; one pyramid run: no interval
    against = text[text.index("## Against the baseline") : text.index("## Runs")]
    assert (
        "| threshold=pyramid ff_mlp | corrupted test set, every corruption and severity | 1 | -20.00 "
        in against
    )


def test_no_corruptions_no_section_and_no_warning(sweep, caplog):
    text, _ = build_report(sweep)
    assert "## Corruptions" not in text
    assert "corruptions.json" not in caplog.text


def test_layer_activity_of_each_setting_gets_a_table_and_a_figure(sweep):
    # the fabricated FF runs' last epoch: constant saturates half its units and keeps positives
    # above theta, pyramid saturates none and falls short
    for job, sat, g_pos in (("0", 0.4, 30.0), ("1", 0.6, 50.0), ("2", 0.0, 5.0)):
        g_neg = g_pos / 2
        path = sweep / job / "results.json"
        run = json.loads(path.read_text())
        run["metrics"] = {
            f"train/layer{i}/{key}": value
            for i in range(2)
            for key, value in (
                ("saturated", sat),
                ("goodness_pos", g_pos),
                ("goodness_neg", g_neg),
                ("theta", 20.0),
            )
        }
        path.write_text(json.dumps(run))
    text, figures = build_report(sweep)
    section = text[text.index("## Layer activity") :]
    assert "| threshold=constant ff_mlp | 50.0 % / 2.00 / 1.00 | 50.0 % / 2.00 / 1.00 |" in section
    assert "| threshold=pyramid ff_mlp | 0.0 % / 0.25 / 0.12 | 0.0 % / 0.25 / 0.12 |" in section
    assert (sweep / "activity.png") in figures and (sweep / "activity.png").stat().st_size > 0


def test_runs_without_layer_metrics_get_no_activity_section(sweep):
    text, figures = build_report(sweep)
    assert "## Layer activity" not in text and not (sweep / "activity.png").exists()


def recorded_sweeps() -> list[Path]:
    """The folders under docs/results/ whose report.md comes from run records kept beside it."""
    root = ROOT / "docs" / "results"
    return sorted(
        report.parent.relative_to(ROOT)
        for report in root.rglob("report.md")
        if any(report.parent.rglob("results.json"))
    )


@pytest.mark.parametrize("folder", recorded_sweeps(), ids=str)
def test_a_committed_report_is_what_its_records_give(folder, tmp_path, monkeypatch):
    # as `python -m ff_lightning.report docs/results/NAME` writes it, from the repository's root
    monkeypatch.chdir(ROOT)
    # the text is what is compared: the figures are drawn but not encoded as PNG, which is about
    # half of a report's time (the figures have tests of their own)
    import matplotlib.figure

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda self, *args, **kwargs: None)
    text, _ = build_report(folder, tmp_path)
    assert (ROOT / folder / "report.md").read_text() == text, (
        f"{folder}/report.md differs from what its records give: python -m ff_lightning.report {folder}"
    )


def test_a_setting_at_chance_is_drawn_hatched_at_the_chance_level(tmp_path, monkeypatch):
    import matplotlib.axes

    for seed in range(2):
        fake_run(tmp_path / f"c{seed}", "completed", seed, "constant", 2.0 + seed)
        fake_run(tmp_path / f"t{seed}", "completed", seed, "tanh_at_units", 88.7)
        results = json.loads((tmp_path / f"t{seed}" / "results.json").read_text())
        results.update(chance_error=88.65, at_chance={"goodness": True, "head": True})
        (tmp_path / f"t{seed}" / "results.json").write_text(json.dumps(results))
    hatched = []
    draw = matplotlib.axes.Axes.bar

    def bar(self, *args, **kwargs):
        if kwargs.get("hatch"):
            hatched.append(args[1])
        return draw(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "bar", bar)
    text, _ = build_report(tmp_path)
    # both inference modes of the setting at chance: a hatched bar at 88.65 %, none for the other
    assert hatched == [88.65, 88.65]
    assert "| tanh_at_units | n/a | n/a | 2 | 0 | 2 / 2 |" in text


def test_a_resumed_run_is_the_same_setting_as_one_that_ran_through():
    # ckpt_path=last (and overwrite=true) say how a run was started, not what it ran
    started = [
        ("pyramid", "seed=0"),
        ("pyramid", "seed=1 ckpt_path=last"),
        ("constant", "seed=0 overwrite=true"),
    ]
    runs = [
        {"overrides": [f"threshold={option}", *how.split()], "choices": {"threshold": option}}
        for option, how in started
    ]
    assert swept_keys(runs) == ["threshold"]


def test_every_run_gets_a_row_with_its_own_figures(sweep):
    for i, run in enumerate(sorted(sweep.glob("[0-3]/results.json"))):
        results = json.loads(run.read_text())
        results |= {"epochs_completed": 5, "epoch_seconds": [60.0] * 5, "validation_seconds": [6.0]}
        results["val_history"] = [{"epoch": 5, "val/error_goodness": 1.0 + i, "val/error_head": 2.0 + i}]
        run.write_text(json.dumps(results))
    text, _ = build_report(sweep)
    rows = text[text.index("## Runs") :].split("\n## ")[0]
    assert "| setting | seed | status | validation, epoch 5 (goodness / head, %) |" in rows
    # validation at epoch 5 | at the end | test | epochs | minutes
    constant = "| threshold=constant ff_mlp | 1 | completed | 2.00 / 3.00 | n/a / n/a | 4.00 / 5.00 | 5 | 5.1"
    diverged = "| threshold=pyramid ff_mlp | 1 | diverged | 4.00 / 5.00 | n/a / n/a | n/a / n/a | 5 | 5.1"
    assert constant in rows and diverged in rows


def test_settings_swept_together_get_one_table(tmp_path):
    # the pyramid's start and end are set with it, and only with it: these runs cannot tell them apart
    for i, (threshold, error) in enumerate([("constant", 2.0), ("pyramid", 1.5), ("constant", 3.0)]):
        fake_run(tmp_path / str(i), "completed", i, threshold, error)
        if threshold == "pyramid":
            results = json.loads((tmp_path / str(i) / "results.json").read_text())
            results["overrides"] += ["threshold.start=0.5", "threshold.end=1.0"]
            (tmp_path / str(i) / "results.json").write_text(json.dumps(results))
    text, figures = build_report(tmp_path)
    assert "## threshold.start" not in text and "## threshold.end" not in text and "heatmap" not in text
    assert "| pyramid (threshold.end=1.0 threshold.start=0.5) | 1.50 | 2.50 | 1 | 0 |" in text
    assert "| constant | 2.50 +- 0.71 | 3.50 +- 0.71 | 2 | 0 |" in text
    assert {f.name for f in figures} == {"error_by_threshold.png", "weights.png", "weight_histograms.png"}


def test_a_sweep_without_the_test_set_is_summarised_on_the_validation_split(tmp_path):
    # test=false: a screen judged on the validation split, where a setting may sit at chance
    for i, (threshold, error, chance) in enumerate([("constant", 2.0, False), ("pyramid", 89.0, True)]):
        fake_run(tmp_path / str(i), "completed", 0, threshold, None)
        results = json.loads((tmp_path / str(i) / "results.json").read_text())
        results |= {"val/error_goodness": error, "val/error_head": 3.0, "chance_error": 88.65}
        results["at_chance"] = {"goodness": chance, "head": False}
        (tmp_path / str(i) / "results.json").write_text(json.dumps(results))
    text, _ = build_report(tmp_path)
    assert "No run measured the test set (test=false): the tables give the validation error." in text
    assert "| threshold | validation error, goodness (%) | validation error, head (%) |" in text
    assert "| constant | 2.00 | 3.00 | 1 | 0 | 0 / 0 |" in text
    assert "| pyramid | n/a | 3.00 | 1 | 0 | 1 / 0 |" in text
    assert "1 completed at chance level" in text
    assert "![validation error by threshold](error_by_threshold.png)" in text
