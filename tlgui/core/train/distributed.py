"""Training under ``torchrun``: PyTorch's own distributed engine (DistributedDataParallel over
NCCL on CUDA, gloo on the CPU). A process started by torchrun finds RANK, WORLD_SIZE and
LOCAL_RANK in its environment; without them everything here is a no-op (one process).

Each rank trains on its share of every epoch (DistributedSampler, seeded per epoch exactly as
the single-process loader is, so a run on W processes with batch B sees the same global
batches as one process with batch W x B), validates its share of the validation set, and the
sums (loss, hits, confusion) are reduced across ranks. Rank 0 alone writes files.
"""

import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DistributedSampler, Subset

from tlgui.core.errors import TlguiError

TIMEOUT = timedelta(minutes=10)  # a collective of the training loop that takes longer is stuck
# while rank 0 computes every image's features the others wait: hours on a large folder
WAIT_TIMEOUT = timedelta(hours=12)
_waiting: list = []  # the gloo group of that wait, made once per process group


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def writes(self) -> bool:
        """Whether this process writes checkpoints, history and logs (rank 0)."""
        return self.rank == 0


def from_env() -> Ranks:
    """This process's place in a torchrun job (one process when not under torchrun)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks()
    return Ranks(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def start(ranks: Ranks, device: torch.device) -> None:
    """Join the process group (NCCL for CUDA devices, gloo otherwise)."""
    if ranks.enabled and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, rank=ranks.rank, world_size=ranks.world,
                                timeout=TIMEOUT)
        _waiting[:] = [dist.new_group(backend="gloo", timeout=WAIT_TIMEOUT)]


def finish() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
    _waiting.clear()


def device_for(ranks: Ranks, device: torch.device) -> torch.device:
    """One GPU per process: cuda:LOCAL_RANK; more processes than GPUs are refused."""
    if ranks.enabled and device.type == "cuda":
        count = torch.cuda.device_count()
        if ranks.local_rank >= count:
            raise TlguiError(
                f"torchrun started more processes on this machine than it has GPUs ({count}): "
                f"use --nproc-per-node {count}, or --device cpu to train on the CPU")
        torch.cuda.set_device(ranks.local_rank)
        return torch.device("cuda", ranks.local_rank)
    return device


def train_sampler(dataset, ranks: Ranks, seed: int) -> DistributedSampler:
    """The shuffling of every run, one process or many: a permutation drawn from a generator
    seeded with seed + epoch, dealt to the ranks in turn."""
    return DistributedSampler(dataset, num_replicas=ranks.world, rank=ranks.rank, shuffle=True,
                              seed=seed)


def validation_share(dataset, ranks: Ranks):
    """Every rank-th item (no padding, so the reduced metrics count each image once)."""
    if not ranks.enabled:
        return dataset
    return Subset(dataset, share(list(range(len(dataset))), ranks))


def reduce_sum(values: torch.Tensor, ranks: Ranks) -> torch.Tensor:
    """Element-wise sum over ranks (on the CPU for gloo, on the device for NCCL)."""
    if not ranks.enabled:
        return values
    on_gpu = dist.get_backend() == "nccl"
    values = values.cuda() if on_gpu else values
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values.cpu()


def wrap(module: nn.Module, ranks: Ranks, device: torch.device) -> nn.Module:
    """DistributedDataParallel around the module that trains (the whole model, or the head
    when features are cached); gradients are averaged across ranks."""
    if not ranks.enabled or not any(p.requires_grad for p in module.parameters()):
        return module
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids)


def barrier(ranks: Ranks) -> None:
    """Wait for every rank, for up to WAIT_TIMEOUT (on gloo: no GPU is held while waiting)."""
    if ranks.enabled:
        dist.barrier(group=_waiting[0] if _waiting else None)


def share(items: list, ranks: Ranks) -> list:
    """This rank's part of work that every rank needs done once: every world-th item."""
    return items[ranks.rank::ranks.world] if ranks.enabled else items


def model_digest(model: nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def ranks_agree(model: nn.Module, ranks: Ranks) -> bool:
    """Whether every rank holds bit-identical weights and buffers."""
    if not ranks.enabled:
        return True
    digests: list[str | None] = [None] * ranks.world
    dist.all_gather_object(digests, model_digest(model))
    return len(set(digests)) == 1
