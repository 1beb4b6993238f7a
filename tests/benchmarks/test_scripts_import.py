"""Every benchmark script loads: its imports (the package's and the tests' helpers it reuses)
resolve, so a moved module cannot leave a benchmark broken until someone runs it."""

import runpy

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "benchmarks").glob("*.py")))
def test_the_benchmark_script_loads(script):
    # run_name other than __main__: the module's top level runs, its main() does not
    namespace = runpy.run_path(str(ROOT / "benchmarks" / script), run_name="loaded_by_test")
    assert callable(namespace.get("main"))
