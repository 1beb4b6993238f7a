"""Seconds per training epoch: the suite's FFModule through the real Trainer, the same math as a
minimal eager PyTorch loop, and the backprop twin, all in one process on the same data.

    python benchmarks/bench_epoch.py --device cpu --batches 60        # a tenth of an MNIST epoch
    python benchmarks/bench_epoch.py --device cuda                     # a whole epoch on a GPU
    python benchmarks/bench_epoch.py --device cpu --batches 60 --skip-bp --weight-averaging-decay 0.9997
    python benchmarks/bench_epoch.py --device cpu --batches 30 --skip-bp --negatives-per-image 9

Each timing runs after a warm-up, is repeated, and the median is scaled to a full epoch
(`--train-size` samples). It prints one JSON object: seconds per epoch for each, the ratios
`suite_over_eager` and `ff_over_bp` (and `ema_over_suite`, the suite with weight_averaging=ema
over the suite without, given --weight-averaging-decay; `negatives_over_suite`, the suite with
model.negatives_per_image=K over the suite with one, given --negatives-per-image), the matmul
floor (the same GEMMs alone), and the time of goodness inference over the 10k test set.
"""

import argparse
import json
import logging
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import lightning.pytorch as L
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ff_lightning.algorithm.goodness import rms_normalise  # noqa: E402
from ff_lightning.algorithm.thresholds import constant  # noqa: E402
from ff_lightning.data.tensors import TensorDataModule  # noqa: E402
from ff_lightning.models.backprop import BPModule  # noqa: E402
from ff_lightning.models.ff import FFModule  # noqa: E402
from ff_lightning.models.settings import FFSettings  # noqa: E402
from ff_lightning.run.callbacks import EpochSummary  # noqa: E402


class RandomImages(TensorDataModule):
    """MNIST-shaped data; timing does not depend on pixel values, so no files are needed."""

    input_dim = 784
    num_classes = 10

    def __init__(self, n_train: int, n_test: int, **kwargs) -> None:
        super().__init__(val_size=0, **kwargs)
        self.n_train, self.n_test = n_train, n_test

    def load(self):
        g = torch.Generator().manual_seed(0)
        x = torch.rand(self.n_train + self.n_test, 784, generator=g)
        x[:, :10] = 0
        y = torch.randint(0, 10, (self.n_train + self.n_test,), generator=g)
        return x[: self.n_train], y[: self.n_train], x[self.n_train :], y[self.n_train :]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_trainer(
    make_module,
    dm: TensorDataModule,
    device: torch.device,
    repeats: int,
    make_callbacks=list,
    **trainer_kw,
) -> list[float]:
    """Training-epoch seconds measured inside the Trainer (EpochSummary), one fit per repeat;
    make_callbacks() gives each fit its own extra callbacks."""
    module = make_module()
    times = []
    for i in range(repeats + 1):  # the first fit is the warm-up
        summary = EpochSummary()
        trainer = L.Trainer(
            accelerator=device.type if device.type != "cuda" else "gpu",
            devices=1,
            max_epochs=1,
            logger=False,
            enable_progress_bar=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            limit_val_batches=0,
            callbacks=[summary, *make_callbacks()],
            **trainer_kw,
        )
        trainer.fit(module, datamodule=dm)
        if i:
            times.append(summary.train_seconds[-1])
    return times


