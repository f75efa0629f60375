"""The one training loop of the suite (MLM pretraining, regression and CLOUD-DEBYE
fine-tuning), on HF Accelerate: CPU, one GPU or ``accelerate launch --num_processes K``.

AdamW, linear warm-up then cosine decay, gradient clipping, optional head-only epochs
(encoder frozen), early stopping on a validation set, bf16/fp16 on GPUs. After every epoch
the full training state is saved (``<out>/checkpoint`` + ``trainer_state.json``): a run
started again with the same ``out_dir`` resumes after the last finished epoch and ends with
the same weights as an uninterrupted run. The best model (by validation score) is kept in
``<out>/best`` and loaded back at the end. Metrics per epoch go to ``<out>/metrics.csv``.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from cloud.fileio import write_json_atomic, write_text_atomic
from cloud.model.utils import encoder_parameters
from cloud.train.config import TrainConfig
from cloud.train.sampling import EpochBatchSampler, LengthSortedBatchSampler

STATE_FILE = "trainer_state.json"
SCORES = ("loss", "mae")


@dataclass
class FitResult:
    history: list[dict] = field(default_factory=list)
    best_epoch: int = -1
    best_score: float = math.inf
    resumed_from_epoch: int | None = None
    steps: int = 0
    train_tokens: int = 0
    wall_time: float = 0.0


def make_accelerator(cfg: TrainConfig, split_batches: bool = False):
    """An ``Accelerator`` with the precision the hardware supports. ``split_batches``: the
    configured batch is the global one, each of K processes trains on a K-th of it (so a
    data-parallel fine-tune takes the same steps on the same batches as one process)."""
    from accelerate import Accelerator, DataLoaderConfiguration

    gpu = torch.cuda.is_available()
    precision = cfg.mixed_precision
    if precision == "auto":
        precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if gpu else "no"
    # cpu=True without a GPU: several processes started by `accelerate launch --multi_gpu`
    # or torchrun then form a gloo (MULTI_CPU) group instead of running independently.
    return Accelerator(mixed_precision=precision, cpu=not gpu,
                       dataloader_config=DataLoaderConfiguration(split_batches=split_batches))


def _seed_epoch(cfg: TrainConfig, epoch: int, rank: int, collators) -> None:
    seed = (cfg.seed * 1_000_003 + epoch * 1009 + rank) % (2**31)
    torch.manual_seed(seed)
    np.random.seed(seed)
    for c in collators:
        if hasattr(c, "reseed"):
            c.reseed(seed + 17)


def _loader(ds, collator, batch_size, cfg: TrainConfig, shuffle: bool):
    lengths = ds.lengths if hasattr(ds, "lengths") else [len(x) for x in ds.input_ids]
    sampler = EpochBatchSampler(lengths, batch_size, shuffle=shuffle,
                                group_by_length=cfg.group_by_length, seed=cfg.seed)
    return DataLoader(ds, batch_sampler=sampler, collate_fn=collator), sampler


def _optimizer(model, cfg: TrainConfig):
    if cfg.layer_lr_decay is not None:  # the paper's optional layer-wise learning rates
        from cloud.train.schedule import layerwise_groups

        return torch.optim.AdamW(layerwise_groups(model, cfg), lr=cfg.lr)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 or "LayerNorm" in name else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    fused = torch.cuda.is_available() if cfg.fused_adamw is None else cfg.fused_adamw
    return torch.optim.AdamW(groups, lr=cfg.lr, fused=fused or None)


def evaluate(model, loader, accelerator) -> dict[str, float]:
    """Mean loss and, for models with ``predictions``, MAE in the targets' original units."""
    model.eval()
    losses, preds, labels = [], [], []
    with torch.no_grad():
        for batch in loader:
            out = model(**batch)
            n = batch["input_ids"].shape[0]
            losses.append(accelerator.gather_for_metrics(out.loss.detach().float().repeat(n)))
            if getattr(out, "predictions", None) is not None and "labels" in batch:
                preds.append(accelerator.gather_for_metrics(out.predictions.float()))
                labels.append(accelerator.gather_for_metrics(batch["labels"].float()))
    metrics = {"loss": float(torch.cat(losses).mean())} if losses else {"loss": math.nan}
    if preds:
        metrics["mae"] = float((torch.cat(preds) - torch.cat(labels)).abs().mean())
    return metrics


