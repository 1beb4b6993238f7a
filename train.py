"""Entry point: `python train.py [overrides]` or `python train.py -m [sweep overrides]`."""

import sys
import warnings
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from ff_lightning.errors import UserInputError
from ff_lightning.jobs import check_jobs, drop_empty_folder_variables, remove_unused_output_folder

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
        # found only once the job ran (its data): leave no half-made run folder behind
        remove_unused_output_folder(Path(HydraConfig.get().runtime.output_dir))
        fail(str(exc))
    return results.get(cfg.get("optimized_metric") or "")


if __name__ == "__main__":
    drop_empty_folder_variables()
    try:
        # every job of the command line, before the first one trains or Hydra writes anything
        check_jobs(sys.argv[1:], CONF_DIR)
    except UserInputError as exc:
        fail(str(exc))
    main()
