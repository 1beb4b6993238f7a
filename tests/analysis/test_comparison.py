"""Differences over seeds with their 95 % intervals, checked against scipy's own t tests."""

import pytest
from scipy import stats

from ff_lightning.analysis.comparison import compare, comparison_table, paired, welch


def test_the_paired_interval_is_scipys():
    setting, baseline = {0: 3.1, 1: 2.7, 2: 3.4}, {0: 3.0, 1: 2.2, 2: 2.6}
    diff = paired(setting, baseline)
    reference = stats.ttest_rel(list(setting.values()), list(baseline.values())).confidence_interval(0.95)
    assert diff.mean == pytest.approx(0.4666666)
    assert (diff.low, diff.high) == pytest.approx((reference.low, reference.high))
    assert diff.paired and diff.n == 3 and diff.verdict == "undecided"


def test_welchs_interval_is_scipys():
    a, b = [1.2, 1.4, 1.3, 1.5], [2.0, 2.4, 2.1]
    diff = welch(a, b)
    reference = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (diff.low, diff.high) == pytest.approx((reference.low, reference.high))
    assert diff.verdict == "lower" and welch(b, a).verdict == "higher"


def test_no_interval_from_one_seed_and_pairing_only_where_seeds_are_shared():
    one = compare({0: 1.0}, {0: 2.0})
    assert one.low is None and one.verdict == "undecided" and one.shown() == "-1.00 (one seed: no interval)"
    # seeds 0-1 shared: paired; disjoint seeds: Welch
    assert compare({0: 1.0, 1: 1.1}, {0: 2.0, 1: 2.2, 2: 2.1}).paired
    assert not compare({0: 1.0, 1: 1.1}, {5: 2.0, 6: 2.2}).paired


def test_the_table_gives_a_verdict_per_budget_and_mode():
    def run(seed, at5, at20, end, test):
        history = [
            {"epoch": 5, "val/error_goodness": at5, "val/error_head": at5},
            {"epoch": 20, "val/error_goodness": at20, "val/error_head": at20},
        ]
        return {
            "seed": seed,
            "val_history": history,
            "val/error_goodness": end,
            "val/error_head": end,
            "test/error_goodness": test,
            "test/error_head": test,
        }

    groups = {
        "threshold=constant": [run(s, 5.0 + s / 10, 3.0 + s / 10, 2.0 + s / 10, 2.1) for s in range(3)],
        "threshold=pyramid": [run(s, 4.0 + s / 9, 3.5 + s / 9, 2.0 + s / 11, 2.1) for s in range(3)],
    }
    table = comparison_table(groups, "threshold=constant").splitlines()
    assert len(table) == 2 + 4  # header, then epoch 5, epoch 20, the end, the test set
    at5, at20, end, test = table[2:]
    assert "validation, epoch 5 | 3 paired" in at5 and at5.count("**lower**") == 2
    assert "validation, epoch 20" in at20 and at20.count("**higher**") == 2
    assert "validation, end" in end and "test set" in test and "undecided" in end


def test_a_measure_no_run_has_gets_no_row():
    # runs without a validation split (paper_mnist's setting) are compared on the test set only
    def run(seed, test):
        return {"seed": seed, "test/error_goodness": test, "test/error_head": test}

    groups = {
        "model=ff_mlp": [run(s, 14.0 + s) for s in range(3)],
        "model=logreg": [run(s, 14.5) for s in range(3)],
    }
    table = comparison_table(groups, "model=ff_mlp").splitlines()
    assert len(table) == 3 and "| model=logreg | test set | 3 paired |" in table[2]


def test_the_corrupted_test_set_gets_its_own_row():
    # robustness is compared as the clean test set is: paired by seed, with its interval
    def run(seed, test, corrupted=None):
        out = {"seed": seed, "test/error_goodness": test, "test/error_head": test}
        if corrupted is not None:
            out |= {"corrupted/error_goodness": corrupted, "corrupted/error_head": corrupted + 1}
        return out

    groups = {
        "model=ff_cnn": [run(s, 1.0 + s / 10, 40.0 + s) for s in range(3)],
        "model=backprop_cnn": [run(s, 1.0 + s / 9, 20.0 + s / 2) for s in range(3)],
    }
    table = comparison_table(groups, "model=ff_cnn").splitlines()
    test, corrupted = table[2:]
    assert "| model=backprop_cnn | test set | 3 paired |" in test
    every = "corrupted test set, every corruption and severity"
    assert f"| model=backprop_cnn | {every} | 3 paired |" in corrupted
    assert corrupted.count("**lower**") == 2
    # without corrupted runs there is no such row
    for runs in groups.values():
        for r in runs:
            del r["corrupted/error_goodness"], r["corrupted/error_head"]
    assert len(comparison_table(groups, "model=ff_cnn").splitlines()) == 3
