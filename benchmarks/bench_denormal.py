"""What denormal gradients cost one FF layer step on the CPU, and what flush_denormal saves.

    python benchmarks/bench_denormal.py                      # a 2000 -> 2000 layer, 100 pairs
    python benchmarks/bench_denormal.py --wide-pairs 0,1,2,5

Once a layer separates an image's true and wrong label by a wide margin, SymBa's gradient for
that pair, alpha * sigmoid(-alpha * gap) / n, falls below 1.2e-38, fp32's smallest normal
number, and so do the two rows of the layer's output gradient that it scales. The layer's weight
gradient is a matrix product over those rows, and x86 cores take a slow path for each denormal
operand. This times the suite's own layer step (`layer_step`: forward, goodness, SymBa loss and
backward) on a batch where a given number of pairs are that wide, with torch.set_flush_denormal
off (train.py's `flush_denormal=false`) and on, against the same batch with no wide pair, all in
one process. It runs on one thread: the flag set here reaches only the calling thread, so more
threads would leave part of the product outside it (train.py sets it before any thread starts).

Prints one JSON object: milliseconds per step for each case, the ratios over the clean batch,
and the number of denormal rows the output gradient actually held (checked, not assumed).
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ff_lightning.algorithm.goodness import goodness, symba_loss  # noqa: E402
from ff_lightning.algorithm.nets import FFLayer  # noqa: E402
from ff_lightning.algorithm.step import LayerStep, layer_step  # noqa: E402

SMALLEST_NORMAL = torch.finfo(torch.float32).tiny
# alpha * gap for the wide pairs: sigmoid(-90) * alpha / n is denormal, and not yet 0
WIDE_MARGIN = 90.0


def make_batch(layer: FFLayer, pairs: int, wide: int, gen: torch.Generator) -> tuple[torch.Tensor, float]:
    """Positives and negatives (row i and row pairs + i are one pair) and the SymBa alpha that puts
    the first `wide` pairs at alpha * gap = WIDE_MARGIN, the others near a gap of 0."""
    width = layer.linear.in_features
    pos = torch.rand(pairs, width, generator=gen)
    # the other pairs' negatives are their positives, slightly moved: a gap near 0
    neg = pos + 0.01 * torch.randn(pairs, width, generator=gen)
    # a wide pair's negative is a blank input: only the layer's bias is left of its goodness. The
    # wide pairs share one image, so that they share one gap, and every one of their rows is
    # denormal (no pair's further from the mean gap, where a row could underflow to 0)
    pos[1:wide] = pos[0]
    neg[:wide] = 0.0
    h = torch.cat([pos, neg])
    with torch.no_grad():
        g = goodness(layer(h))
    alpha = WIDE_MARGIN / (g[0] - g[pairs]).item() if wide else 0.02
    return h, alpha


def denormal_rows(layer: FFLayer, h: torch.Tensor, pairs: int, alpha: float) -> int:
    """Rows of the layer's output gradient with a nonzero entry below fp32's smallest normal."""
    grads = []
    out = layer(h)
    out.register_hook(grads.append)
    g = goodness(out)
    symba_loss(g[:pairs], g[pairs:], alpha).backward()
    layer.zero_grad(set_to_none=True)
    tiny = (grads[0] != 0) & (grads[0].abs() < SMALLEST_NORMAL)
    return int(tiny.any(dim=1).sum())


def time_step(layer: FFLayer, h: torch.Tensor, pairs: int, alpha: float, repeats: int) -> float:
    theta = torch.tensor(0.0)
    times = []
    for i in range(repeats + 1):  # the first is the warm-up
        start = time.perf_counter()
        _, loss, _, _ = layer_step(layer, h, theta, pairs, LayerStep("symba", alpha))
        loss.backward()
        layer.zero_grad(set_to_none=True)
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=2000, help="the layer's input and output units")
    parser.add_argument("--pairs", type=int, default=100, help="pairs per batch (the batch size)")
    parser.add_argument("--wide-pairs", default="1,2", help="comma-separated counts of wide pairs")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    layer = FFLayer(args.width, args.width, nn.ReLU())
    torch.set_flush_denormal(False)
    clean_h, clean_alpha = make_batch(layer, args.pairs, 0, gen)
    clean = time_step(layer, clean_h, args.pairs, clean_alpha, args.repeats)
    out: dict[str, object] = {
        "width": args.width,
        "pairs": args.pairs,
        "threads": torch.get_num_threads(),
        "clean_ms": round(clean, 2),
    }
    for wide in (int(k) for k in args.wide_pairs.split(",")):
        h, alpha = make_batch(layer, args.pairs, wide, gen)
        torch.set_flush_denormal(False)
        rows = denormal_rows(layer, h, args.pairs, alpha)
        slow = time_step(layer, h, args.pairs, alpha, args.repeats)
        torch.set_flush_denormal(True)
        flushed = time_step(layer, h, args.pairs, alpha, args.repeats)
        torch.set_flush_denormal(False)
        out[f"wide{wide}_denormal_rows"] = rows
        out[f"wide{wide}_ms"] = round(slow, 2)
        out[f"wide{wide}_flushed_ms"] = round(flushed, 2)
        out[f"wide{wide}_over_clean"] = round(slow / clean, 3)
        out[f"wide{wide}_flushed_over_clean"] = round(flushed / clean, 3)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
