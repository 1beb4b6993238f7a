"""The denormal benchmark runs at a tiny size, prints valid JSON, and its wide pairs really do make
denormal gradient rows (two per pair: the positive and the negative row); no timing is asserted."""

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_wide_pairs_make_two_denormal_rows_each():
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_denormal.py"),
            *("--width", "64", "--pairs", "10", "--wide-pairs", "0,1,3", "--repeats", "1"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["threads"] == 1 and out["clean_ms"] > 0
    for wide in (0, 1, 3):
        assert out[f"wide{wide}_denormal_rows"] == 2 * wide
        for key in ("ms", "flushed_ms", "over_clean", "flushed_over_clean"):
            assert out[f"wide{wide}_{key}"] > 0
