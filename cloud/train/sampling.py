"""Batch sampler: shuffled, optionally grouped by length, reproducible per epoch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

MEGABATCH = 50  # batches per sorted pool when grouping by length


class EpochBatchSampler(Sampler[list[int]]):
    """Yields lists of indices. With ``group_by_length``, a shuffled pool of ``MEGABATCH``
    batches is sorted by length before being cut into batches (less padding), and the batch
    order is shuffled again. The order depends only on ``(seed, epoch)``."""

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        shuffle: bool = True,
        group_by_length: bool = False,
        seed: int = 0,
        drop_last: bool = False,
    ):
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.group_by_length = group_by_length
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> list[np.ndarray]:
        n = len(self.lengths)
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        if self.group_by_length:
            pool = self.batch_size * MEGABATCH
            order = np.concatenate([
                chunk[np.argsort(-self.lengths[chunk], kind="stable")]
                for chunk in np.array_split(order, max(1, -(-n // pool)))
            ]) if n else order
        batches = [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        if self.shuffle and self.group_by_length:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._batches():
            yield batch.tolist()

    def __len__(self) -> int:
        n = len(self.lengths)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class LengthSortedBatchSampler(Sampler[list[int]]):
    """Prediction batches: rows ordered by length (stable), cut into ``batch_size`` pieces;
    ``order`` maps the i-th row produced back to its dataset index."""

    def __init__(self, lengths: Sequence[int], batch_size: int, sort: bool = True):
        self.batch_size = batch_size
        n = len(lengths)
        self.order = np.argsort(np.asarray(lengths), kind="stable") if sort else np.arange(n)

    def __iter__(self) -> Iterator[list[int]]:
        for i in range(0, len(self.order), self.batch_size):
            yield self.order[i : i + self.batch_size].tolist()

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)
