import json
import subprocess
import sys
from typing import Any

from tests.conftest import ROOT


def run_benchmark(script: str, *args: str) -> dict[str, Any]:
    """Run benchmarks/<script> as a user would and return the JSON object it prints."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)
