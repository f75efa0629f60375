"""Paper-size CLOUD in one time-boxed GPU run: pretrain 12x768, fine-tune jdft2d on 5 folds.

One command, safe to run blind on a short GPU lease. Within ``--budget-s`` (default 540 s):

1. pretrains the ``--preset`` encoder (default ``base``: the paper's 12 layers x 768, here with
   the project's word-level tokenizer) on ``--corpus`` (default: the offline 10k OPTIMADE
   sample; a corpus built beforehand with ``python -m cloud.train.corpus`` is better), bf16
   on a GPU, the largest batch that fits (``--batch-size`` halved until a bf16 step runs),
   as many epochs as the pretraining share of the budget
   holds (timed on a first epoch), checkpointing every few epochs;
2. fine-tunes it on MatBench jdft2d, 5 folds, through the benchmark runner, each fold
   time-boxed;
3. writes ``leaderboard.md`` (this run next to the paper's CLOUD and the committed small
   encoder) and ``manifest.json`` (device, timings, throughput) under ``--out``.

Exits 0 when every step finished. ``--dry-run`` runs the same steps on CPU with the
``tiny`` preset and a few steps (for tests, under a minute).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("CLOUD_DATA_DIR", REPO.parent / "shared" / "data"))
OFFLINE_SAMPLE = DATA / "scope_reference/pretrain_optimade_10k.csv.gz"
TASK = "matbench_jdft2d"
PRETRAIN_SHARE = 0.55  # of the budget; fine-tuning gets FINETUNE_SHARE, the rest is start-up
FINETUNE_SHARE = 0.30


def read_texts(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        return [row["scope"] for row in csv.DictReader(fh)]


def largest_batch(preset: str, start: int, max_length: int = 64) -> int:
    """On a GPU, the largest batch (``start`` halved until it fits) for which one bf16
    forward and backward pass of the ``preset`` MLM model on full-length sequences runs
    without running out of memory, with a quarter of headroom (the batch found, x 3/4); on
    CPU, ``start``."""
    import torch

    if not torch.cuda.is_available():
        return start
    from cloud.model import CloudConfig, CloudForMaskedLM
    from cloud.tokenizer import build_tokenizer

    tokenizer = build_tokenizer(max_length)
    config = CloudConfig.preset(preset, vocab_size=len(tokenizer),
                                pad_token_id=tokenizer.pad_token_id,
                                max_position_embeddings=max_length)
    model = CloudForMaskedLM(config).cuda()
    batch = start
    while batch >= 8:
        try:
            ids = torch.randint(5, len(tokenizer), (batch, max_length), device="cuda")
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = model(input_ids=ids, attention_mask=torch.ones_like(ids),
                             labels=ids).loss
            loss.backward()
            model.zero_grad(set_to_none=True)
            break
        except torch.cuda.OutOfMemoryError:
            model.zero_grad(set_to_none=True)
            torch.cuda.empty_cache()
            batch //= 2
    del model
    torch.cuda.empty_cache()
    return max(8, batch * 3 // 4) if batch < start else batch


def reference_maes() -> dict[str, float]:
    """The paper's CLOUD and the committed small encoder's 5-fold jdft2d MAE (meV/atom)."""
    paper = json.loads((REPO / "benchmarks/reference/paper_results.json").read_text())
    table = paper["table_s3_matbench_mae"]
    paper_mae = table["rows"]["CLOUD"][table["columns"].index(TASK)][0]
    small = json.loads((REPO / "reports/matbench_cpu/summary.json").read_text())
    folds = small["tasks"][TASK]["models"]["cloud"]["folds"].values()
    return {"CLOUD (paper, 12x768, WordPiece)": paper_mae,
            "cloud, committed small encoder (4x256), reports/matbench_cpu":
                sum(f["mae"] for f in folds) / len(folds)}


def pretrain_encoder(texts, out: Path, preset: str, batch_size: int, budget_s: float,
                     max_steps: int | None):
    """Time one epoch, then train as many epochs as the rest of the budget holds."""
    from cloud.train.config import TrainConfig
    from cloud.train.pretrain import PRETRAIN_DEFAULTS, pretrain

    base = {**PRETRAIN_DEFAULTS, "batch_size": batch_size, "mixed_precision": "auto",
            "max_steps": max_steps}
    start = time.perf_counter()
    _, _, first = pretrain(texts, out / "timing", preset,
                           TrainConfig(**{**base, "epochs": 1}), progress=False)
    epoch_s = time.perf_counter() - start
    left = budget_s - epoch_s
    epochs = max(1, int(left / max(epoch_s, 1e-3))) if max_steps is None else 1
    cfg = TrainConfig(**{**base, "epochs": epochs, "max_seconds": max(left, 1.0),
                         "checkpoint_every": max(1, epochs // 5)})
    model, tokenizer, result = pretrain(texts, out, preset, cfg, progress=False)
    return {"epoch_s_first": epoch_s, "epochs_planned": epochs,
            "epochs_run": len(result.history), "steps": result.steps,
            "train_tokens": result.train_tokens, "wall_s": result.wall_time,
            "tokens_per_s": result.train_tokens / max(result.wall_time, 1e-9),
            "best_val_loss": result.best_score, "batch_size": batch_size,
            "strings": len(texts)}


def finetune_config(path: Path, preset: str, fold_s: float, dry_run: bool) -> None:
    from cloud.model.config import PRESETS

    train = {"max_seconds": fold_s}
    if dry_run:
        train.update(epochs=1, max_steps=2, batch_size=16)
    hidden = PRESETS[preset]["hidden_size"]
    config = {"defaults": {"ablations": {"inputs": []}, "models": {"cloud": {
        "head_hidden_sizes": [hidden], "train": train}}}}
    if dry_run:
        config["defaults"]["folds"] = [0, 1]
    import yaml

    path.write_text(yaml.safe_dump(config, sort_keys=False))


def run_finetuning(out: Path, encoder: Path, preset: str, fold_s: float, dry_run: bool):
    config = out / "finetune.yaml"
    finetune_config(config, preset, fold_s, dry_run)
    cmd = [sys.executable, str(REPO / "benchmarks/run.py"), "--task", TASK, "--models", "cloud",
           "--pretrained", str(encoder), "--out", str(out / "finetune"), "--config",
           str(config), "--no-progress", "--data-dir", str(DATA)]
    if dry_run:
        cmd.append("--smoke")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    (out / "finetune.log").write_text(done.stdout + done.stderr)
    summary = out / "finetune/summary.json"
    if done.returncode != 0 or not summary.exists():
        return None, done.returncode
    folds = json.loads(summary.read_text())["tasks"][TASK]["models"]["cloud"]["folds"]
    return {k: v["mae"] for k, v in folds.items()}, done.returncode


def write_leaderboard(out: Path, maes: dict[str, float], label: str) -> str:
    import numpy as np

    values = np.array(list(maes.values()))
    rows = [f"| **{label}** | {values.mean():.2f} ± {values.std():.2f} ({len(values)} folds) |"]
    rows += [f"| {name} | {mae:.2f} |" for name, mae in reference_maes().items()]
    text = "\n".join([f"# {TASK}: test MAE (meV/atom), mean ± std over folds", "",
                      "| model | MAE |", "|---|---|", *rows, ""])
    (out / "leaderboard.md").write_text(text)
    return text


def device_name() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else (
        f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python scripts/paper_size_run.py --out runs/paper-size\n"
               "  python scripts/paper_size_run.py --out /tmp/dry --dry-run",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="folder for everything written")
    p.add_argument("--budget-s", type=float, default=540.0, help="wall-time budget, enforced")
    p.add_argument("--corpus", type=Path, default=OFFLINE_SAMPLE, help="CSV(.gz), scope column")
    p.add_argument("--preset", default=None, help="model size (default base; tiny with --dry-run)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="largest pretraining batch to try (default 4096; 16 with --dry-run): "
                        "on a GPU it is halved until a bf16 step fits")
    p.add_argument("--max-steps", type=int, default=None, help="pretraining steps cap")
    p.add_argument("--dry-run", action="store_true",
                   help="CPU check: tiny preset, 300 strings, a few steps, 2 smoke folds")
    args = p.parse_args(argv)
    start = time.perf_counter()
    preset = args.preset or ("tiny" if args.dry_run else "base")
    batch = args.batch_size or (16 if args.dry_run else 4096)
    max_steps = args.max_steps or (3 if args.dry_run else None)
    args.out.mkdir(parents=True, exist_ok=True)

    import cloud  # noqa: F401  (OpenMP policy before torch loads)
    from cloud.logging_setup import quiet_third_party

    quiet_third_party()
    texts = read_texts(args.corpus)[: 300 if args.dry_run else None]
    batch = largest_batch(preset, batch)  # the largest that fits (GPU); as given on CPU
    batch = min(batch, max(8, len(texts) // 8))  # at least ~8 steps an epoch
    pretrain_s = PRETRAIN_SHARE * args.budget_s - (time.perf_counter() - start)
    print(f"{device_name()}: pretraining {preset} on {len(texts):,} strings, batch {batch}, "
          f"{pretrain_s:.0f} s", flush=True)
    pre = pretrain_encoder(texts, args.out / "pretrain", preset, batch, pretrain_s, max_steps)
    pretrain_done = time.perf_counter() - start
    fold_s = (FINETUNE_SHARE * args.budget_s) / 5
    print(f"pretrained {pre['epochs_run']} epochs ({pre['tokens_per_s']:,.0f} tokens/s) in "
          f"{pretrain_done:.0f} s; fine-tuning {TASK}, {fold_s:.0f} s a fold", flush=True)
    maes, rc = run_finetuning(args.out, args.out / "pretrain/final", preset, fold_s,
                              args.dry_run)
    wall = time.perf_counter() - start
    manifest = {"device": device_name(), "preset": preset, "tokenizer": "project word-level",
                "corpus": str(args.corpus), "budget_s": args.budget_s, "dry_run": args.dry_run,
                "pretrain": pre, "timings": {"pretrain_done_s": pretrain_done, "wall_s": wall},
                "finetune": {"task": TASK, "fold_s": fold_s, "mae": maes, "returncode": rc}}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    if maes is None:
        print(f"fine-tuning failed (exit {rc}); see {args.out / 'finetune.log'}")
        return 1
    label = f"cloud {preset}, pretrained here ({pre['epochs_run']} epochs, {len(texts):,} strings)"
    print(write_leaderboard(args.out, maes, label))
    print(f"done in {wall:.0f} s of {args.budget_s:.0f}; everything in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
