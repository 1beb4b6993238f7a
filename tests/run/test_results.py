import logging

import pytest
import torch

from ff_lightning.run.results import at_chance, chance_error, read_results, write_atomic, write_results


def test_write_atomic_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("old")
    write_atomic(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_results_round_trip_with_non_finite_values_as_null(tmp_path):
    path = tmp_path / "results.json"
    write_results(path, {"loss": float("nan"), "t": torch.tensor(1.5), "xs": (1, 2)})
    assert read_results(path) == {"loss": None, "t": 1.5, "xs": [1, 2]}


@pytest.mark.parametrize("text", ['{"status": "compl', "[1, 2]", "\udcff"])
def test_an_unreadable_results_file_is_skipped_with_one_warning(text, tmp_path, caplog):
    path = tmp_path / "results.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with caplog.at_level(logging.WARNING, logger="ff_lightning"):
        assert read_results(path) is None
    (record,) = caplog.records
    assert record.getMessage().startswith(f"skipping {path}: not a readable results file (")
    assert "\n" not in record.getMessage()


def test_a_missing_file_is_unreadable_too(tmp_path):
    assert read_results(tmp_path / "none.json") is None


def test_chance_error_is_the_error_of_answering_the_commonest_class():
    labels = torch.tensor([0, 1, 1, 1, 2])
    assert chance_error(labels, 3) == pytest.approx(40.0)
    assert chance_error(torch.tensor([0, 1] * 50), 2) == pytest.approx(50.0)


def test_at_chance_allows_three_standard_errors():
    # MNIST's test set: 10k answers, commonest class 11.35 %; 3 standard errors are 0.95 point
    assert at_chance(88.65, 88.65, 10_000)
    assert at_chance(87.8, 88.65, 10_000)
    assert not at_chance(87.6, 88.65, 10_000)
    assert not at_chance(1.2, 88.65, 10_000)
    assert not at_chance(None, 88.65, 10_000)
