"""A sweep's records kept beside its report: the small files only, nothing replaced unasked."""

import json

from ff_lightning.analysis.records import keep, main


def fake_sweep(root):
    for job in ("0", "1"):
        run = root / job
        (run / ".hydra").mkdir(parents=True)
        (run / "checkpoints").mkdir()
        (run / "results.json").write_text(json.dumps({"status": "completed", "seed": int(job)}))
        (run / "config_resolved.yaml").write_text(f"seed: {job}\n")
        (run / ".hydra" / "overrides.yaml").write_text(f"- seed={job}\n")
        (run / ".hydra" / "config.yaml").write_text("big: true\n")
        (run / "checkpoints" / "last.ckpt").write_bytes(b"\0" * 1000)
    (root / "0" / "corruptions.json").write_text("{}")  # run 0 was tested on corrupted images
    (root / "multirun.yaml").write_text("hydra: {}\n")


def test_only_what_the_report_reads_is_kept(tmp_path, capsys):
    fake_sweep(tmp_path / "sweep")
    dest = tmp_path / "docs" / "results" / "name"
    assert main([str(tmp_path / "sweep"), str(dest)]) == 0
    kept = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert kept == [
        "0/.hydra/overrides.yaml",
        "0/config_resolved.yaml",
        "0/corruptions.json",
        "0/results.json",
        "1/.hydra/overrides.yaml",
        "1/config_resolved.yaml",
        "1/results.json",
        "multirun.yaml",
    ]
    assert "kept 2 run(s)" in capsys.readouterr().out
    # a second time: refused, unless asked to replace
    assert main([str(tmp_path / "sweep"), str(dest)]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert len(keep(tmp_path / "sweep", dest, overwrite=True)) == 2
    assert main([str(tmp_path / "none"), str(dest)]) == 2
