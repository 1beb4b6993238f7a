"""`python -m ff_lightning.evaluate CHECKPOINT`: test error of a saved run, in both inference
modes and per class, rebuilt from the config stored in the checkpoint (nothing to retype);
with --corruptions, also on corrupted copies of the test images (ff_lightning.data.corruptions)."""

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from ff_lightning.data.corruptions import CORRUPTIONS, SEVERITIES, corrupt
from ff_lightning.errors import UserInputError, refuse
from ff_lightning.run.checkpoints import CONFIG_KEY, LAST


def load_checkpoint(path: Path) -> tuple[DictConfig, dict[str, Any]]:
    """The run's config and the checkpoint itself; one-line errors for what cannot be used. A run
    folder stands for its checkpoints/last.ckpt, as with train.py's ckpt_path."""
    if path.is_dir():
        path = path / LAST
    if not path.is_file():
        raise UserInputError(f"{path}: no such checkpoint file")
    try:
        # the suite's checkpoints hold the run's config and RNG states, which weights_only rejects
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same one-line answer
        raise UserInputError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(ckpt, dict) or CONFIG_KEY not in ckpt or "state_dict" not in ckpt:
        raise UserInputError(f"{path}: not a checkpoint written by ff_lightning train.py (no stored config)")
    return OmegaConf.create(ckpt[CONFIG_KEY]), ckpt


