"""The denormal benchmark runs at a tiny size, prints valid JSON, and its wide pairs really do make
denormal gradient rows (two per pair: the positive and the negative row); no timing is asserted."""

import pytest

from tests.benchmarks import run_benchmark


@pytest.mark.slow
def test_wide_pairs_make_two_denormal_rows_each():
    out = run_benchmark(
        "bench_denormal.py", "--width", "64", "--pairs", "10", "--wide-pairs", "0,1,3", "--repeats", "1"
    )
    assert out["threads"] == 1 and out["clean_ms"] > 0
    for wide in (0, 1, 3):
        assert out[f"wide{wide}_denormal_rows"] == 2 * wide
        for key in ("ms", "flushed_ms", "over_clean", "flushed_over_clean"):
            assert out[f"wide{wide}_{key}"] > 0
