"""The order in which a run sees its data: a fresh shuffle per epoch, sharded across processes.

The permutation of epoch e is a pure function of (seed, e), and a run can start part-way
through an epoch. That is what makes a resumed run see exactly the samples the
uninterrupted run would have seen, in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class ShuffledEpochs(Sampler[int]):
    """Indices of one process's shard of a shuffled epoch, from position ``start`` on.

    Like ``DistributedSampler``: the permutation is padded by wrapping around so every one
    of ``world_size`` processes gets ``ceil(n / world_size)`` indices.
    """

    def __init__(self, size: int, seed: int = 0, rank: int = 0, world_size: int = 1):
        self.size, self.seed, self.rank, self.world_size = size, seed, rank, world_size
        self.per_rank = math.ceil(size / world_size) if size else 0
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Shuffle for ``epoch`` and skip this shard's first ``start`` indices."""
        self.epoch, self.start = epoch, start

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(self.size, generator=generator).tolist()
        total = self.per_rank * self.world_size
        order += order[: total - len(order)]
        yield from order[self.rank : total : self.world_size][self.start :]

    def __len__(self) -> int:
        return max(0, self.per_rank - self.start)