def eager_ff_epoch(x, y, widths, batch_size, n_batches, lr, fused, precision, device) -> float:
    """The suite's math, written as a plain loop: per layer rms-normalise, linear, ReLU, goodness,
    softplus loss on positives and negatives as one batch, own Adam; then the softmax head on a
    neutral-label pass."""
    dims = [784, *widths]
    layers = [nn.Linear(a, b).to(device) for a, b in zip(dims[:-1], dims[1:], strict=True)]
    opts = [torch.optim.Adam(layer.parameters(), lr=lr, fused=fused) for layer in layers]
    head = nn.Linear(sum(widths[1:]), 10).to(device)
    head_opt = torch.optim.Adam(head.parameters(), lr=lr, fused=fused)
    thetas = [float(w) for w in widths]
    eye = torch.eye(10, device=device)

    def embed(xb, code):
        out = xb.clone()
        out[:, :10] = code * xb.amax(dim=1, keepdim=True)
        return out

    def one_pass(order):
        for b in range(len(order) // batch_size):
            idx = order[b * batch_size : (b + 1) * batch_size]
            xb, yb = x[idx], y[idx]
            wrong = (yb + torch.randint(1, 10, yb.shape, device=device)) % 10
            h = torch.cat([embed(xb, eye[yb]), embed(xb, eye[wrong])])
            n = xb.shape[0]
            for layer, opt, theta in zip(layers, opts, thetas, strict=True):
                out = F.relu(layer(rms_normalise(h)))
                g = out.float().pow(2).sum(dim=1)
                loss = F.softplus(theta - g[:n]).mean() + F.softplus(g[n:] - theta).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                h = out.detach()
            with torch.no_grad():
                h = embed(xb, torch.full((n, 10), 0.1, device=device))
                feats = []
                for layer in layers:
                    h = F.relu(layer(rms_normalise(h)))
                    feats.append(rms_normalise(h))
                feats = torch.cat(feats[1:], dim=1)
            head_loss = F.cross_entropy(head(feats), yb)
            head_opt.zero_grad(set_to_none=True)
            head_loss.backward()
            head_opt.step()

    order = torch.randperm(len(y), device=device)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    # no cast cache: the region spans optimizer steps, and a cached bf16 copy of a weight would
    # hand every later step the weight as it was at its first use (Lightning disables it too)
    with torch.autocast(device.type, dtype=dtype, enabled=precision == "bf16", cache_enabled=False):
        one_pass(order[: batch_size * min(n_batches, 3)])  # warm-up
        sync(device)
        start = time.perf_counter()
        one_pass(order)
    sync(device)
    return time.perf_counter() - start


def matmul_floor(widths, batch_size, n_batches, device, dtype=torch.float32, neutral_pass=False) -> float:
    """Only the GEMMs of the FF step, timed: forward and weight gradient over the 2B positive and
    negative rows of each layer (the matmul floor), plus with `neutral_pass` the B-row forward
    that feeds the softmax head."""
    dims = [784, *widths]
    ws = [torch.randn(b, a, device=device, dtype=dtype) for a, b in zip(dims[:-1], dims[1:], strict=True)]
    hs = [torch.randn(2 * batch_size, a, device=device, dtype=dtype) for a in dims[:-1]]
    gs = [torch.randn(2 * batch_size, b, device=device, dtype=dtype) for b in dims[1:]]

    def run(k):
        for _ in range(k):
            for w, h, g in zip(ws, hs, gs, strict=True):
                torch.mm(h, w.t())
                torch.mm(g.t(), h)
                if neutral_pass:
                    torch.mm(h[:batch_size], w.t())

    run(2)
    sync(device)
    start = time.perf_counter()
    run(n_batches)
    sync(device)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--widths", default="2000,2000,2000,2000", help="hidden widths, comma separated")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument(
        "--batches", type=int, default=None, help="batches timed per repeat (default: a whole epoch)"
    )
    p.add_argument("--train-size", type=int, default=60000, help="samples in a full epoch")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--skip-bp", action="store_true")
    p.add_argument(
        "--precision", choices=("32", "bf16"), default="32", help="bf16: autocast, goodness in fp32"
    )
    p.add_argument("--no-fused", dest="fused", action="store_false", help="per-tensor Adam instead of fused")
    p.add_argument(
        "--compile",
        choices=("auto", "on", "off"),
        default="auto",
        help="model.compile_step for the suite (auto: on for CUDA)",
    )
    p.add_argument(
        "--batches-per-step",
        type=int,
        default=1,
        help="minibatches per Lightning step for the suite (dataset.batches_per_step)",
    )
    p.add_argument(
        "--whole-step",
        choices=("off", "eager", "compiled", "both"),
        default="off",
        help="also time the suite with model.whole_step=true, eager and/or compiled whole "
        "(whole_step_*_s_per_epoch); suite_s_per_epoch is the per-layer steps",
    )
    p.add_argument(
        "--weight-averaging-decay",
        type=float,
        default=None,
        help="also time the suite with weight_averaging=ema at this decay (suite_ema_s_per_epoch)",
    )
    p.add_argument(
        "--negatives-per-image",
        type=int,
        default=None,
        help="also time the suite with model.negatives_per_image at this value (suite_negatives_s_per_epoch)",
    )
    args = p.parse_args(argv)
    # as train.py does by default (flush_denormal), before any torch operation starts a thread
    torch.set_flush_denormal(True)
    # stdout carries the JSON alone
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)

    device = torch.device(args.device)
    widths = [int(w) for w in args.widths.split(",")]
    per_epoch = -(-args.train_size // args.batch_size)
    n_batches = min(args.batches or per_epoch, per_epoch)
    scale = per_epoch / n_batches
    dm = RandomImages(n_train=n_batches * args.batch_size, n_test=10000, batch_size=args.batch_size)
    dm.prepare_splits()
    L.seed_everything(0, verbose=False)

    def make_ff(**kwargs):
        # the suite's per-layer steps unless told otherwise (--whole-step times the other path)
        kwargs.setdefault("whole_step", False)
        kwargs.setdefault("compile_step", {"auto": None, "on": True, "off": False}[args.compile])
        settings = FFSettings(
            hidden_dims=widths, optimizer=partial(torch.optim.Adam, lr=args.lr, fused=args.fused), **kwargs
        )
        return FFModule(settings, input_dim=784, num_classes=10, activation=nn.ReLU(), threshold=constant)

    precision = "bf16-mixed" if args.precision == "bf16" else "32-true"
    # the plain-PyTorch timings come first, so that nothing the suite leaves in the process
    # (compiled kernels, compile workers) can slow them and flatter the suite: after a compiled
    # suite the 2-core CPU's fp32 floor was measured at 54 s per epoch instead of 41-48 s
    x, y = (t.to(device) for t in dm.splits["train"])
    eager = [
        eager_ff_epoch(x, y, widths, args.batch_size, n_batches, args.lr, args.fused, args.precision, device)
        * scale
        for _ in range(args.repeats)
    ]

    def floor(**kw) -> float:
        return statistics.median(
            matmul_floor(widths, args.batch_size, n_batches, device, **kw) * scale
            for _ in range(args.repeats)
        )

    out = {
        "device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "widths": widths,
        "batch_size": args.batch_size,
        "batches_timed": n_batches,
        "batches_per_epoch": per_epoch,
        "repeats": args.repeats,
        "fused_adam": args.fused,
        "batches_per_step": args.batches_per_step,
        "compile": args.compile,
        "precision": args.precision,
        "eager_s_per_epoch": statistics.median(eager),
        "matmul_floor_s_per_epoch": floor(),
        "matmul_floor_with_head_pass_s_per_epoch": floor(neutral_pass=True),
    }
    if args.precision == "bf16":
        out["matmul_floor_bf16_with_head_pass_s_per_epoch"] = floor(dtype=torch.bfloat16, neutral_pass=True)
    if not args.skip_bp:

        def make_bp():
            return BPModule(
                784, 10, widths, nn.ReLU(), partial(torch.optim.Adam, lr=args.lr, fused=args.fused)
            )

        bp = [t * scale for t in time_trainer(make_bp, dm, device, args.repeats, precision=precision)]
        out["bp_s_per_epoch"] = statistics.median(bp)

    model = make_ff().to(device)
    x_test = dm.splits["test"][0].to(device)
    model.predict_goodness(x_test[:1000])  # warm-up
    evals = []
    for _ in range(args.repeats):
        sync(device)
        start = time.perf_counter()
        for i in range(0, len(x_test), 1000):
            model.predict_goodness(x_test[i : i + 1000])
        sync(device)
        evals.append(time.perf_counter() - start)
    out["eval_goodness_10k_s"] = statistics.median(evals)

    dm.batches_per_step = args.batches_per_step
    suite = [t * scale for t in time_trainer(make_ff, dm, device, args.repeats, precision=precision)]
    out["suite_s_per_epoch"] = statistics.median(suite)
    for mode in ("eager", "compiled"):
        if args.whole_step in (mode, "both"):
            # the suite on its whole-step path; compiled: compilation in the warm-up fit, not timed
            make_whole = partial(make_ff, whole_step=True, compile_step=mode == "compiled")
            whole = time_trainer(make_whole, dm, device, args.repeats, precision=precision)
            seconds = statistics.median(t * scale for t in whole)
            out[f"whole_step_{mode}_s_per_epoch"] = seconds
            out[f"whole_step_{mode}_over_suite"] = seconds / out["suite_s_per_epoch"]
            out[f"whole_step_{mode}_over_eager"] = seconds / out["eager_s_per_epoch"]
            out[f"whole_step_{mode}_over_floor"] = seconds / out["matmul_floor_s_per_epoch"]
    if args.weight_averaging_decay is not None:

        def ema_callbacks() -> list[L.Callback]:
            node = OmegaConf.load(ROOT / "conf" / "weight_averaging" / "ema.yaml")
            node.multi_avg_fn.decay = args.weight_averaging_decay
            return [instantiate(node)]

        ema = time_trainer(make_ff, dm, device, args.repeats, ema_callbacks, precision=precision)
        out["suite_ema_s_per_epoch"] = statistics.median(t * scale for t in ema)
        out["ema_over_suite"] = out["suite_ema_s_per_epoch"] / out["suite_s_per_epoch"]
    if args.negatives_per_image is not None:
        make_k = partial(make_ff, negatives_per_image=args.negatives_per_image)
        k = time_trainer(make_k, dm, device, args.repeats, precision=precision)
        out["negatives_per_image"] = args.negatives_per_image
        out["suite_negatives_s_per_epoch"] = statistics.median(t * scale for t in k)
        out["negatives_over_suite"] = out["suite_negatives_s_per_epoch"] / out["suite_s_per_epoch"]
    out["suite_over_eager"] = out["suite_s_per_epoch"] / out["eager_s_per_epoch"]
    out["suite_over_floor"] = out["suite_s_per_epoch"] / out["matmul_floor_s_per_epoch"]
    if "bp_s_per_epoch" in out:
        out["ff_over_bp"] = out["suite_s_per_epoch"] / out["bp_s_per_epoch"]
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
