"""Scaling sweep: pretrain a grid of model sizes x data sizes, then fit L(N, D).

``python -m cloud.analysis.scaling_sweep --corpus CSV --sizes tiny,small,medium
--data-fractions 0.25,0.5,1.0 --out DIR [--epochs E] [--max-steps S] [--val-fraction 0.05]
[--smoke]``

Every grid point is an MLM pretraining run of the project's own code
(:func:`cloud.train.pretrain.pretrain`). Sizes are ``CloudConfig`` presets (``tiny`` 2/128,
``small`` 4/256, ``medium`` 6/384, ``base`` 12/768) or custom ``L/H`` (layers/hidden, heads
``max(1, H // 64)``) or ``L/H/heads`` specs. The validation strings are carved from the
corpus ONCE and are the same for every point (so the losses are comparable); the training
pool is the rest, and a data fraction ``f`` takes its first ``f`` share (nested subsets).
``N`` = non-embedding encoder parameters, ``D`` = training tokens actually seen, ``L`` = best
validation MLM loss.

Outputs in ``DIR``: ``points/<name>.json`` (one per grid point, written atomically; an
existing one is skipped, so the sweep resumes), ``runs/<name>/`` (the training runs),
``fit.json`` (law, bootstrap intervals, compute-optimal exponents, the paper's values beside
them), ``iso_loss.png``, ``loss_vs_compute.png`` and ``manifest.json``.
``--no-fit`` trains the points only: several processes, each given some of the sizes, can fill
one ``--out`` in parallel (e.g. on one GPU); a final run over the whole grid then only fits.
``--smoke``: 3 x 3 grid of tiny custom sizes on <= 2000 strings, one epoch (~1-2 min on 2 CPU
cores); its fit is a plumbing check, not a scaling result.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np

from cloud.analysis.scaling import PARAMS, bootstrap, compute_optimal, fit_scaling_law
from cloud.fileio import write_json_atomic
from cloud.logging_setup import quiet_third_party

REPO = Path(__file__).resolve().parents[2]
PAPER_RESULTS = REPO / "benchmarks" / "reference" / "paper_results.json"
SMOKE = {"sizes": "1/32,1/64,2/64", "data_fractions": "0.25,0.5,1.0", "limit": 2000,
         "epochs": 1, "batch_size": 32, "lr": 2e-3, "n_boot": 30}
DEFAULTS = {"epochs": 1, "batch_size": 128, "lr": 5e-4, "warmup_ratio": 0.05,
            "weight_decay": 0.01, "n_boot": 200}
MIN_POINTS = 5


def parse_size(spec: str) -> tuple[str, str, dict]:
    """``tiny`` -> (``tiny``, ``tiny``, {}); ``3/192`` -> (``L3-H192-A3``, ``tiny``, overrides)."""
    from cloud.model import PRESETS

    spec = spec.strip()
    if spec in PRESETS:
        return spec, spec, {}
    parts = spec.split("/")
    if len(parts) not in (2, 3) or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"size {spec!r}: use a preset {sorted(PRESETS)} or L/H or L/H/heads")
    layers, hidden = int(parts[0]), int(parts[1])
    heads = int(parts[2]) if len(parts) == 3 else max(1, hidden // 64)
    while hidden % heads:
        heads -= 1
    overrides = {"num_hidden_layers": layers, "hidden_size": hidden,
                 "num_attention_heads": heads, "intermediate_size": 4 * hidden}
    return f"L{layers}-H{hidden}-A{heads}", "tiny", overrides


def split_corpus(texts: list[str], val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """One fixed (validation, training pool) split of the whole corpus."""
    order = np.random.default_rng(seed).permutation(len(texts))
    n_val = int(round(val_fraction * len(texts)))
    if n_val < 1 or n_val >= len(texts):
        raise ValueError(f"val fraction {val_fraction} of {len(texts)} strings is unusable")
    return [texts[i] for i in order[:n_val]], [texts[i] for i in order[n_val:]]


def pack_for_pretrain(train: list[str], val: list[str], seed: int) -> tuple[list[str], float]:
    """Interleave ``train`` and ``val`` so that ``pretrain``'s own validation carve
    (``carve_validation(n, fraction, seed)``) selects exactly ``val`` (in order)."""
    from cloud.train.finetune import carve_validation

    n = len(train) + len(val)
    fraction = len(val) / n
    tr, va = carve_validation(n, fraction, seed)
    if len(va) != len(val) or len(tr) != len(train):
        raise RuntimeError("validation carve does not reproduce the fixed validation set")
    texts: list[str] = [""] * n
    for j, i in enumerate(va):
        texts[i] = val[j]
    for k, i in enumerate(tr):
        texts[i] = train[k]
    assert [texts[i] for i in va] == val
    return texts, fraction


def strings_hash(strings: list[str]) -> str:
    return hashlib.sha256("\n".join(strings).encode()).hexdigest()


def _write_json(path: Path, obj: dict) -> None:
    write_json_atomic(path, obj)


def point_name(label: str, fraction: float) -> str:
    return f"{label}_f{fraction:g}"


def run_point(name: str, preset: str, overrides: dict, train: list[str], val: list[str],
              cfg_kw: dict, key: dict, out: Path, progress: bool, keep: bool) -> dict:
    """Pretrain one grid point and write ``points/<name>.json``."""
    from cloud.model import count_parameters
    from cloud.train.config import TrainConfig
    from cloud.train.pretrain import pretrain

    seed = cfg_kw["seed"]
    texts, fraction = pack_for_pretrain(train, val, seed)
    cfg = TrainConfig(**{**cfg_kw, "val_fraction": fraction})
    run_dir = out / "runs" / name
    stamp = run_dir / "sweep_key.json"  # an interrupted run resumes only with the same key
    if stamp.exists() and json.loads(stamp.read_text()) != json.loads(json.dumps(key)):
        raise SystemExit(f"{run_dir} holds a run with another split or configuration; "
                         "use a fresh --out directory")
    _write_json(stamp, key)
    import torch

    torch.manual_seed(seed)  # the model's initial weights: independent of grid order / resumes
    start = time.perf_counter()
    model, _, result = pretrain(texts, run_dir, preset, cfg, model_overrides=overrides or None,
                                progress=progress)
    wall = time.perf_counter() - start
    c = model.config
    record = {
        "name": name, **key, "layers": c.num_hidden_layers, "hidden": c.hidden_size,
        "heads": c.num_attention_heads,
        "N": count_parameters(model, encoder_only=True),
        "N_total": count_parameters(model, non_embedding=False),
        "D": int(result.train_tokens), "L": float(result.best_score),
        "best_epoch": result.best_epoch, "steps": result.steps,
        "n_train_strings": len(train), "n_val_strings": len(val),
        "history": result.history, "train_wall_s": result.wall_time, "wall_s": wall,
    }
    _write_json(out / "points" / f"{name}.json", record)
    if not keep:
        for sub in ("checkpoint", "best"):
            shutil.rmtree(run_dir / sub, ignore_errors=True)
    return record


def paper_scaling() -> dict | None:
    try:
        return json.loads(PAPER_RESULTS.read_text())["scaling_law"]
    except (OSError, KeyError, json.JSONDecodeError):
        return None


def fit_points(points: list[dict], n_boot: int, seed: int, n_starts: int | None = 256,
               progress: bool = False) -> dict:
    """The fit.json document: law, bootstrap CIs, compute-optimal exponents, paper beside."""
    usable = [p for p in points if math.isfinite(p["L"]) and p["L"] > 0 and p["D"] > 0]
    doc: dict = {"law": "L(N, D) = A / N^alpha + B / D^beta + E",
                 "objective": "Huber(delta=1e-3) on log residuals, L-BFGS-B, grid of starts",
                 "n_points": len(usable),
                 "points": [{k: p[k] for k in ("name", "N", "D", "L")} for p in usable]}
    paper = paper_scaling()
    if paper:
        co = compute_optimal(paper["fit"])
        doc["paper"] = {"fit": paper["fit"], "compute_optimal": paper.get("compute_optimal"),
                        "derived": {"a": co["a"], "b": co["b"], "G": co["G"]}}
    notes = []
    if len({p["N"] for p in usable}) < 2 or len({p["D"] for p in usable}) < 2:
        notes.append("N or D takes a single value: the law is not identifiable")
    by_size: dict = {}
    for p in usable:
        by_size.setdefault(p.get("size", p["N"]), set()).add((p.get("data_fraction"), p["D"]))
    if any(len({f for f, _ in v}) > len({d for _, d in v}) for v in by_size.values()):
        notes.append("some data fractions saw the same D (max_steps cap?): duplicated D values")
    if len(usable) < MIN_POINTS:
        doc.update(status="insufficient_points", notes=notes + [
            f"{len(usable)} usable points; at least {MIN_POINTS} are needed for 5 parameters"])
        return doc
    N, D, L = (np.array([p[k] for p in usable], float) for k in ("N", "D", "L"))
    try:
        fit = fit_scaling_law(N, D, L, n_starts=n_starts)
    except (RuntimeError, ValueError) as err:
        doc.update(status="failed", notes=notes + [f"fit failed: {err}"])
        return doc
    co = compute_optimal(fit)
    boot = bootstrap(N, D, L, n_boot=n_boot, seed=seed, fit=fit, progress=progress)
    degenerate = bool(notes) or fit.degenerate
    notes += fit.warnings
    if len(usable) < 2 * len(PARAMS):
        notes.append(f"only {len(usable)} points for 5 parameters: treat the fit as indicative")
    doc.update(status="degenerate" if degenerate else "ok",
               fit=fit.to_dict(), bootstrap=boot,
               compute_optimal={"a": co["a"], "b": co["b"], "G": co["G"]},
               residuals_log=(np.log(fit.predict(N, D)) - np.log(L)).tolist(), notes=notes)
    if paper:
        ref = {**paper["fit"], "a": doc["paper"]["derived"]["a"],
               "b": doc["paper"]["derived"]["b"]}
        doc["comparison"] = {k: {"sweep": doc["fit"].get(k, co.get(k)), "ci95": boot[k],
                                 "paper": ref[k]} for k in (*PARAMS, "a", "b")}
    doc["fit_object"] = fit  # removed before writing; lets the caller plot without refitting
    return doc


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cloud.analysis.scaling_sweep", description=__doc__.splitlines()[0],
        epilog="Example:\n  python -m cloud.analysis.scaling_sweep "
               "--corpus runs/corpus/corpus.csv.gz --smoke --out runs/scaling-smoke",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True, help="CSV(.gz) with a scope column")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--sizes", default=None, help="presets or L/H[/heads], comma-separated")
    p.add_argument("--data-fractions", default=None, help="shares of the training pool")
    p.add_argument("--limit", type=int, default=None, help="use a random N strings only")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--warmup-ratio", type=float, default=None)
    p.add_argument("--weight-decay", type=float, default=None)
    p.add_argument("--val-fraction", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--n-boot", type=int, default=None, help="bootstrap resamples of the fit")
    p.add_argument("--fit-starts", type=int, default=256,
                   help="L-BFGS-B starts (best of Hoffmann's grid); 0 = all 4500")
    p.add_argument("--keep-checkpoints", action="store_true")
    p.add_argument("--no-fit", action="store_true",
                   help="train the grid points only (e.g. one size per process, in parallel, "
                        "into one --out); a later run over the whole grid fits them")
    p.add_argument("--smoke", action="store_true", help="tiny 3x3 grid on <= 2000 strings")
    p.add_argument("--no-progress", action="store_true")
    return p


def _settings(args: argparse.Namespace) -> dict:
    base = {**DEFAULTS, **(SMOKE if args.smoke else {})}
    s = {"sizes": args.sizes or base.get("sizes", "tiny,small,medium"),
         "data_fractions": args.data_fractions or base.get("data_fractions", "0.25,0.5,1.0"),
         "limit": args.limit if args.limit is not None else base.get("limit")}
    for k in ("epochs", "batch_size", "lr", "warmup_ratio", "weight_decay", "n_boot"):
        v = getattr(args, k)
        s[k] = v if v is not None else base[k]
    if args.smoke and s["limit"]:
        s["limit"] = min(s["limit"], SMOKE["limit"])
    return s


@contextlib.contextmanager
def _library_bars(enabled: bool):
    """Silence transformers' own load/save progress bars when progress is off."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    if not enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was and not enabled:
            hf_logging.enable_progress_bar()


