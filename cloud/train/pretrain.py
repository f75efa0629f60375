"""MLM pretraining of CLOUD on a SCOPE corpus.

``python -m cloud.train.pretrain --corpus runs/corpus/corpus.csv.gz --preset small --out DIR``
(or ``accelerate launch -m cloud.train.pretrain ...``). ``--recipe paper`` pretrains the
authors' encoder shape (12 x 768, 64 positions, 30522 rows, the paper's WordPiece tokenizer)
with their MLM settings, so its checkpoint and theirs load alike. A share of the corpus is held out to
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
#: The authors' MLM pretraining (HF Trainer): 50 epochs, lr 1e-4 cosine, 5 % warm-up, no weight
#: decay, batch 1024, 80/20 split with seed 0, masking 15 %; model: preset base, paper tokenizer.
PAPER_PRETRAIN = {"epochs": 50, "batch_size": 1024, "lr": 1e-4, "warmup_ratio": 0.05,
                  "weight_decay": 0.0, "val_fraction": 0.2}
RECIPES = {"default": (PRETRAIN_DEFAULTS, "wordlevel", None),
           "paper": (PAPER_PRETRAIN, "paper", "base")}


def pretrain(texts: list[str], out_dir: str | Path, preset: str = "small",
             cfg: TrainConfig | None = None, model_overrides: dict | None = None,
             progress: bool = True, accelerator=None, tokenizer: str = "wordlevel"):
    """Pretrain a fresh ``preset`` model on ``texts`` (strings, or a ``ShardedTokens`` corpus
    streamed from disk) with the ``tokenizer`` kind (``wordlevel`` or ``paper``); returns
    (model, tokenizer, FitResult)."""
    from cloud.model import CloudConfig, CloudForMaskedLM
    from cloud.tokenizer import build_tokenizer
    from cloud.train.data import MLMCollator, ScopeDataset
    from cloud.train.finetune import carve_validation
    from cloud.train.loop import fit, make_accelerator
    from cloud.train.shards import ShardedTokens

    cfg = cfg or TrainConfig(**PRETRAIN_DEFAULTS)
    out_dir = Path(out_dir)
    kind = tokenizer
    if kind == "paper":
        from cloud.paper_tokenizer import build_paper_tokenizer

        tokenizer = build_paper_tokenizer(cfg.max_length)
    else:
        tokenizer = build_tokenizer(cfg.max_length)
    tr, va = carve_validation(len(texts), cfg.val_fraction, cfg.seed)
    if isinstance(texts, ShardedTokens):
        train_ds, val_ds = texts.subset(tr), texts.subset(va)
    else:
        train_ds = ScopeDataset([texts[i] for i in tr], tokenizer, max_length=cfg.max_length)
        val_ds = ScopeDataset([texts[i] for i in va], tokenizer, max_length=cfg.max_length)
    if kind == "paper":  # the authors' BertConfig: 30522 rows, pad_token_id 0
        from cloud.train.finetune import scratch_config

        config = scratch_config("paper", tokenizer, preset, **(model_overrides or {}))
    else:
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
               "--preset small --out runs/pretrain-small\n"
               "  python -m cloud.train.pretrain --corpus runs/corpus/corpus.csv.gz "
               "--recipe paper --out runs/pretrain-paper",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=None, help="CSV(.gz) with a scope column")
    p.add_argument("--shards", type=Path, default=None,
                   help="token-shard folder to stream from (written from --corpus once, then "
                        "reused)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--recipe", choices=sorted(RECIPES), default="default",
                   help="paper: the authors' MLM settings, 12 x 768 encoder and WordPiece "
                        "tokenizer (options below override it)")
    p.add_argument("--preset", default=None, help="model size (default: small; paper: base)")
    p.add_argument("--limit", type=int, default=None, help="use the first N strings only")
    for name, value in PRETRAIN_DEFAULTS.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=None,
                       help=f"default {value}; paper recipe {PAPER_PRETRAIN[name]}")
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=None, help="default 42; paper recipe 0")
    p.add_argument("--mixed-precision", default="auto", choices=["auto", "no", "bf16", "fp16"],
                   help="auto: bf16/fp16 on a GPU, fp32 on CPU; bf16 also speeds up CPUs "
                        "with AVX512-BF16/AMX about 2x")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    recipe, kind, recipe_preset = RECIPES[args.recipe]
    args.preset = args.preset or recipe_preset or "small"
    for name, value in {**recipe, "seed": 0 if args.recipe == "paper" else 42}.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
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
    model, _, result = pretrain(texts, args.out, args.preset, cfg, progress=not args.no_progress,
                                tokenizer=kind)
    from accelerate import PartialState

    if not PartialState().is_main_process:
        return 0
    write_manifest(
        args.out / "manifest.json", config={"train": cfg.to_dict(), "preset": args.preset,
                                            "recipe": args.recipe, "tokenizer": kind,
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
