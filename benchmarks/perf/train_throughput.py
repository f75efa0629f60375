"""Training throughput: the project's loop vs a plain ``transformers.Trainer`` loop.

Same model (MLM, ``--preset``), same data (the real OPTIMADE SCOPE sample), same batch size,
same number of optimizer steps, both on this machine's CPU (or GPU), fp32. Counts the
non-padding tokens each loop trained on and prints tokens/s for both and the ratio.

``python benchmarks/perf/train_throughput.py [--preset small] [--steps 60] [--batch-size 128]``
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


def fresh_model(tokenizer, preset: str):
    import torch

    from cloud.model import CloudConfig, CloudForMaskedLM

    torch.manual_seed(0)
    return CloudForMaskedLM(CloudConfig.preset(preset, vocab_size=len(tokenizer),
                                               pad_token_id=tokenizer.pad_token_id))


def run_project_loop(texts, tokenizer, preset, steps, batch_size) -> tuple[int, float]:
    from cloud.train.config import TrainConfig
    from cloud.train.data import MLMCollator, ScopeDataset
    from cloud.train.loop import fit

    model = fresh_model(tokenizer, preset)
    ds = ScopeDataset(texts, tokenizer)
    collator = CountingCollator(MLMCollator(tokenizer))
    cfg = TrainConfig(epochs=1000, batch_size=batch_size, max_steps=steps, mixed_precision="no")
    start = time.perf_counter()
    fit(model, ds, None, collator, cfg, progress=False)
    return collator.tokens, time.perf_counter() - start


def run_hf_trainer(texts, tokenizer, preset, steps, batch_size) -> tuple[int, float]:
    from torch.utils.data import Dataset
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    enc = tokenizer(texts, truncation=True, max_length=tokenizer.model_max_length)

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
                                 disable_tqdm=True, dataloader_num_workers=0, seed=42)
        trainer = Trainer(model=model, args=args, train_dataset=Encoded(),
                          data_collator=collator)
        start = time.perf_counter()
        trainer.train()
        return collator.tokens, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python benchmarks/perf/train_throughput.py --preset small "
               "--steps 60",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--texts", type=int, default=10000)
    args = parser.parse_args()

    import torch

    from cloud.tokenizer import build_tokenizer

    tokenizer = build_tokenizer()
    texts = load_texts(args.texts)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else (
        f"CPU, {torch.get_num_threads()} threads")
    print(f"model {args.preset}, batch {args.batch_size}, {args.steps} steps, {device}, "
          f"load {os.getloadavg()[0]:.1f}")
    hf_tokens, hf_time = run_hf_trainer(texts, tokenizer, args.preset, args.steps, args.batch_size)
    ours_tokens, ours_time = run_project_loop(texts, tokenizer, args.preset, args.steps,
                                              args.batch_size)
    hf_rate, ours_rate = hf_tokens / hf_time, ours_tokens / ours_time
    print(f"transformers.Trainer: {hf_tokens:8d} tokens in {hf_time:6.1f} s  {hf_rate:8.0f} tokens/s")
    print(f"project loop:         {ours_tokens:8d} tokens in {ours_time:6.1f} s  {ours_rate:8.0f} tokens/s")
    print(f"ratio (project / Trainer): {ours_rate / hf_rate:.2f} (load now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
