import json

import pytest
import torch
from torch import nn

from ff_lightning.run.weights import HIST_BINS, main, weight_ratios, weight_stats


def test_weight_stats_match_hand_computed_values():
    layer = nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, -1.0], [3.0, -3.0]]))
    stats = weight_stats([layer])["layer0"]
    assert stats["mean_abs"] == pytest.approx(2.0)
    assert stats["fro_norm"] == pytest.approx(20**0.5)
    assert stats["std"] == pytest.approx(torch.tensor([1.0, -1.0, 3.0, -3.0]).std().item())
    assert sum(stats["hist_counts"]) == 4 and len(stats["hist_counts"]) == HIST_BINS


def test_ratios_and_cli(tmp_path, capsys):
    ff = {"layer0": {"mean_abs": 0.3, "std": 0.5}, "layer1": {"mean_abs": 0.2, "std": 0.4}}
    bp = {"layer0": {"mean_abs": 0.02, "std": 0.025}, "layer1": {"mean_abs": 0.01, "std": 0.04}}
    rows = weight_ratios(ff, bp)
    assert [r["mean_abs_ratio"] for r in rows] == pytest.approx([15.0, 20.0])
    assert [r["std_ratio"] for r in rows] == pytest.approx([20.0, 10.0])
    for name, weights in (("ff", ff), ("bp", bp)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps({"weights": weights}))
    assert main([str(tmp_path / "ff"), str(tmp_path / "bp")]) == 0
    out = capsys.readouterr().out
    assert "| layer0 |" in out and "15.0x" in out and "20.0x" in out


def test_the_cli_refuses_a_folder_without_weights_with_exit_2(tmp_path, capsys):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text("{not json")
    (tmp_path / "none").mkdir()
    for folder, fragment in (("none", "results.json not found"), ("bad", "not a readable results file")):
        assert main([str(tmp_path / folder), str(tmp_path / folder)]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("weights: error: ") and fragment in line
