"""DDP inside a Hydra multirun: the ranks Lightning starts run this job, not the whole sweep."""

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import lightning.pytorch as L
import torch.distributed as dist

_CONFIG_FLAGS = ("--config-name", "--config-path", "--config-dir", "-cn", "-cp", "-cd")
# how long a job waits for the ranks it started to exit once it has ended itself
CHILD_EXIT_SECONDS = 300

log = logging.getLogger("ff_lightning")


def wait_for_children(trainer: L.Trainer) -> None:
    """Wait until the ranks this job started have exited, before its process group goes.

    A rank still finishing when rank 0 takes the group down can abort on the closed connection;
    Lightning's observer of the children then kills this process, whichever later job of the
    sweep it is running by then. A rank that has not exited in CHILD_EXIT_SECONDS is killed."""
    for proc in list(getattr(getattr(trainer.strategy, "launcher", None), "procs", [])):
        try:
            proc.wait(timeout=CHILD_EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning(
                "rank process %d did not exit %d s after its job; killing it", proc.pid, CHILD_EXIT_SECONDS
            )
            proc.kill()
            proc.wait()
        if proc.returncode:
            # Lightning's watcher of the ranks kills this process for it within seconds
            log.warning("rank process %d exited with code %d", proc.pid, proc.returncode)


@contextmanager
def ddp_children_run_this_job(trainer: L.Trainer) -> Iterator[None]:
    """Inside a Hydra multirun, let Lightning's DDP launcher start the other ranks as this job.

    Lightning starts ranks 1.. by re-running `sys.argv` with `hydra.run.dir` set to the run
    folder. In a multirun, sys.argv holds the whole sweep (`-m`, `a=1,2`): every rank would start
    a sweep of its own. While this job trains and tests, sys.argv becomes this job's own overrides
    and the run folder this job's folder, so the children are single runs of exactly this job.
    Afterwards the process group and the environment Lightning set up are taken down, so that the
    next job of the sweep starts its own ranks. Cluster launches (SLURM tasks, torchrun) start
    their ranks themselves and are left alone.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import open_dict, read_write

    env = trainer.strategy.cluster_environment if hasattr(trainer.strategy, "cluster_environment") else None
    relaunches = env is not None and not env.creates_processes_externally and trainer.num_devices > 1
    if not relaunches or not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        yield
        return
    hc = HydraConfig.get()
    saved_argv, saved_dir, saved_env = list(sys.argv), hc.run.dir, dict(os.environ)
    flags = []
    for i, arg in enumerate(saved_argv[1:], start=1):
        if arg.startswith(tuple(f"{f}=" for f in _CONFIG_FLAGS)):
            flags.append(arg)
        elif arg in _CONFIG_FLAGS and i + 1 < len(saved_argv):
            flags += [arg, saved_argv[i + 1]]
    sys.argv = [saved_argv[0], *flags, *hc.overrides.task]
    with read_write(hc), open_dict(hc):
        hc.run.dir = hc.runtime.output_dir
    try:
        yield
    finally:
        wait_for_children(trainer)
        # still up where the job ended on an exception (end_process_group closes it otherwise)
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv = saved_argv
        with read_write(hc), open_dict(hc):
            hc.run.dir = saved_dir
