"""Training and inference throughput: the project's paths vs the paper's and ``Trainer``.

In one process, on the same real strings (the OPTIMADE SCOPE sample), the same model size,
batch size and number of steps:

* fine-tuning: the project's loop (``cloud.train.loop.fit``: length-grouped batches,
  dynamic padding, pre-tokenised tensors, SDPA) vs the authors' path (HF ``BertModel`` +
  their head, every sequence padded to 64, a plain loop; ``benchmarks/perf/paper_path.py``);
* inference: ``cloud.train.loop.predict`` vs the authors' prediction loop (padded to 64);
* MLM: the project's loop vs ``transformers.Trainer`` with dynamic padding, and vs
  ``Trainer`` on sequences padded to 64 as the authors pretrained.

Regression targets are synthetic (the string's token count): speed only. Throughput is
strings/s (fine-tuning, inference) or non-padding tokens/s (MLM); peak memory is the
process's peak RSS during each side (CPU; the clear_refs reset) or peak CUDA memory. On a
GPU the script uses it with bf16 autocast on every side.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import tempfile
import time
from pathlib import Path

import cloud  # noqa: F401  (sets the OpenMP wait policy before torch loads)

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("CLOUD_DATA_DIR", REPO.parent / "shared" / "data"))


class CountingCollator:
    """Wraps a collator and counts the non-padding tokens it hands out."""

    def __init__(self, inner):
        self.inner, self.tokens = inner, 0

    def __call__(self, items):
        batch = self.inner(items)
        self.tokens += int(batch["attention_mask"].sum())
        return batch


def load_texts(n: int) -> list[str]:
    with gzip.open(DATA / "scope_reference/pretrain_optimade_10k.csv.gz", "rt") as fh:
        return [r["scope"] for _, r in zip(range(n), csv.DictReader(fh), strict=False)]


def reset_peak() -> None:
    """Start a new peak-memory window (CUDA stats, or the kernel's peak RSS of this process)."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_mb() -> float:
    """Peak memory since :func:`reset_peak`: CUDA allocated, or VmHWM (peak RSS) on CPU."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() / 2**20
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cloud_config(tokenizer, preset: str):
    from cloud.model import CloudConfig

    return CloudConfig.preset(preset, vocab_size=len(tokenizer),
                              pad_token_id=tokenizer.pad_token_id, max_position_embeddings=64)


def fresh_model(tokenizer, preset: str, kind: str = "mlm"):
    import torch

    from cloud.model import CloudForMaskedLM, CloudForRegression

    torch.manual_seed(0)
    cls = CloudForMaskedLM if kind == "mlm" else CloudForRegression
    return cls(cloud_config(tokenizer, preset))


def train_config(batch_size: int, steps: int):
    from cloud.train.config import TrainConfig

    return TrainConfig(epochs=1000, batch_size=batch_size, max_steps=steps, val_fraction=0.0)


def synthetic_targets(texts, tokenizer):
    import numpy as np

    return np.asarray([len(ids) for ids in tokenizer(texts)["input_ids"]], dtype=np.float32)


def timed(fn):
    """(result of fn, seconds, peak MB) with device work finished before the clock stops."""
    import torch

    reset_peak()
    start = time.perf_counter()
    value = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return value, time.perf_counter() - start, peak_mb()


# --- MLM ------------------------------------------------------------------------------------

def mlm_project(texts, tokenizer, preset, steps, batch_size):
    from cloud.train.data import MLMCollator, ScopeDataset
    from cloud.train.loop import fit

    model = fresh_model(tokenizer, preset)
    ds = ScopeDataset(texts, tokenizer)
    collator = CountingCollator(MLMCollator(tokenizer))
    cfg = train_config(batch_size, steps)
    _, seconds, peak = timed(lambda: fit(model, ds, None, collator, cfg, progress=False))
    return collator.tokens, seconds, peak


def mlm_trainer(texts, tokenizer, preset, steps, batch_size, pad_to: int | None = None):
    import torch
    from torch.utils.data import Dataset
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    padding = {"padding": "max_length", "max_length": pad_to} if pad_to else {
        "max_length": tokenizer.model_max_length}
    enc = tokenizer(texts, truncation=True, **padding)

    class Encoded(Dataset):
        def __len__(self):
            return len(texts)

        def __getitem__(self, i):
            return {"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i]}

    model = fresh_model(tokenizer, preset)
    collator = CountingCollator(DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15))
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=batch_size,
                                 max_steps=steps, learning_rate=1e-4, report_to=[],
                                 save_strategy="no", logging_strategy="no",
                                 disable_tqdm=True, dataloader_num_workers=0, seed=42,
                                 bf16=torch.cuda.is_available())
        trainer = Trainer(model=model, args=args, train_dataset=Encoded(),
                          data_collator=collator)
        _, seconds, peak = timed(trainer.train)
    return collator.tokens, seconds, peak


# --- fine-tuning and inference ------------------------------------------------------------------

def finetune_project(texts, targets, tokenizer, preset, steps, batch_size):
    from cloud.train.data import RegressionCollator, ScopeDataset
    from cloud.train.loop import fit

    model = fresh_model(tokenizer, preset, kind="regression")
    model.config.target_mean, model.config.target_std = float(targets.mean()), float(targets.std())
    ds = ScopeDataset(texts, tokenizer, targets)
    cfg = train_config(batch_size, steps)
    collator = RegressionCollator(tokenizer.pad_token_id)
    result, seconds, peak = timed(lambda: fit(model, ds, None, collator, cfg, progress=False))
    return result.steps * batch_size, seconds, peak


def paper_model(tokenizer, preset):
    import torch

    from benchmarks.perf.paper_path import PaperRegressor

    torch.manual_seed(0)
    return PaperRegressor(cloud_config(tokenizer, preset).to_bert_config()).to(device())


def finetune_paper(texts, targets, tokenizer, preset, steps, batch_size):
    import torch

    from benchmarks.perf.paper_path import padded_tensors, train_steps

    model = paper_model(tokenizer, preset)
    ds = padded_tensors(texts, tokenizer, targets)
    dtype = torch.bfloat16 if device() == "cuda" else None
    return timed(lambda: train_steps(model, ds, batch_size, steps, device=device(), dtype=dtype))


def inference_project(texts, tokenizer, preset, n, batch_size):
    from cloud.train.data import RegressionCollator, ScopeDataset
    from cloud.train.loop import make_accelerator, predict

    model = fresh_model(tokenizer, preset, kind="regression")
    ds = ScopeDataset(texts[:n], tokenizer)
    accelerator = make_accelerator(train_config(batch_size, 1)) if device() == "cuda" else None
    collator = RegressionCollator(tokenizer.pad_token_id)
    out, seconds, peak = timed(lambda: predict(model, ds, collator, batch_size, accelerator))
    return len(out["predictions"]), seconds, peak


def inference_paper(texts, tokenizer, preset, n, batch_size):
    import torch

    from benchmarks.perf.paper_path import padded_tensors, predict

    model = paper_model(tokenizer, preset)
    ds = padded_tensors(texts[:n], tokenizer)
    dtype = torch.bfloat16 if device() == "cuda" else None
    out, seconds, peak = timed(lambda: predict(model, ds, batch_size, device(), dtype))
    return len(out), seconds, peak


def rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def line(kind: str, unit: str, ours, theirs, theirs_name: str) -> str:
    ours_rate, theirs_rate = ours[0] / ours[1], theirs[0] / theirs[1]
    return (f"{kind}: project {rate(ours_rate)} {unit}/s (peak {ours[2]:,.0f} MB) vs "
            f"{theirs_name} {rate(theirs_rate)} {unit}/s (peak {theirs[2]:,.0f} MB): "
            f"{ours_rate / theirs_rate:.2f}x  [load {os.getloadavg()[0]:.1f}]")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python benchmarks/perf/train_throughput.py\n"
               "  python benchmarks/perf/train_throughput.py --preset base --batch-size 512",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="small", help="model size (base: the paper's 12x768)")
    parser.add_argument("--steps", type=int, default=10, help="optimizer steps per training side")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--texts", type=int, default=10000)
    parser.add_argument("--only", nargs="*", choices=["fine-tuning", "inference", "MLM"],
                        default=["fine-tuning", "inference", "MLM"])
    args = parser.parse_args(argv)

    import torch

    from cloud.tokenizer import build_tokenizer

    tokenizer = build_tokenizer()
    texts = load_texts(args.texts)
    where = torch.cuda.get_device_name(0) + ", bf16" if device() == "cuda" else (
        f"CPU, {torch.get_num_threads()} threads, fp32")
    print(f"model {args.preset}, batch {args.batch_size}, {args.steps} steps, {where}, "
          f"torch {torch.__version__}, load {os.getloadavg()[0]:.1f}", flush=True)
    common = (tokenizer, args.preset)
    if "fine-tuning" in args.only:
        targets = synthetic_targets(texts, tokenizer)
        theirs = finetune_paper(texts, targets, *common, args.steps, args.batch_size)
        ours = finetune_project(texts, targets, *common, args.steps, args.batch_size)
        print(line("fine-tuning", "strings", ours, theirs, "paper path (pad 64)"), flush=True)
    if "inference" in args.only:
        n = args.steps * args.batch_size * 2
        theirs = inference_paper(texts, *common, n, args.batch_size)
        ours = inference_project(texts, *common, n, args.batch_size)
        print(line("inference", "strings", ours, theirs, "paper path (pad 64)"), flush=True)
    if "MLM" in args.only:
        theirs = mlm_trainer(texts, *common, args.steps, args.batch_size)
        ours = mlm_project(texts, *common, args.steps, args.batch_size)
        print(line("MLM", "tokens", ours, theirs, "Trainer (dynamic padding)"), flush=True)
        theirs = mlm_trainer(texts, *common, args.steps, args.batch_size, pad_to=64)
        print(line("MLM", "tokens", ours, theirs, "Trainer (padded to 64)"), flush=True)


if __name__ == "__main__":
    main()