def predict(model, ds, collator, batch_size: int = 256, accelerator=None,
            sort_by_length: bool = True) -> dict[str, np.ndarray]:
    """Model outputs (``predictions``, and ``theta`` for CLOUD-DEBYE) for every row, in order.

    ``sort_by_length``: batches of rows of similar length (less padding), outputs put back in
    the dataset's order."""
    lengths = ds.lengths if hasattr(ds, "lengths") else (
        [len(x) for x in ds.input_ids] if hasattr(ds, "input_ids") else [0] * len(ds))
    sampler = LengthSortedBatchSampler(lengths, batch_size, sort=sort_by_length)
    order = sampler.order
    loader = DataLoader(ds, batch_sampler=sampler, collate_fn=collator)
    if accelerator is not None:
        model, loader = accelerator.prepare(model, loader)
    model.eval()
    outputs: dict[str, list] = {}
    with torch.no_grad():
        for batch in loader:
            batch.pop("labels", None)
            out = model(**batch)
            for key in ("predictions", "theta"):
                value = getattr(out, key, None)
                if value is not None:
                    if accelerator is not None:
                        value = accelerator.gather_for_metrics(value)
                    outputs.setdefault(key, []).append(value.float().cpu().numpy())
    restored = {}
    for key, parts in outputs.items():
        values = np.concatenate(parts)
        restored[key] = np.empty_like(values)
        restored[key][order] = values
    return restored


def _load_state(out_dir: Path | None) -> dict | None:
    if out_dir is None or not (out_dir / STATE_FILE).exists():
        return None
    return json.loads((out_dir / STATE_FILE).read_text())


def _write_metrics(out_dir: Path, history: list[dict]) -> None:
    keys = list(dict.fromkeys(k for row in history for k in row))
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=keys)
    writer.writeheader()
    writer.writerows(history)
    write_text_atomic(out_dir / "metrics.csv", buffer.getvalue())


