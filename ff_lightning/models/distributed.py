"""Several processes training one model (Lightning's DDP strategies): gradient averaging for the
FF layers and a check that every rank ends with the same weights. (DDP inside a Hydra multirun:
ff_lightning.run.ddp_jobs.)"""

import hashlib
from collections.abc import Iterable

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


def end_process_group() -> None:
    """Every rank takes its process group down itself once the run's last collective is done.

    A process that exits with its gloo group still up can abort in the group's destructor
    ("terminate called without an active exception", exit code 134; about one process pair in
    five on a loaded 2-core machine). Lightning's watcher of the ranks it started then kills rank
    0, in a multirun whichever later job it is running by then. The barrier first: no rank closes
    its connections while another is still inside a collective."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def gather_digests(module: nn.Module) -> list[str]:
    """Every rank's weights digest, in rank order (every rank must call this)."""
    digest = weights_digest(module)
    if world_size() == 1:
        return [digest]
    out: list[str | None] = [None] * world_size()
    dist.all_gather_object(out, digest)
    return [str(d) for d in out]
