"""Entry point: `python train.py [overrides]` or `python train.py -m [sweep overrides]`."""

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from ff_lightning.errors import UserInputError
from ff_lightning.validate import check_group_overrides, check_setting_keys

CONF_DIR = Path(__file__).resolve().parent / "conf"


def fail(message: str) -> None:
    print(f"train.py: error: {message}", file=sys.stderr)
    sys.exit(2)


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from ff_lightning.train import train  # imported here so `--help` and bad overrides stay fast

    try:
        results = train(cfg)
    except UserInputError as exc:
        fail(str(exc))
    return results.get(cfg.get("optimized_metric") or "")


if __name__ == "__main__":
    try:
        check_group_overrides(sys.argv[1:], CONF_DIR)
        check_setting_keys(sys.argv[1:], CONF_DIR)
    except UserInputError as exc:
        fail(str(exc))
    main()