def run(argv: list[str] | None = None) -> dict:
    """The sweep; returns ``{"ran": [...], "skipped": [...], "fit": fit.json document}``."""
    from tqdm.auto import tqdm

    from cloud.analysis.scaling_plots import plot_iso_loss, plot_loss_vs_compute
    from cloud.data import sha256sum
    from cloud.manifest import write_manifest
    from cloud.train.corpus import read_corpus

    args = build_parser().parse_args(argv)
    s = _settings(args)
    start = time.perf_counter()
    progress = not args.no_progress
    sizes = [parse_size(x) for x in s["sizes"].split(",") if x.strip()]
    fractions = [float(x) for x in s["data_fractions"].split(",") if x.strip()]
    if not sizes or not fractions or not all(0 < f <= 1 for f in fractions):
        raise SystemExit("need at least one size and data fractions in (0, 1]")
    texts = read_corpus(args.corpus)
    if s["limit"] and s["limit"] < len(texts):
        pick = np.random.default_rng(args.seed).permutation(len(texts))[: s["limit"]]
        texts = [texts[i] for i in pick]
    val, pool = split_corpus(texts, args.val_fraction, args.seed)
    val_hash = strings_hash(val)
    cfg_kw = {"epochs": s["epochs"], "batch_size": s["batch_size"], "lr": s["lr"],
              "warmup_ratio": s["warmup_ratio"], "weight_decay": s["weight_decay"],
              "seed": args.seed, "max_steps": args.max_steps}
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    ran, skipped, points, timings = [], [], [], {}
    grid = [(lab, pre, ov, f) for lab, pre, ov in sizes for f in fractions]
    for label, preset, overrides, f in tqdm(grid, desc="scaling grid", disable=not progress):
        name = point_name(label, f)
        key = {"size": label, "preset": preset, "overrides": overrides, "data_fraction": f,
               "val_sha256": val_hash, "train": cfg_kw}
        path = out / "points" / f"{name}.json"
        if path.exists():
            done = json.loads(path.read_text())
            if any(done.get(k) != json.loads(json.dumps(v)) for k, v in key.items()):
                raise SystemExit(f"{path} was made with another split or configuration; "
                                 "use a fresh --out directory")
            skipped.append(name)
            points.append(done)
            continue
        train = pool[: max(1, int(round(f * len(pool))))]
        with _library_bars(progress):
            rec = run_point(name, preset, overrides, train, val, cfg_kw, key, out, progress,
                            args.keep_checkpoints)
        timings[name] = rec["wall_s"]
        ran.append(name)
        points.append(rec)
    if args.no_fit:
        return {"ran": ran, "skipped": skipped,
                "fit": {"status": "not_fitted (--no-fit)", "n_points": len(points)}}
    t_fit = time.perf_counter()
    doc = fit_points(points, s["n_boot"], args.seed, n_starts=args.fit_starts or None,
                     progress=progress)
    fit = doc.pop("fit_object", None)
    doc["val_strings"], doc["val_sha256"] = len(val), val_hash
    _write_json(out / "fit.json", doc)
    N, D, L = (np.array([p[k] for p in points], float) for k in ("N", "D", "L"))
    tag = " (smoke grid)" if args.smoke else ""
    plot_iso_loss(fit, N, D, L, out / "iso_loss.png", title=f"CLOUD iso-loss contours{tag}")
    plot_loss_vs_compute(fit, N, D, L, out / "loss_vs_compute.png",
                         title=f"CLOUD loss vs compute{tag}")
    timings.update(fit_s=time.perf_counter() - t_fit, total_s=time.perf_counter() - start)
    write_manifest(out / "manifest.json",
                   config={"settings": s, "train": cfg_kw, "val_fraction": args.val_fraction,
                           "sizes": [lab for lab, _, _ in sizes], "data_fractions": fractions,
                           "smoke": args.smoke, "fit_starts": args.fit_starts},
                   seeds={"seed": args.seed, "bootstrap_seed": args.seed},
                   data={str(args.corpus): sha256sum(args.corpus)}, timings=timings,
                   corpus_strings=len(texts), val_strings=len(val), val_sha256=val_hash,
                   ran=ran, skipped=skipped, fit_status=doc["status"])
    return {"ran": ran, "skipped": skipped, "fit": doc}


def main(argv: list[str] | None = None) -> int:
    quiet_third_party()
    result = run(argv)
    doc = result["fit"]
    print(f"{len(result['ran'])} points trained, {len(result['skipped'])} skipped; "
          f"fit status: {doc['status']}")
    if "fit" in doc:
        f, co = doc["fit"], doc["compute_optimal"]
        print("A={A:.4g} B={B:.4g} E={E:.4g} alpha={alpha:.4f} beta={beta:.4f}".format(**f)
              + f"; a={co['a']:.3f} b={co['b']:.3f}")
    for note in doc.get("notes", []):
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
