"""Several processes training one model (Lightning's DDP strategies): gradient averaging for the
FF layers, a check that every rank ends with the same weights, and DDP inside a Hydra multirun.
"""

import hashlib
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import lightning.pytorch as L
import torch
import torch.distributed as dist
from torch import nn


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def average_gradients(modules: Iterable[nn.Module]) -> None:
    """Replace every gradient of these modules by its mean over the ranks: one all-reduce of one
    flat buffer, so that a step costs one collective however many layers it updates."""
    average_([p.grad for m in modules for p in m.parameters() if p.grad is not None])


def average_(tensors: list[torch.Tensor]) -> None:
    """In place: each tensor becomes its mean over the ranks (one all-reduce for all of them)."""
    world = world_size()
    if world == 1 or not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for t in tensors:
        t.copy_(flat[offset : offset + t.numel()].view_as(t))
        offset += t.numel()


def weights_digest(module: nn.Module) -> str:
    """sha256 of every parameter's bytes, in state-dict order: equal digests, equal weights."""
    h = hashlib.sha256()
    for name, p in module.state_dict().items():
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def gather_digests(module: nn.Module) -> list[str]:
    """Every rank's weights digest, in rank order (every rank must call this)."""
    digest = weights_digest(module)
    if world_size() == 1:
        return [digest]
    out: list[str | None] = [None] * world_size()
    dist.all_gather_object(out, digest)
    return [str(d) for d in out]


_CONFIG_FLAGS = ("--config-name", "--config-path", "--config-dir", "-cn", "-cp", "-cd")


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
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv = saved_argv
        with read_write(hc), open_dict(hc):
            hc.run.dir = saved_dir
