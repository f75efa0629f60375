"""Training hyperparameters, one dataclass for pretraining and fine-tuning alike."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 64
    eval_batch_size: int = 256
    lr: float = 1e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.05  # share of all optimizer steps spent in linear warm-up
    warmup_epochs: float | None = None  # warm-up in epochs instead (the paper's recipe: 10)
    min_lr: float = 0.0  # the cosine ends here (the paper's recipe: 1e-7)
    layer_lr_decay: float | None = None  # lr * decay ** (layers above), e.g. 0.9; None: off
    grad_clip: float = 1.0
    freeze_encoder_epochs: int = 0  # head-only training for the first epochs
    early_stopping_patience: int | None = None  # epochs without improvement; None = off
    val_fraction: float = 0.1  # validation carved from the training fold, never the test fold
    seed: int = 42
    mixed_precision: str = "auto"  # auto: bf16 (or fp16) on a GPU, no on CPU; "bf16" also on CPU
    max_length: int = 64
    mlm_probability: float = 0.15
    max_steps: int | None = None  # stop after this many optimizer steps (smoke runs)
    group_by_length: bool = True  # batches of similar length: less padding
    fused_adamw: bool | None = None  # None: fused AdamW kernel on GPUs, the for-each one on CPU
    max_seconds: float | None = None  # stop training after this wall time (time-boxed runs)
    checkpoint_every: int = 1  # epochs between full-state checkpoints (the last one always)

    @classmethod
    def from_dict(cls, d: dict | None) -> TrainConfig:
        d = dict(d or {})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown training options: {sorted(unknown)}")
        return cls(**d)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
