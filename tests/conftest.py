"""Shared test helpers: the real configs composed with Hydra, and the real data directory."""

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

# Under pytest-xdist (-n auto) the workers share the cores: each worker, and the processes its
# tests start, gets its share of them instead of every torch process taking all, which would
# oversubscribe the CPU. Set before torch is first imported, which reads it.
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    _share = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ.setdefault("OMP_NUM_THREADS", str(_share))
    os.environ.setdefault("MKL_NUM_THREADS", str(_share))

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"


def data_dir() -> Path:
    """FF_DATA_DIR, else ../shared/data beside the checkout, else the project's default data/."""
    if "FF_DATA_DIR" in os.environ:
        return Path(os.environ["FF_DATA_DIR"]).resolve()
    shared = ROOT.parent / "shared" / "data"
    return shared.resolve() if shared.is_dir() else ROOT / "data"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The data directory, with MNIST downloaded into it first where it is missing and we are online."""
    path = data_dir()
    from ff_lightning.data.mnist import load_mnist

    load_mnist(path, download=True)
    return path


@pytest.fixture(scope="session")
def mnist_gz_folder(mnist_dir: Path) -> Path:
    """The folder that holds the four original .gz files (<dir>/mnist or torchvision's MNIST/raw)."""
    for folder in (mnist_dir / "mnist", mnist_dir / "MNIST" / "raw"):
        if (folder / "t10k-labels-idx1-ubyte.gz").is_file():
            return folder
    pytest.fail(f"no MNIST .gz files under {mnist_dir}")


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


# a small FF network on the synthetic set: trains in a second or two
TINY_MODEL = [
    "dataset=synthetic",
    "model.hidden_dims=[32,32]",
    "model.goodness_from_layer=0",
    "trainer.enable_progress_bar=false",
]


def tiny_overrides(*extra: str) -> list[str]:
    """A synthetic-data run for in-process tests."""
    return [*TINY_MODEL, "trainer.max_epochs=2", "trainer.accelerator=cpu", "logger=none", *extra]


def run_train(
    args: list[str], cwd: Path = ROOT, timeout: float = 600, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess:
    """Run train.py exactly as a user would, in a fresh process (`env` adds variables; a value of
    None removes one)."""
    env = {
        **os.environ,
        "FF_DATA_DIR": str(data_dir()),
        "WANDB_MODE": "offline",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    env = {k: v for k, v in env.items() if v is not None}
    # its own process group: on a timeout the ranks and workers it started go with it, instead of
    # holding the output pipes open (and the CPU busy) for the rest of the suite
    with subprocess.Popen(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            tails = f"{stdout[-3000:]}\n{stderr[-3000:]}"
            pytest.fail(f"train.py {shlex.join(args)} ran over {timeout} s\n{tails}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def script_commands(command: str, **env: str) -> list[str]:
    """The train.py command lines a sweep script would run (its dry run, FF_SWEEP_DRY_RUN=1);
    `env` adds variables."""
    done = subprocess.run(
        ["bash", *shlex.split(command)],
        cwd=ROOT,
        env={**os.environ, "FF_SWEEP_DRY_RUN": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("python train.py")]
    assert lines, done.stdout
    return lines


def run_report(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m ff_lightning.report FOLDER ...`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "ff_lightning.report", str(folder), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
