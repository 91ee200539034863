"""One process or many: the few collective operations the language-model pipeline needs.

``python -m collapse_utils.llm`` runs in one process, or in several under
``torchrun --nproc-per-node P`` or ``accelerate launch --num_processes P``
(both set ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``). :func:`current` returns
the :class:`World` of this process: its rank, the number of processes, its
device, and the collectives (a barrier, a sum of gradients, a gather of Python
objects), over ``torch.distributed`` (NCCL on GPUs, gloo on CPUs) when there
are several processes and no-ops when there is one.

Training (:func:`collapse_utils.llm.model.train`) uses these collectives
directly instead of ``accelerate.Accelerator``: an ``Accelerator`` keeps
process-wide state, so a second one with another mixed precision in the same
process raised ``AcceleratorState has already been initialized``. Here the
precision is an argument of each call, and nothing global is kept but the
process group, which is created once per process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class World:
    """This process' place among the processes of one run."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Only the main process (rank 0) prints and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def barrier(self) -> None:
        """Wait until every process gets here (nothing with one process)."""
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()

    def all_reduce_(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all processes, in place (nothing with one process)."""
        if self.distributed:
            import torch.distributed as dist

            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def gather_object(self, obj: Any) -> list[Any]:
        """Every process' ``obj``, in rank order, on every process."""
        if not self.distributed:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.size
        dist.all_gather_object(out, obj)
        return out

    def broadcast_object(self, obj: Any) -> Any:
        """The main process' ``obj`` on every process."""
        if not self.distributed:
            return obj
        import torch.distributed as dist

        box = [obj if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def _device(device: str | torch.device | None, local_rank: int) -> torch.device:
    if device is not None and torch.device(device).type == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available() and (device is None or torch.device(device).type == "cuda"):
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if device is not None and torch.device(device).type == "cuda":
        raise ValueError("device is 'cuda' but torch sees no CUDA device")
    return torch.device("cpu")


def current(device: str | torch.device | None = None) -> World:
    """The :class:`World` of this process; creates the process group on first use.

    ``device`` is ``"cpu"``, ``"cuda"`` or ``None`` (a GPU when there is one).
    With several processes every process must ask for the same kind of device:
    the process group uses NCCL for GPUs and gloo for CPUs.
    """
    size = int(os.environ.get("WORLD_SIZE", "1") or 1)
    rank = int(os.environ.get("RANK", "0") or 0)
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)) or 0)
    dev = _device(device, local_rank)
    if size > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            backend = "nccl" if dev.type == "cuda" else "gloo"
            dist.init_process_group(backend=backend, rank=rank, world_size=size)
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
    return World(rank=rank, size=size, local_rank=local_rank, device=dev)
