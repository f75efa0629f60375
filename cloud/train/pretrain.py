"""MLM pretraining of CLOUD on a SCOPE corpus.

``python -m cloud.train.pretrain --corpus runs/corpus/corpus.csv.gz --preset small --out DIR``
(or ``accelerate launch -m cloud.train.pretrain ...``). A share of the corpus is held out to
report validation MLM loss (fixed masks). ``DIR/final`` receives the best model with its
tokenizer (``from_pretrained``-ready), ``DIR/manifest.json`` the provenance.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from cloud.logging_setup import quiet_third_party
from cloud.train.config import TrainConfig

PRETRAIN_DEFAULTS = {"epochs": 5, "batch_size": 128, "lr": 5e-4, "warmup_ratio": 0.05,
                     "weight_decay": 0.01, "val_fraction": 0.02}


def pretrain(texts: list[str], out_dir: str | Path, preset: str = "small",
             cfg: TrainConfig | None = None, model_overrides: dict | None = None,
             progress: bool = True, accelerator=None):
    """Pretrain a fresh ``preset`` model on ``texts`` (strings, or a ``ShardedTokens`` corpus
    streamed from disk); returns (model, tokenizer, FitResult)."""
    from cloud.model import CloudConfig, CloudForMaskedLM
    from cloud.tokenizer import build_tokenizer
    from cloud.train.data import MLMCollator, ScopeDataset
    from cloud.train.finetune import carve_validation
    from cloud.train.loop import fit, make_accelerator
    from cloud.train.shards import ShardedTokens

    cfg = cfg or TrainConfig(**PRETRAIN_DEFAULTS)
    out_dir = Path(out_dir)
    tokenizer = build_tokenizer(cfg.max_length)
    tr, va = carve_validation(len(texts), cfg.val_fraction, cfg.seed)
    if isinstance(texts, ShardedTokens):
        train_ds, val_ds = texts.subset(tr), texts.subset(va)
    else:
        train_ds = ScopeDataset([texts[i] for i in tr], tokenizer, max_length=cfg.max_length)
        val_ds = ScopeDataset([texts[i] for i in va], tokenizer, max_length=cfg.max_length)
    config = CloudConfig.preset(preset, vocab_size=len(tokenizer),
                                pad_token_id=tokenizer.pad_token_id,
                                max_position_embeddings=cfg.max_length,
                                **(model_overrides or {}))
    import torch

    torch.manual_seed(cfg.seed)
    model = CloudForMaskedLM(config)
    accelerator = accelerator or make_accelerator(cfg)
    result = fit(model, train_ds, val_ds, MLMCollator(tokenizer, cfg.mlm_probability, cfg.seed),
                 cfg, out_dir=out_dir, score="loss",
                 eval_collator=MLMCollator(tokenizer, cfg.mlm_probability, cfg.seed),
                 accelerator=accelerator, progress=progress, desc=f"pretrain {preset}")
    if accelerator.is_main_process:
        model.save_pretrained(out_dir / "final")
        tokenizer.save_pretrained(out_dir / "final")
    return model, tokenizer, result


def main(argv: list[str] | None = None) -> int:
    from cloud.data import sha256sum
    from cloud.manifest import write_manifest
    from cloud.model import count_parameters

    p = argparse.ArgumentParser(
        prog="python -m cloud.train.pretrain", description=__doc__.splitlines()[0],
        epilog="Example:\n  python -m cloud.train.pretrain --corpus runs/corpus/corpus.csv.gz "
               "--preset small --out runs/pretrain-small",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=None, help="CSV(.gz) with a scope column")
    p.add_argument("--shards", type=Path, default=None,
                   help="token-shard folder to stream from (written from --corpus once, then "
                        "reused)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--preset", default="small")
    p.add_argument("--limit", type=int, default=None, help="use the first N strings only")
    for name, value in PRETRAIN_DEFAULTS.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--mixed-precision", default="auto", choices=["auto", "no", "bf16", "fp16"],
                   help="auto: bf16/fp16 on a GPU, fp32 on CPU; bf16 also speeds up CPUs "
                        "with AVX512-BF16/AMX about 2x")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    quiet_third_party()
    if args.corpus is None and args.shards is None:
        p.error("give --corpus, --shards or both")
    texts = _corpus(args)
    if args.limit:
        keep = np.random.default_rng(args.seed).permutation(len(texts))[: args.limit]
        texts = texts.subset(keep) if hasattr(texts, "subset") else [texts[i] for i in keep]
    cfg = TrainConfig(**{k: getattr(args, k) for k in PRETRAIN_DEFAULTS},
                      max_steps=args.max_steps, seed=args.seed,
                      mixed_precision=args.mixed_precision)
    start = time.perf_counter()
    model, _, result = pretrain(texts, args.out, args.preset, cfg, progress=not args.no_progress)
    from accelerate import PartialState

    if not PartialState().is_main_process:
        return 0
    write_manifest(
        args.out / "manifest.json", config={"train": cfg.to_dict(), "preset": args.preset,
                                            "model": model.config.to_dict()},
        seeds={"seed": cfg.seed},
        data={str(args.corpus): sha256sum(args.corpus)} if args.corpus else {
            str(args.shards): (args.shards / "index.json").read_text()},
        timings={"wall_s": time.perf_counter() - start},
        corpus_strings=len(texts), best_epoch=result.best_epoch, best_val_loss=result.best_score,
        history=result.history, train_tokens=result.train_tokens,
        parameters={"total": count_parameters(model, non_embedding=False),
                    "non_embedding_encoder": count_parameters(model, encoder_only=True)})
    print(f"best validation MLM loss {result.best_score:.4f} at epoch {result.best_epoch}; "
          f"model in {args.out / 'final'}")
    return 0


def _corpus(args):
    """The strings of --corpus, or its token shards (written once) streamed from --shards."""
    from cloud.train.corpus import read_corpus

    if args.shards is None:
        return read_corpus(args.corpus)
    from cloud.tokenizer import build_tokenizer
    from cloud.train.shards import ShardedTokens, cached_shards

    if args.corpus is not None:
        cached_shards(args.corpus, build_tokenizer(), args.shards)
    return ShardedTokens(args.shards)


if __name__ == "__main__":
    raise SystemExit(main())
