"""Benchmark runner: ``python benchmarks/run.py --task all`` (or ``accelerate launch ...``).

Tasks: ``all``, a family (``matbench``), a task (``matbench_jdft2d``) or a comma list.
For each task: load and encode its data (a missing file skips the task with the file's
name and source), run every configured model on the requested folds, score, and write
per-fold results atomically (reused on the next run unless ``--force``). At the end:
``summary.json``, ``leaderboard.md``, parity plots, family files (matbench results) and
``manifest.json`` in ``--out``. Under ``accelerate launch`` all processes train; only the
main process writes.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

import cloud  # noqa: F401  (sets the OpenMP wait policy before torch loads)

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python benchmarks/run.py` from a plain checkout
    sys.path.insert(0, str(REPO))

from benchmarks.config import (  # noqa: E402
    load_layers,
    model_scope_mode,
    runnable_models,
    task_config,
)
from benchmarks.models import MODELS, input_description, scope_mode_problem  # noqa: E402
from benchmarks.reports.summary import (  # noqa: E402
    leaderboard_markdown,
    model_summary,
    parity_plot,
    write_summary,
)
from benchmarks.tasks import Fold, TaskData, select  # noqa: E402
from cloud.manifest import device_name  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", default="all")
    p.add_argument("--folds", default=None, help="comma list of fold indices (default: config)")
    p.add_argument("--smoke", action="store_true", help="small real folds, tiny model")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--out", type=Path, default=Path("runs/benchmark"))
    p.add_argument("--config", type=Path, default=None, help="YAML merged over the defaults")
    p.add_argument("--pretrained", default=None,
                   help="encoder for CLOUD models: a checkpoint dir, 'default' or 'none'")
    p.add_argument("--models", default=None, help="comma list of configured models to run")
    p.add_argument("--force", action="store_true", help="recompute finished folds")
    p.add_argument("--report-only", action="store_true",
                   help="train no CLOUD model: report the folds already in --out (e.g. "
                        "after scripts/run_lanes.py), missing folds named; the baselines "
                        "(seconds each) still run")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def is_main() -> bool:
    from accelerate import PartialState

    return PartialState().is_main_process


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=float))
    tmp.replace(path)


def smoke_fold(fold: Fold, cfg: dict, seed: int = 0) -> Fold:
    """A small real fold: a seeded sample of the official train and test ids."""
    rng = np.random.default_rng(seed)
    n_tr, n_te = cfg.get("max_train_rows", 240), cfg.get("max_test_rows", 80)
    train = [fold.train[i] for i in sorted(rng.permutation(len(fold.train))[:n_tr])]
    test = [fold.test[i] for i in sorted(rng.permutation(len(fold.test))[:n_te])]
    return Fold(train, test)


def run_fold(task, data: TaskData, fold: Fold, name: str, spec: dict, path: Path,
             progress: bool) -> dict:
    work = path.with_name(path.stem + "_train")
    state = work / "trainer_state.json"
    if state.exists() and json.loads(state.read_text()).get("finished"):
        shutil.rmtree(work)  # a finished training whose result is redone (--force)
    start = time.perf_counter()
    out = MODELS[spec["type"]](task, data, fold, spec, work, progress)
    preds = np.asarray(out.pop("predictions"), dtype=float)
    record = {"task": task.name, "model": name, "n_train": len(fold.train),
              "n_test": len(fold.test), "metrics": task.fold_metrics(data, fold, preds),
              "predictions": dict(zip(fold.test, preds.tolist(), strict=True)),
              "time_s": time.perf_counter() - start, "config": spec,
              "device": device_name(),
              **{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in out.items()}}
    if is_main():
        _write_json(path, record)
        if (work / "checkpoint").exists():  # keep metrics.csv and trainer_state, drop weights
            shutil.rmtree(work / "checkpoint", ignore_errors=True)
            shutil.rmtree(work / "best", ignore_errors=True)
    return record


def run_task(task, args, layers, summary: dict, family_results: dict) -> None:
    from cloud.data import ChecksumError, DataMissingError

    cfg = task_config(layers, task.name, task.family, args.smoke)
    entry = summary["tasks"].setdefault(task.name, {"family": task.family})
    if args.smoke:
        task.use_smoke_sample(cfg.get("max_train_rows", 240), cfg.get("max_test_rows", 80))
    t0 = time.perf_counter()
    loaded: dict[str, TaskData] = {}

    def data_for(mode: str) -> TaskData:  # a model may ask for another SCOPE mode
        if mode not in loaded:
            loaded[mode] = task.load(args.data_dir, mode, not args.no_progress)
        return loaded[mode]

    try:
        data = data_for(cfg.get("scope_mode", "paper"))
    except (DataMissingError, ChecksumError) as exc:
        entry.update(status="skipped", reason=str(exc))
        print(f"[{task.name}] skipped: {str(exc).splitlines()[0]}", file=sys.stderr)
        return
    task_dir = args.out / task.name
    entry.update(status="done", source=data.source, coverage=data.coverage,
                 partial=data.partial, n_rows=len(data.ids), n_total=data.n_total,
                 n_input_errors=len(data.errors), checksums=data.checksums, models={})
    if is_main():
        task_dir.mkdir(parents=True, exist_ok=True)
        with open(task_dir / "input_errors.csv", "w", newline="") as fh:
            csv.writer(fh).writerows([("id", "kind", "message"), *data.errors])
    folds = [int(k) for k in args.folds.split(",")] if args.folds else cfg["folds"]
    wanted = args.models.split(",") if args.models else list(cfg["models"])
    for name, spec in runnable_models(cfg, task.kind, wanted).items():
        spec = dict(spec)
        if args.pretrained is not None and spec["type"].startswith("cloud"):
            spec["pretrained"] = args.pretrained
        mode = model_scope_mode(cfg, spec)
        data = data_for(mode)
        if problem := scope_mode_problem(data, mode):
            entry.setdefault("skipped_models", {})[name] = problem
            print(f"[{task.name}] {name} skipped: {problem}", file=sys.stderr)
            continue
        results, missing = {}, []
        for k in folds:
            fold = data.folds[k]
            if args.smoke:
                fold = smoke_fold(fold, cfg, seed=k)
            path = task_dir / name / f"fold_{k}.json"
            if path.exists() and not args.force:
                results[k] = json.loads(path.read_text())
                continue
            if args.report_only and spec["type"].startswith("cloud"):
                missing.append(k)
                continue
            print(f"[{task.name}] {name} fold {k}: {len(fold.train)} train, "
                  f"{len(fold.test)} test ({data.coverage})", file=sys.stderr)
            results[k] = run_fold(task, data, fold, name, spec, path, not args.no_progress)
        if not results:
            entry.setdefault("skipped_models", {})[name] = (
                f"--report-only: no finished fold in {task_dir / name}")
            continue
        description = describe_model(spec, args.smoke)
        if [k for k in missing if k not in task.extra_folds]:
            description += f"; only folds {sorted(results)} of {folds} finished"
        cv = {k: r for k, r in results.items() if k not in task.extra_folds} or results
        entry["models"][name] = {**model_summary(cv), "coverage": data.coverage,
                                 "description": description,
                                 "trained_on": sorted({r.get("device", "not recorded")
                                                       for r in results.values()})}
        extra = {f"{task.extra_folds[k]} (fold {k})": results[k]["metrics"]
                 for k in sorted(results) if k in task.extra_folds and cv is not results}
        if extra:  # e.g. the phonon tasks' original split, never averaged into the CV mean
            entry["models"][name]["extra_folds"] = extra
        if missing:
            entry["models"][name]["missing_folds"] = missing
        family_results.setdefault(task.name, {
            "partial": data.partial, "models": {},
            "targets": dict(zip(data.ids, data.targets.tolist(), strict=True))})
        family_results[task.name]["models"][name] = results
        if is_main():
            ids = [i for r in results.values() for i in r["predictions"]]
            preds = np.array([p for r in results.values() for p in r["predictions"].values()])
            parity_plot(task_dir / f"parity_{name}.png", data.targets[data.rows(ids)], preds,
                        f"{task.name} — {name} ({data.coverage})", task.unit)
            if any(r.get("attention") for r in results.values()):  # attention: true (models)
                from benchmarks.reports.attention_report import write_attention_report

                report = write_attention_report(task_dir, task.name, name, results,
                                                entry["models"][name]["description"])
                entry["models"][name]["attention"] = str(report.relative_to(args.out))
    entry["time_s"] = time.perf_counter() - t0


def describe_model(spec: dict, smoke: bool) -> str:
    """Model size and encoder, for every reported number."""
    if not spec["type"].startswith("cloud"):
        return spec["type"]
    pre = spec.get("pretrained", "default")
    if pre in (None, "none", "scratch"):
        size = f"{spec.get('preset', 'small')} from scratch"
    else:
        size = "committed small encoder" if pre == "default" else f"encoder {pre}"
    ablation = input_description(spec)
    options = ", loss on log Θ" if spec.get("debye_loss", "value") == "log_theta" else ""
    if spec.get("element_features"):
        options += ", element features"
    if int(spec.get("ensemble", 1)) > 1:
        options += f", ensemble of {int(spec['ensemble'])} seeds"
    return f"{spec['type']}, {size}{options}" + (f", {ablation}" if ablation else "") + (
        ", smoke" if smoke else "")


def main(argv=None) -> int:
    from cloud.manifest import build_manifest, write_manifest

    args = parse_args(argv)
    layers = load_layers(args.config)
    tasks = select(args.task)
    start = time.perf_counter()
    base = build_manifest()
    summary = {"run": {"created": base["created"], "commit": base["git"]["commit"],
                       "device": device_name(base["device"]),
                       "smoke": args.smoke, "task": args.task},
               "tasks": {}}
    family_results: dict[str, dict] = {}
    for task in tasks:
        run_task(task, args, layers, summary, family_results)
    if not is_main():
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for family in dict.fromkeys(t.family for t in tasks):
        members = [t for t in tasks if t.family == family]
        results = {t.name: family_results[t.name] for t in members if t.name in family_results}
        if results:
            summary.setdefault("family_outputs", {})[family] = [
                str(p) for p in members[0].write_family_outputs(args.out, results)]
    write_summary(args.out, summary)
    (args.out / "leaderboard.md").write_text(leaderboard_markdown(summary, tasks))
    write_manifest(args.out / "manifest.json",
                   config={t.name: task_config(layers, t.name, t.family, args.smoke)
                           for t in tasks},
                   data={f"{n}:{f}": c for n, e in summary["tasks"].items()
                         for f, c in e.get("checksums", {}).items()},
                   seeds={"train": "per model config (train.seed)", "smoke_folds": "fold index"},
                   timings={"total_s": time.perf_counter() - start,
                            **{n: e.get("time_s") for n, e in summary["tasks"].items()}},
                   args={k: str(v) for k, v in vars(args).items()})
    done = [n for n, e in summary["tasks"].items() if e.get("status") == "done"]
    skipped = [n for n, e in summary["tasks"].items() if e.get("status") == "skipped"]
    print(f"done: {len(done)} tasks, skipped: {len(skipped)} ({', '.join(skipped) or '-'}); "
          f"reports in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
