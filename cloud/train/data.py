"""Datasets and collators: SCOPE strings -> padded tensor batches.

Batches are padded to their own longest sequence (dynamic padding; SCOPE strings average
~31 tokens against the 64 positions of the model). Masking for MLM uses its own seeded
generator so that a resumed run masks exactly as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

MASK_PROBABILITY = 0.15
MASK_SPLIT = (0.8, 0.1, 0.1)  # [MASK], random token, unchanged


class ScopeDataset(Dataset):
    """Tokenized SCOPE strings with optional targets and per-row extras (e.g. ``n_atoms``)."""

    def __init__(
        self,
        texts: Sequence[str],
        tokenizer,
        targets: Sequence[float] | np.ndarray | None = None,
        extras: dict[str, Sequence[float]] | None = None,
        max_length: int | None = None,
    ):
        max_length = max_length or tokenizer.model_max_length
        enc = tokenizer(list(texts), truncation=True, max_length=max_length)
        self.input_ids = [np.asarray(ids, dtype=np.int64) for ids in enc["input_ids"]]
        self.targets = None if targets is None else np.asarray(targets, dtype=np.float32)
        self.extras = {k: np.asarray(v, dtype=np.float32) for k, v in (extras or {}).items()}
        for name, arr in [("targets", self.targets), *self.extras.items()]:
            if arr is not None and len(arr) != len(self.input_ids):
                raise ValueError(f"{name} has {len(arr)} rows, texts have {len(self.input_ids)}")

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, i: int) -> dict:
        item = {"input_ids": self.input_ids[i]}
        if self.targets is not None:
            item["labels"] = self.targets[i]
        for k, v in self.extras.items():
            item[k] = v[i]
        return item


def pad_batch(items: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    """Stack a list of dataset items, padding ``input_ids`` to the longest in the batch."""
    longest = max(len(it["input_ids"]) for it in items)
    ids = np.full((len(items), longest), pad_id, dtype=np.int64)
    for row, it in enumerate(items):
        ids[row, : len(it["input_ids"])] = it["input_ids"]
    batch = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(ids != pad_id)}
    batch["attention_mask"] = batch["attention_mask"].long()
    for key in items[0]:
        if key != "input_ids":
            batch[key] = torch.tensor(np.array([it[key] for it in items]))
    return batch


@dataclass
class RegressionCollator:
    pad_id: int

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        return pad_batch(items, self.pad_id)


class MLMCollator:
    """BERT masking: 15% of non-special tokens; of those 80% [MASK], 10% random, 10% kept.

    Random replacements are drawn from the non-special vocabulary. ``reseed`` makes the
    masking a function of (seed, epoch, process) only.
    """

    def __init__(self, tokenizer, probability: float = MASK_PROBABILITY, seed: int = 0):
        self.pad_id = tokenizer.pad_token_id
        self.mask_id = tokenizer.mask_token_id
        self.special_ids = torch.tensor(sorted(set(tokenizer.all_special_ids)))
        vocab = torch.arange(len(tokenizer))
        self.regular_ids = vocab[~torch.isin(vocab, self.special_ids)]
        self.probability = probability
        self.generator = torch.Generator().manual_seed(seed)

    def reseed(self, seed: int) -> None:
        self.generator.manual_seed(seed)

    def mask(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g = self.generator
        labels = input_ids.clone()
        candidates = ~torch.isin(input_ids, self.special_ids)
        chosen = (torch.rand(input_ids.shape, generator=g) < self.probability) & candidates
        labels[~chosen] = -100
        ids = input_ids.clone()
        roll = torch.rand(input_ids.shape, generator=g)
        to_mask = chosen & (roll < MASK_SPLIT[0])
        to_random = chosen & (roll >= MASK_SPLIT[0]) & (roll < MASK_SPLIT[0] + MASK_SPLIT[1])
        ids[to_mask] = self.mask_id
        picks = torch.randint(len(self.regular_ids), input_ids.shape, generator=g)
        ids[to_random] = self.regular_ids[picks[to_random]]
        return ids, labels

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        batch = pad_batch([{"input_ids": it["input_ids"]} for it in items], self.pad_id)
        batch["input_ids"], batch["labels"] = self.mask(batch["input_ids"])
        return batch
