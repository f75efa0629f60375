"""Tokenisation + collation throughput: the project's path vs a plain per-string loop.

Both turn the same real SCOPE strings (the OPTIMADE sample) into masked-LM batches of the
same size, side by side in one process:

- project: ``ScopeDataset`` (one call of the fast tokenizer over all strings) and
  ``MLMCollator`` (numpy padding to the batch's longest row, masking with torch);
- plain: ``tokenizer(text)`` one string at a time in a Python loop and
  ``transformers.DataCollatorForLanguageModeling`` (``tokenizer.pad`` + masking).

Prints strings/s of each step and of the whole, and the ratio project / plain; checks that
both paths hand out the same number of non-padding tokens.

``python benchmarks/perf/tokenize_collate.py [--texts 10000] [--batch-size 128] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cloud  # noqa: F401  (sets the OpenMP wait policy before torch loads)

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `python benchmarks/perf/...` from a plain checkout
    sys.path.insert(0, str(REPO))


def batches(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def project_path(texts, tokenizer, batch_size) -> tuple[float, float, int]:
    from cloud.train.data import MLMCollator, ScopeDataset

    t0 = time.perf_counter()
    ds = ScopeDataset(texts, tokenizer)
    t1 = time.perf_counter()
    collator = MLMCollator(tokenizer, seed=0)
    tokens = 0
    for idx in batches(list(range(len(ds))), batch_size):
        tokens += int(collator([ds[i] for i in idx])["attention_mask"].sum())
    return t1 - t0, time.perf_counter() - t1, tokens


def plain_path(texts, tokenizer, batch_size) -> tuple[float, float, int]:
    import torch
    from transformers import DataCollatorForLanguageModeling

    t0 = time.perf_counter()
    encoded = []
    for text in texts:
        enc = tokenizer(text, truncation=True, max_length=tokenizer.model_max_length)
        encoded.append({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]})
    t1 = time.perf_counter()
    torch.manual_seed(0)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15,
                                               return_tensors="pt")
    tokens = 0
    for chunk in batches(encoded, batch_size):
        tokens += int(collator(chunk)["attention_mask"].sum())
    return t1 - t0, time.perf_counter() - t1, tokens


def best_of(fn, repeats, *args):
    """The fastest of ``repeats`` runs (the machine is shared: less noise than a mean)."""
    runs = [fn(*args) for _ in range(repeats)]
    return min(runs, key=lambda r: r[0] + r[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python benchmarks/perf/tokenize_collate.py --texts 10000 "
               "--batch-size 128",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from benchmarks.perf.train_throughput import load_texts
    from cloud.tokenizer import build_tokenizer

    tokenizer = build_tokenizer()
    texts = load_texts(args.texts)
    n = len(texts)
    load = os.getloadavg()[0]
    plain = best_of(plain_path, args.repeats, texts, tokenizer, args.batch_size)
    ours = best_of(project_path, args.repeats, texts, tokenizer, args.batch_size)
    assert ours[2] == plain[2], f"token counts differ: {ours[2]} vs {plain[2]}"
    print(f"{n} SCOPE strings, batch {args.batch_size}, best of {args.repeats}, "
          f"{ours[2]} tokens, load {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"{'':34s}{'tokenize':>12s}{'collate':>12s}{'total':>12s}  strings/s")
    for name, (tok, col, _) in (("plain loop + DataCollatorForLM", plain),
                                ("ScopeDataset + MLMCollator", ours)):
        print(f"{name:34s}{tok:11.3f}s{col:11.3f}s{tok + col:11.3f}s  {n / (tok + col):9.0f}")
    print(f"ratio project / plain (strings/s): tokenize {plain[0] / ours[0]:.2f}, "
          f"collate {plain[1] / ours[1]:.2f}, total {sum(plain[:2]) / sum(ours[:2]):.2f}")


if __name__ == "__main__":
    main()
