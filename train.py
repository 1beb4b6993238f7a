"""Entry point: `python train.py [overrides]` or `python train.py -m [sweep overrides]`."""

import sys
import warnings
from pathlib import Path

import hydra
from omegaconf import DictConfig

from ff_lightning.errors import UserInputError
from ff_lightning.validate import check_group_overrides, check_setting_keys, check_without_overrides

CONF_DIR = Path(__file__).resolve().parent / "conf"

# conf/hydra/launcher/submitit_slurm.yaml is the suite's SLURM preset; Hydra checks it against the
# plugin's schema of the same name (wanted) and warns that such matching is deprecated (noise)
warnings.filterwarnings("ignore", message=r"(?s).*validated against ConfigStore schema with the same name")


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
        check_without_overrides(sys.argv[1:])
    except UserInputError as exc:
        fail(str(exc))
    main()
