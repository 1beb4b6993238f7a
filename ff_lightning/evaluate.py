"""`python -m ff_lightning.evaluate CHECKPOINT`: test error of a saved run, in both inference
modes and per class, rebuilt from the config stored in the checkpoint (nothing to retype)."""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from ff_lightning.checkpoints import CONFIG_KEY
from ff_lightning.errors import UserInputError


def load_checkpoint(path: Path) -> tuple[DictConfig, dict[str, Any]]:
    """The run's config and the checkpoint itself; one-line errors for what cannot be used."""
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
    if hasattr(model, "predict_goodness"):
        return {"goodness": model.predict_goodness(x), "head": model.predict_head(x)}
    pred = model(x).argmax(dim=1)
    return {"goodness": pred, "head": pred}


def evaluate(
    checkpoint: str | Path, data_dir: str | None = None, device: str = "cpu", batch_size: int | None = None
) -> dict[str, Any]:
    """Test errors (percent) of a checkpoint: overall and per class, in both inference modes."""
    from ff_lightning.builders import build, build_model

    cfg, ckpt = load_checkpoint(Path(checkpoint))
    data_dir = data_dir or os.environ.get("FF_DATA_DIR")
    if data_dir and "data_dir" in cfg.dataset:  # the synthetic set has none
        cfg.dataset.data_dir = data_dir
    if batch_size:
        cfg.dataset.eval_batch_size = batch_size
    datamodule = build(cfg.dataset)
    datamodule.prepare_splits()
    model = build_model(cfg, datamodule)
    model.load_state_dict(ckpt["state_dict"])
    model.to(device).eval()

    preds: dict[str, list[torch.Tensor]] = {"goodness": [], "head": []}
    for x, _ in datamodule.test_dataloader():
        for mode, p in predictions(model, x.to(device)).items():
            preds[mode].append(p.cpu())
    y_all = datamodule.splits["test"][1]
    out: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "epoch": ckpt.get("epoch"),
        "model": cfg.model._target_.rsplit(".", 1)[-1],
        "test_samples": len(y_all),
        "per_class": {},
    }
    classes = range(datamodule.num_classes)
    for mode, parts in preds.items():
        wrong = torch.cat(parts) != y_all
        out[f"test/error_{mode}"] = 100.0 * wrong.float().mean().item()
        out["per_class"][mode] = {str(c): 100.0 * wrong[y_all == c].float().mean().item() for c in classes}
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
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ff_lightning.evaluate", description=__doc__)
    parser.add_argument("checkpoint", help="a .ckpt file from a run's checkpoints/ folder")
    parser.add_argument("--data-dir", help="where the data is (default: FF_DATA_DIR, else the run's)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, help="evaluation batch size (default: the run's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    try:
        result = evaluate(args.checkpoint, args.data_dir, args.device, args.batch_size)
    except UserInputError as exc:
        print(f"evaluate: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
