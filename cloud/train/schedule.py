"""Learning-rate schedules and layer-wise learning rates of the training loop.

The default (``warmup_epochs`` unset, ``min_lr`` 0) is transformers'
``get_cosine_schedule_with_warmup`` over ``warmup_ratio`` of the steps. The paper's
fine-tuning recipe instead warms up linearly over a number of epochs, then follows a
half-cycle cosine per step down to ``min_lr`` (their ``adjust_learning_rate``: the epoch is
fractional, ``step / steps_per_epoch``), and may give layer *l* of *L* the learning rate
``lr * decay ** (L + 1 - l)`` (embeddings *l* = 0, the head and anything after the encoder
full ``lr``).
"""

from __future__ import annotations

import math
import re

import torch

_LAYER = re.compile(r"encoder\.layer\.(\d+)\.")


def make_scheduler(optimizer, cfg, steps_per_epoch: int, total_steps: int):
    """The scheduler of ``cfg`` (a ``TrainConfig``) for ``total_steps`` optimizer steps."""
    if cfg.warmup_epochs is None and not cfg.min_lr:
        from transformers import get_cosine_schedule_with_warmup

        return get_cosine_schedule_with_warmup(
            optimizer, int(cfg.warmup_ratio * total_steps), max(total_steps, 1))
    warmup = (cfg.warmup_epochs * steps_per_epoch if cfg.warmup_epochs is not None
              else cfg.warmup_ratio * total_steps)
    floor = cfg.min_lr / cfg.lr

    def factor(step: int) -> float:
        if step < warmup:
            return step / warmup
        progress = min((step - warmup) / max(total_steps - warmup, 1), 1.0)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def layer_index(name: str, num_layers: int) -> int:
    """0 for the embeddings, ``l + 1`` for encoder layer ``l``, ``num_layers + 1`` else."""
    if name.startswith("bert.embeddings") or name.startswith("element_features"):
        return 0
    match = _LAYER.search(name)
    return int(match.group(1)) + 1 if match else num_layers + 1


def layerwise_groups(model, cfg) -> list[dict]:
    """AdamW parameter groups with layer-wise learning rates (``cfg.layer_lr_decay``); no
    weight decay on biases and LayerNorm, as everywhere in the loop."""
    num_layers = int(model.config.num_hidden_layers)
    groups: dict[tuple[int, bool], dict] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        layer = layer_index(name, num_layers)
        no_decay = p.ndim < 2 or "LayerNorm" in name
        group = groups.setdefault((layer, no_decay), {
            "params": [], "weight_decay": 0.0 if no_decay else cfg.weight_decay,
            "lr": cfg.lr * cfg.layer_lr_decay ** (num_layers + 1 - layer)})
        group["params"].append(p)
    return [groups[k] for k in sorted(groups)]


__all__ = ["layer_index", "layerwise_groups", "make_scheduler"]
