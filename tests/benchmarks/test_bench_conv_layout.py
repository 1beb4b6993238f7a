"""The layout benchmark runs at a small size and prints valid JSON (no timing is asserted)."""

import pytest

from tests.benchmarks import run_benchmark


@pytest.mark.slow
def test_layout_benchmark_times_every_case_in_both_layouts():
    out = run_benchmark(
        "bench_conv_layout.py", "--experiments", "cnn_mnist", "--repeats", "1", "--test-batch", "50"
    )
    ms = out["ms"]["cnn_mnist"]
    for layout in ("nchw", "channels_last"):
        assert set(ms[layout]) == {"inference", "ff_step", "bp_step"}
        assert all(t > 0 for t in ms[layout].values())
    assert set(out["nchw_over_channels_last"]["cnn_mnist"]) == {"inference", "ff_step", "bp_step"}
