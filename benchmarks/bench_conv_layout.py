"""What the channels-last (NHWC) layout of the conv layers' weights saves, against PyTorch's
default NCHW, for the conv experiments' networks as their configs build them.

    python benchmarks/bench_conv_layout.py                     # one thread, as a training run
    python benchmarks/bench_conv_layout.py --experiments cwcomp_mnist --repeats 5

For each experiment (`cwcomp_mnist`: 20-80-240-480, two layers grouped by class, BatchNorm;
`cnn_mnist`: 20-80-240) it builds the channel-wise FF model and the backprop twin from the real
configs, and times, in one process and on the same random batches, with the layers as the suite
makes them (channels-last) and the same modules converted back to NCHW:

- `inference`: the FF network's layers on a batch of 1000 images (--test-batch; the test set and
  `evaluate --corruptions` are this, ten and 420 times over), no gradient;
- `ff_step`: one training step of every FF layer on a batch of 128 (each layer on its detached
  input: forward, class goodness, the channel-wise loss, backward, Adam), as while every layer
  learns;
- `bp_step`: one training step of the backprop twin on a batch of 128.

Each timing is the median of --repeats after a warm-up. Prints one JSON object: milliseconds for
each case in each layout and the ratio NCHW / channels-last (above 1: channels-last is faster).
"""

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ff_lightning.algorithm.goodness import channelwise_loss  # noqa: E402
from ff_lightning.run.builders import build_model  # noqa: E402
from tests.conftest import compose_cfg  # noqa: E402

DATA = SimpleNamespace(input_dim=784, num_classes=10, label_mode="none", label_scale=1.0)


def model_of(experiment: str, model: str) -> torch.nn.Module:
    return build_model(compose_cfg([f"experiment={experiment}", f"model={model}"]), DATA)


def median_ms(fn: Callable[[], None], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def cases(experiment: str, layout: torch.memory_format, test_batch: int) -> dict[str, Callable[[], None]]:
    torch.manual_seed(0)
    ff = model_of(experiment, "ff_cnn_channelwise").to(memory_format=layout)
    bp = model_of(experiment, "backprop_cnn").to(memory_format=layout)
    layer_opts = [torch.optim.Adam(layer.parameters(), lr=1e-3) for layer in ff.net.layers]
    bp_opt = torch.optim.Adam(bp.parameters(), lr=1e-3)
    test_images = torch.rand(test_batch, DATA.input_dim)
    images = torch.rand(128, DATA.input_dim)
    labels = torch.randint(0, DATA.num_classes, (128,))

    def inference() -> None:
        ff.eval()  # BatchNorm on its running statistics, as at test time
        with torch.no_grad():
            ff.net.activities(test_images)
        ff.train()

    def ff_step() -> None:
        h = ff.net.first_input(images)
        for layer, opt in zip(ff.net.layers, layer_opts, strict=True):
            out = layer(h.detach())
            loss = channelwise_loss(ff.class_goodness(out), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            h = out

    def bp_step() -> None:
        loss = F.cross_entropy(bp(images), labels)
        bp_opt.zero_grad(set_to_none=True)
        loss.backward()
        bp_opt.step()

    return {"inference": inference, "ff_step": ff_step, "bp_step": bp_step}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", default="cwcomp_mnist,cnn_mnist")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--test-batch", type=int, default=1000, help="images per inference batch")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    layouts = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}
    result: dict = {"threads": args.threads, "repeats": args.repeats, "ms": {}, "nchw_over_channels_last": {}}
    for experiment in args.experiments.split(","):
        timed = {name: cases(experiment, layout, args.test_batch) for name, layout in layouts.items()}
        ms = {
            name: {case: round(median_ms(fn, args.repeats), 1) for case, fn in fns.items()}
            for name, fns in timed.items()
        }
        result["ms"][experiment] = ms
        result["nchw_over_channels_last"][experiment] = {
            case: round(ms["nchw"][case] / ms["channels_last"][case], 2) for case in ms["nchw"]
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
