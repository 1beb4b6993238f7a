"""Shared test helpers: the real configs composed with Hydra, and the real data directory."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"


def data_dir() -> Path:
    return Path(os.environ.get("FF_DATA_DIR", ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture
def mnist_dir() -> Path:
    path = data_dir()
    if not (path / "mnist").is_dir():
        pytest.fail(f"MNIST not found in {path}/mnist: set FF_DATA_DIR")
    return path


def compose_cfg(overrides: list[str], output_dir: Path | None = None) -> DictConfig:
    """Compose conf/train.yaml as `python train.py` would, with the Hydra runtime set up."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    if output_dir is not None:
        with open_dict(cfg):
            cfg.hydra.runtime.output_dir = str(output_dir)
            cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def tiny_overrides(*extra: str) -> list[str]:
    """A synthetic-data run that trains in a second or two."""
    return [
        "dataset=synthetic",
        "model.hidden_dims=[32,32]",
        "model.goodness_from_layer=0",
        "trainer.max_epochs=2",
        "trainer.accelerator=cpu",
        "trainer.enable_progress_bar=false",
        "logger=none",
        *extra,
    ]


def run_train(args: list[str], cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run train.py exactly as a user would, in a fresh process."""
    env = {**os.environ, "FF_DATA_DIR": str(data_dir()), "WANDB_MODE": "offline", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