@torch.no_grad()
def predictions(model: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Predicted classes per inference mode (a backprop model has one, reported under both)."""
    if hasattr(model, "predict_both"):
        by_goodness, by_head = model.predict_both(x)
        return {"goodness": by_goodness, "head": by_head}
    pred = model(x).argmax(dim=1)
    return {"goodness": pred, "head": pred}


def _errors(
    model: torch.nn.Module, batches: Any, y_all: torch.Tensor, device: str
) -> dict[str, torch.Tensor]:
    """Per inference mode, which test samples the model gets wrong."""
    preds: dict[str, list[torch.Tensor]] = {"goodness": [], "head": []}
    for x in batches:
        for mode, p in predictions(model, x.to(device)).items():
            preds[mode].append(p.cpu())
    return {mode: torch.cat(parts) != y_all for mode, parts in preds.items()}


def evaluate(
    checkpoint: str | Path,
    data_dir: str | None = None,
    device: str = "cpu",
    batch_size: int | None = None,
    corruptions: list[str] | None = None,
    severities: tuple[int, ...] = SEVERITIES,
    seed: int = 0,
) -> dict[str, Any]:
    """Test errors (percent) of a checkpoint: overall and per class, in both inference modes; with
    `corruptions`, each of them at each severity too (the same images for the same seed)."""
    from ff_lightning.run.builders import build, build_model

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserInputError(f"--device {device}: no CUDA GPU on this machine; use --device cpu")
    cfg, ckpt = load_checkpoint(Path(checkpoint))
    data_dir = data_dir or os.environ.get("FF_DATA_DIR")
    if data_dir and "data_dir" in cfg.dataset:  # the synthetic set has none
        cfg.dataset.data_dir = data_dir
    if batch_size:
        cfg.dataset.eval_batch_size = batch_size
    datamodule = build(cfg.dataset)
    datamodule.prepare_splits()
    if corruptions and math.isqrt(datamodule.input_dim) ** 2 != datamodule.input_dim:
        raise UserInputError(
            f"--corruptions changes square images (MNIST); this checkpoint's inputs are "
            f"{datamodule.input_dim} features ({cfg.dataset._target_.rsplit('.', 1)[-1]})"
        )
    model = build_model(cfg, datamodule)
    model.load_state_dict(ckpt["state_dict"])
    model.to(device).eval()

    x_all, y_all = datamodule.splits["test"]
    eval_batch = datamodule.eval_batch_size
    wrong = _errors(model, (x for x, _ in datamodule.test_dataloader()), y_all, device)
    out: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "epoch": ckpt.get("epoch"),
        "model": cfg.model._target_.rsplit(".", 1)[-1],
        "test_samples": len(y_all),
        "per_class": {},
    }
    classes = range(datamodule.num_classes)
    for mode, w in wrong.items():
        out[f"test/error_{mode}"] = 100.0 * w.float().mean().item()
        out["per_class"][mode] = {str(c): 100.0 * w[y_all == c].float().mean().item() for c in classes}
    if corruptions:
        out["corruption_seed"] = seed
        out["corruptions"] = {}
        cases = [(name, severity) for name in corruptions for severity in severities]
        started = time.perf_counter()
        for done, (name, severity) in enumerate(cases, start=1):
            x = corrupt(x_all, name, severity, seed)
            w = _errors(model, x.split(eval_batch), y_all, device)
            cell = {f"error_{mode}": 100.0 * v.float().mean().item() for mode, v in w.items()}
            out["corruptions"].setdefault(name, {})[str(severity)] = cell
            # a line per case on stderr (stdout holds the table or the JSON): the whole set takes
            # minutes for a model whose goodness inference runs every label
            elapsed = time.perf_counter() - started
            print(
                f"evaluate: [{done}/{len(cases)}] {name} severity {severity}: "
                + ", ".join(f"{mode} {v:.2f} %" for mode, v in cell.items())
                + f" ({elapsed:.0f} s, about {elapsed / done * (len(cases) - done):.0f} s to go)",
                file=sys.stderr,
                flush=True,
            )
        for mode in ("goodness", "head"):
            cells = [
                c[f"error_{mode}"]
                for by_severity in out["corruptions"].values()
                for c in by_severity.values()
            ]
            out[f"corrupted/error_{mode}"] = sum(cells) / len(cells)
    return out


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['checkpoint']} ({result['model']}, after epoch {result['epoch'] + 1}), "
        f"{result['test_samples']} test samples",
        f"test error: goodness {result['test/error_goodness']:.2f} %, head {result['test/error_head']:.2f} %",
        "class  goodness %  head %",
    ]
    for c, g in result["per_class"]["goodness"].items():
        lines.append(f"{c:>5}  {g:10.2f}  {result['per_class']['head'][c]:6.2f}")
    if "corruptions" in result:
        severities = list(next(iter(result["corruptions"].values())))
        lines += [
            f"corrupted test images (seed {result['corruption_seed']}): error % per severity, "
            "goodness / head",
            f"{'corruption':<16}" + "".join(f"{'severity ' + s:>16}" for s in severities),
        ]
        for name, by_severity in result["corruptions"].items():
            cells = "".join(
                f"{c['error_goodness']:7.2f} /{c['error_head']:7.2f}" for c in by_severity.values()
            )
            lines.append(f"{name:<16}{cells}")
        lines.append(
            f"{'mean':<16}{result['corrupted/error_goodness']:7.2f} /{result['corrupted/error_head']:7.2f}"
        )
    return "\n".join(lines)


def _corruption_names(text: str) -> list[str]:
    names = list(CORRUPTIONS) if text == "all" else [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CORRUPTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{','.join(unknown) or text!r} is not a corruption; choose all or some of: "
            + ", ".join(CORRUPTIONS)
        )
    return names


def _severities(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or any(v not in SEVERITIES for v in values):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give some of {', '.join(map(str, SEVERITIES))}, e.g. 1,3"
        )
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ff_lightning.evaluate", description=__doc__)
    parser.add_argument(
        "checkpoint", help="a .ckpt file from a run's checkpoints/ folder, or a run folder (its last.ckpt)"
    )
    parser.add_argument("--data-dir", help="where the data is (default: FF_DATA_DIR, else the run's)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, help="evaluation batch size (default: the run's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument(
        "--corruptions",
        nargs="?",
        const="all",
        type=_corruption_names,
        help=f"also test on corrupted test images: all (the default) or some of {', '.join(CORRUPTIONS)}",
    )
    parser.add_argument(
        "--severities", type=_severities, default=SEVERITIES, help="of the corruptions (default: 1,2,3)"
    )
    parser.add_argument("--seed", type=int, default=0, help="draws the corruptions (default: 0)")
    parser.add_argument(
        "--out", type=Path, help="also write the result as JSON here (e.g. the run's corruptions.json)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    args = parser.parse_args(argv)
    try:
        if args.out is not None and args.out.exists() and not args.overwrite:
            raise UserInputError(f"{args.out} already exists; choose another --out or pass --overwrite")
        result = evaluate(
            args.checkpoint,
            args.data_dir,
            args.device,
            args.batch_size,
            args.corruptions,
            args.severities,
            args.seed,
        )
    except UserInputError as exc:
        return refuse("evaluate", str(exc))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
