"""How far float32 training drifts on this CPU where only the order of the arithmetic differs, and
how far a real change to a step moves the same weights: the measurements behind the tolerances of
the exact-weights tests (tests/agreement.py).

    python benchmarks/float_agreement.py            # one JSON object on stdout

Run it under other kernels of the same machine to see another CPU's rounding, e.g.
ATEN_CPU_CAPABILITY=default (torch's unvectorised kernels), ATEN_CPU_CAPABILITY=avx2,
MKL_ENABLE_INSTRUCTIONS=AVX2 (MKL's matrix products for an older x86), OMP_NUM_THREADS=1 or 2
(another blocking of the sums). Run from the repository root; it uses the tests' helpers.
"""

import copy
import json
import os
import platform
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

import torch  # noqa: E402

from tests.algorithm.test_same_weights import RECORDED, SETTINGS, weight_sums  # noqa: E402
from tests.algorithm.test_whole_step import PATH_SETTINGS, _fit_both, recording_module, replay  # noqa: E402
from tests.models.test_ff import _fit, make_module  # noqa: E402


def _relative(values: list[float], recorded: list[float]) -> float:
    return max(abs(v - r) / abs(r) for v, r in zip(values, recorded, strict=True))


def recorded_spread() -> tuple[dict[str, float], dict[str, list[float]]]:
    """Per same-weights setting: the largest relative difference of a weight sum from RECORDED
    (5 significant figures: their rounding alone is up to 5e-5), and the unrounded sums, to
    compare between runs of this script under other kernels."""
    relative, sums = {}, {}
    for name in SETTINGS:
        torch.manual_seed(0)
        module = make_module(**SETTINGS[name], whole_step=False)
        _fit(module)
        sums[name] = weight_sums(module, digits=None)
        relative[name] = _relative(sums[name], RECORDED[name])
    return relative, sums


def _differences(a: torch.nn.Module, b: torch.nn.Module) -> dict[str, float]:
    pairs = list(zip(a.parameters(), b.parameters(), strict=True))
    return {
        "max_abs": max((x - y).abs().max().item() for x, y in pairs),
        "max_relative_norm": max(((x - y).norm() / x.norm()).item() for x, y in pairs),
    }


def path_spread(lr_factor: float = 1.0) -> dict[str, dict[str, float]]:
    """The whole step replayed against the per-layer steps (test_whole_step's cases); with
    lr_factor != 1 the replay takes a slightly different learning rate: a real change."""
    out = {}
    for i, settings in enumerate(PATH_SETTINGS):
        for fused in (None, True):
            torch.manual_seed(0)
            ref = recording_module(fused=fused, **settings)
            twin = copy.deepcopy(ref)
            _fit(ref)
            replay(twin, ref.recorded, 1e-2 * lr_factor)
            out[f"settings{i}-fused{fused}"] = _differences(ref, twin)
    return out


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def lightning_spread() -> dict[str, float]:
    """Two epochs (20 steps) through Lightning, per-layer steps against the whole step, with the
    reference's learning-rate decay, SymBa and input dropout (test_whole_step's first case)."""
    layered, whole, _, _ = _fit_both(
        epochs=2, lr_schedule="linear_decay", objective="symba", input_dropout=0.2
    )
    return _differences(layered, whole)


def main() -> None:
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    relative, sums = recorded_spread()
    result = {
        "cpu": _cpu_name(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl_enable_instructions": os.environ.get("MKL_ENABLE_INSTRUCTIONS"),
        "threads": torch.get_num_threads(),
        "recorded_relative": relative,
        "sums": sums,
        "paths": path_spread(),
        "lightning_2_epochs": lightning_spread(),
        # the learning rate 0.1 % off: the smallest real change the tolerances must still catch
        "paths_lr_0.1pct_off": path_spread(1.001),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