def fit(
    model,
    train_ds,
    val_ds,
    collator,
    cfg: TrainConfig,
    out_dir: str | Path | None = None,
    score: str = "loss",
    eval_collator=None,
    accelerator=None,
    progress: bool = True,
    desc: str = "train",
) -> FitResult:
    """Train ``model`` in place; on return it holds the best validation weights."""
    from tqdm.auto import tqdm

    from cloud.train.schedule import make_scheduler

    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}")
    if not progress:  # also silence transformers' own bars (saving/loading weights)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    accelerator = accelerator or make_accelerator(cfg)
    out_dir = Path(out_dir) if out_dir is not None else None
    state = _load_state(out_dir)
    if state and state.get("finished") and not (out_dir / "best").exists():
        state = None  # the weights of that finished run are gone: train again
    elif state and not state.get("finished") and not (out_dir / "checkpoint").exists():
        state = None
    result = FitResult()
    if state and state.get("finished"):
        _restore_best(model, out_dir, None)
        result.__dict__.update({k: state[k] for k in ("history", "best_epoch", "best_score",
                                                      "steps", "train_tokens", "wall_time")})
        result.resumed_from_epoch = state["epoch"]
        return result

    eval_collator = eval_collator or collator
    train_dl, sampler = _loader(train_ds, collator, cfg.batch_size, cfg, shuffle=True)
    val_dl = None
    if val_ds is not None and len(val_ds):
        val_dl, _ = _loader(val_ds, eval_collator, cfg.eval_batch_size, cfg, shuffle=False)
    total_steps = len(train_dl) * cfg.epochs
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps * accelerator.num_processes)
    optimizer = _optimizer(model, cfg)
    scheduler = make_scheduler(optimizer, cfg, len(train_dl), total_steps)
    encoder_ids = {id(p) for p in encoder_parameters(model)}
    model, optimizer, train_dl, scheduler = accelerator.prepare(
        model, optimizer, train_dl, scheduler)
    if val_dl is not None:
        val_dl = accelerator.prepare(val_dl)
    encoder = [p for p in accelerator.unwrap_model(model).parameters() if id(p) in encoder_ids]

    start_epoch, best_state = 0, None
    if state:
        accelerator.load_state(str(out_dir / "checkpoint"))
        start_epoch = state["epoch"] + 1
        for key in ("history", "best_epoch", "best_score", "steps", "train_tokens", "wall_time"):
            setattr(result, key, state[key])
        result.resumed_from_epoch = state["epoch"]
    patience_left = cfg.early_stopping_patience
    if state and patience_left is not None:
        patience_left = state.get("patience_left", patience_left)

    main = accelerator.is_main_process
    fit_start = time.perf_counter()
    for epoch in range(start_epoch, cfg.epochs):
        t0 = time.perf_counter()
        _seed_epoch(cfg, epoch, accelerator.process_index, (collator, eval_collator))
        sampler.set_epoch(epoch)
        if hasattr(train_dl, "set_epoch"):  # accelerate re-sets the sampler from its own counter
            train_dl.set_epoch(epoch)
        frozen = epoch < cfg.freeze_encoder_epochs
        model.train()
        loss_sum, n_batches, tokens = 0.0, 0, 0
        bar = tqdm(train_dl, desc=f"{desc} epoch {epoch + 1}/{cfg.epochs}", leave=False,
                   disable=not (progress and main))
        for batch in bar:
            out = model(**batch)
            accelerator.backward(out.loss)
            if frozen:
                for p in encoder:
                    p.grad = None
            if cfg.grad_clip:
                accelerator.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            # Sums stay on the device (no host sync per step); float64 like Python floats.
            loss_sum = loss_sum + out.loss.detach().double()
            n_batches += 1
            tokens = tokens + batch["attention_mask"].sum()
            result.steps += 1
            if not bar.disable and n_batches % 10 == 1:
                bar.set_postfix(loss=f"{float(loss_sum) / n_batches:.4f}")
            if cfg.max_steps and result.steps >= cfg.max_steps:
                break
            if cfg.max_seconds and time.perf_counter() - fit_start >= cfg.max_seconds:
                break
        loss_sum, tokens = float(loss_sum), int(tokens) * accelerator.num_processes
        train_time = time.perf_counter() - t0
        row = {"epoch": epoch, "train_loss": loss_sum / max(n_batches, 1),
               "lr": scheduler.get_last_lr()[0], "frozen_encoder": frozen,
               "train_tokens_per_s": tokens / max(train_time, 1e-9)}
        if val_dl is not None:
            _seed_epoch(cfg, 0, accelerator.process_index, (eval_collator,))  # fixed masks
            row.update({f"val_{k}": v for k, v in evaluate(model, val_dl, accelerator).items()})
        row["epoch_time_s"] = time.perf_counter() - t0
        result.history.append(row)
        result.train_tokens += tokens
        result.wall_time += row["epoch_time_s"]
        current = row.get(f"val_{score}", row["train_loss"])
        improved = current < result.best_score
        if improved:
            result.best_score, result.best_epoch = float(current), epoch
            if patience_left is not None:
                patience_left = cfg.early_stopping_patience
            best_state = _save_best(accelerator, model, out_dir)
        elif patience_left is not None:
            patience_left -= 1
        stop = (patience_left is not None and patience_left <= 0) or (
            cfg.max_steps and result.steps >= cfg.max_steps) or (
            cfg.max_seconds and time.perf_counter() - fit_start >= cfg.max_seconds)
        last = stop or epoch == cfg.epochs - 1
        if out_dir is not None and (last or (epoch + 1) % cfg.checkpoint_every == 0):
            accelerator.wait_for_everyone()
            accelerator.save_state(str(out_dir / "checkpoint"))
            if main:
                _write_metrics(out_dir, result.history)
                write_json_atomic(out_dir / STATE_FILE, {
                    "epoch": epoch, "finished": bool(last), "patience_left": patience_left,
                    "history": result.history, "best_epoch": result.best_epoch,
                    "best_score": result.best_score, "steps": result.steps,
                    "train_tokens": result.train_tokens, "wall_time": result.wall_time,
                    "config": cfg.to_dict()})
            accelerator.wait_for_everyone()
        if stop:
            break
    _restore_best(accelerator.unwrap_model(model), out_dir, best_state)
    accelerator.wait_for_everyone()  # every process has read best/ before anyone moves on
    return result


def _save_best(accelerator, model, out_dir: Path | None):
    """Best weights: to ``<out>/best`` (main process) or, without an out_dir, in memory."""
    unwrapped = accelerator.unwrap_model(model)
    if out_dir is None:
        return {k: v.detach().cpu().clone() for k, v in unwrapped.state_dict().items()}
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        unwrapped.save_pretrained(out_dir / "best")
    accelerator.wait_for_everyone()
    return None


def _restore_best(model, out_dir: Path | None, best_state) -> None:
    if best_state is not None:
        model.load_state_dict(best_state)
        return
    if out_dir is not None and (out_dir / "best").exists():
        best = type(model).from_pretrained(out_dir / "best")
        model.load_state_dict(best.state_dict())
        model.config = copy.deepcopy(best.config)
