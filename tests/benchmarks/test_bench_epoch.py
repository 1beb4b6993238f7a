"""The benchmark runs at a tiny size and prints valid JSON (a smoke test: no timing is asserted)."""

import pytest

from tests.benchmarks import run_benchmark


@pytest.mark.slow
def test_benchmark_prints_one_json_object():
    out = run_benchmark(
        "bench_epoch.py",
        "--device",
        "cpu",
        "--widths",
        "32,32",
        "--batches",
        "3",
        "--repeats",
        "1",
        "--train-size",
        "1000",
        "--batches-per-step",
        "2",
        "--weight-averaging-decay",
        "0.999",
        "--negatives-per-image",
        "9",
        "--whole-step",
        "eager",
    )
    for key in (
        "suite_s_per_epoch",
        "eager_s_per_epoch",
        "bp_s_per_epoch",
        "matmul_floor_s_per_epoch",
        "suite_over_eager",
        "ff_over_bp",
        "eval_goodness_10k_s",
        "suite_ema_s_per_epoch",
        "ema_over_suite",
        "suite_negatives_s_per_epoch",
        "negatives_over_suite",
        "whole_step_eager_s_per_epoch",
        "whole_step_eager_over_suite",
        "whole_step_eager_over_floor",
        "whole_step_eager_over_eager",
    ):
        assert out[key] > 0, key
    assert out["negatives_per_image"] == 9
    assert out["batches_per_epoch"] == 10 and out["batches_timed"] == 3 and out["batches_per_step"] == 2
