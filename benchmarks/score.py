"""Score predictions made elsewhere on the official MatBench folds, beside the suite's rows.

Reads a MatBench results file (``results.json.gz`` as the matbench package writes it, any
model's) or a CSV ``fold,id,prediction`` (``--task`` names its task, or a ``task`` column),
checks that it covers every official test fold exactly (missing and extra ids are errors
naming them), scores each fold with the suite's metrics against the official targets, and
adds the rows to ``--out``: per-fold records, ``summary.json``, ``leaderboard.md`` and parity
plots, as ``benchmarks/run.py`` writes them (a run folder's own rows stay). All 13 MatBench
v0.1 tasks are scored (the classification tasks as matbench scores them, ROC-AUC first); a
task whose data is not at hand (offline) is named with the file it needs and left out.
Exit status 2 for a file that cannot be read or does not cover the folds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python benchmarks/score.py` from a plain checkout
    sys.path.insert(0, str(REPO))

from benchmarks.reports.external_predictions import (  # noqa: E402
    CoverageError,
    check_coverage,
    read_predictions,
)
from benchmarks.reports.summary import (  # noqa: E402
    leaderboard_markdown,
    model_summary,
    parity_plot,
    write_summary,
)
from benchmarks.tasks import Fold, TaskData, select  # noqa: E402
from cloud.data import DataMissingError  # noqa: E402
from cloud.fileio import write_json_atomic  # noqa: E402

EXAMPLES = """Example:
  python benchmarks/score.py results.json.gz --name my_model --out runs/mb
  python benchmarks/score.py preds.csv --task matbench_jdft2d --name my_model --out runs/mb
  python benchmarks/score.py --list-tasks
"""


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("predictions", type=Path, nargs="?",
                   help="a MatBench results file (.json / .json.gz) or a CSV fold,id,prediction")
    p.add_argument("--list-tasks", action="store_true",
                   help="list the 13 MatBench v0.1 tasks, their inputs, metric and data state")
    p.add_argument("--name", help="the leaderboard row's model name (required to score)")
    p.add_argument("--task", default=None, help="the task of a CSV without a task column")
    p.add_argument("--out", type=Path, default=Path("runs/scored"),
                   help="run folder to add the rows to (created when absent)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="local data folder (default: $CLOUD_DATA_DIR, then the download cache)")
    p.add_argument("--no-verify-hash", action="store_true",
                   help="accept a results file whose matbench hash does not match its content")
    return p.parse_args(argv)


def official_data(task, data_dir) -> TaskData:
    """The official targets and folds of a MatBench task (no inputs: nothing is trained)."""
    from cloud.data import matbench_folds, read_matbench_targets

    targets = read_matbench_targets(task.name, data_dir=data_dir)[task.target]
    ids = list(targets.index)
    folds = [Fold(list(f.train), list(f.test)) for f in matbench_folds(task.name, ids)]
    return TaskData(ids, [""] * len(ids), targets.to_numpy(float), folds, task.n_total,
                    "official targets table (predictions made elsewhere)")


def fold_records(task, data: TaskData, name: str, folds: dict, source: dict) -> dict[int, dict]:
    """One record per fold, in the runner's format, scored with the task's metrics."""
    records = {}
    for k, fold in enumerate(data.folds):
        preds = np.array([folds[k][i] for i in fold.test], dtype=float)
        records[k] = {"task": task.name, "model": name, "fold": k, "status": "done",
                      "n_train": len(fold.train), "n_test": len(fold.test),
                      "metrics": task.fold_metrics(data, fold, preds),
                      "predictions": dict(zip(fold.test, preds.tolist(), strict=True)),
                      "config": source}
    return records


def add_rows(out: Path, name: str, scored: dict, datas: dict, source: dict) -> dict:
    """Records, summary entries and parity plots of the scored tasks in ``out``."""
    from cloud.manifest import build_manifest

    path = out / "summary.json"
    if path.exists():
        summary = json.loads(path.read_text())
    else:
        base = build_manifest()
        summary = {"run": {"created": base["created"], "commit": base["git"]["commit"],
                           "device": "not recorded (predictions made elsewhere)",
                           "smoke": False, "task": ",".join(t.name for t in scored)},
                   "tasks": {}}
    for task, records in scored.items():
        data = datas[task.name]
        entry = summary["tasks"].setdefault(task.name, {
            "family": task.family, "status": "done", "source": data.source,
            "coverage": data.coverage, "partial": False, "n_rows": len(data.ids),
            "n_total": data.n_total, "n_input_errors": 0, "models": {}})
        for k, record in records.items():
            write_json_atomic(out / task.name / name / f"fold_{k}.json", record)
        entry.setdefault("models", {})[name] = {
            **model_summary(records), "type": "external", "coverage": data.coverage,
            "description": f"predictions made elsewhere: {source['source']}",
            "trained_on": ["not recorded (predictions made elsewhere)"]}
        entry.setdefault("rows", {})[name] = {"status": "done"}
        ids = [i for r in records.values() for i in r["predictions"]]
        preds = np.array([p for r in records.values() for p in r["predictions"].values()])
        parity_plot(out / task.name / f"parity_{name}.png", data.targets[data.rows(ids)], preds,
                    f"{task.name} — {name} (predictions made elsewhere)", task.unit)
    return summary


def task_states(data_dir=None) -> list[dict]:
    """Each MatBench task: inputs, primary metric, rows and where its data is (a local file,
    an offline partial stand-in, or absent: the file it downloads)."""
    from benchmarks.tasks.matbench import PARTIAL_SOURCES
    from cloud.data import load_registry, locate

    reg = load_registry()
    out = []
    for t in select("matbench"):
        entry = reg[t.name]
        found = locate(t.name, data_dir)
        partial = PARTIAL_SOURCES.get(t.short, (None,))[0]
        targets = f"{t.name}_targets" if f"{t.name}_targets" in reg else None
        later = f"{entry.file_name} downloads from {entry.urls[0]}"
        if found is not None:
            state = f"here: {found[1]}"
        elif partial and (p := locate(partial, data_dir)) is not None:
            state = f"partial here: {p[1]}; {later}"
        elif targets and (p := locate(targets, data_dir)) is not None:
            state = f"targets only here (scoring works): {p[1]}; {later}"
        else:
            state = f"absent: {later}"
        out.append({"task": t.name, "inputs": "composition" if t.composition_only else
                    "structure", "metric": t.primary_metric, "rows": t.n_total, "data": state})
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list_tasks:
        for s in task_states(args.data_dir):
            print(f"{s['task']:24} {s['inputs']:11} {s['metric']:6} {s['rows']:>7}  {s['data']}")
        return 0
    if args.predictions is None or not args.name:
        print("error: give a predictions file and --name (or --list-tasks)", file=sys.stderr)
        return 2
    try:
        predictions = read_predictions(args.predictions, args.task, not args.no_verify_hash)
        if not predictions:
            raise ValueError(f"{args.predictions}: no predictions"
                             + (f" for {args.task}" if args.task else ""))
        suite = {t.name: t for t in select("matbench")}
        unknown = [t for t in predictions if t not in suite]
        if unknown:
            print(f"not scored (not tasks of this suite): {', '.join(unknown)}", file=sys.stderr)
        tasks = [suite[t] for t in predictions if t in suite]
        if not tasks:
            raise ValueError(f"{args.predictions}: no task of this suite "
                             f"({', '.join(suite)})")
        datas, no_data = {}, {}
        for t in tasks:
            try:
                datas[t.name] = official_data(t, args.data_dir)
            except DataMissingError as exc:  # e.g. offline: its dataset file is not here
                no_data[t.name] = str(exc).splitlines()[0]
        for name, why in no_data.items():
            print(f"not scored ({name}): {why}", file=sys.stderr)
        tasks = [t for t in tasks if t.name in datas]
        if not tasks:
            raise ValueError(f"{args.predictions}: none of its tasks has its data here")
        for t in tasks:
            check_coverage(t.name, predictions[t.name], datas[t.name].folds)
    except (CoverageError, ValueError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    digest = hashlib.sha256(args.predictions.read_bytes()).hexdigest()
    source = {"type": "external", "source": args.predictions.name, "sha256": digest}
    scored = {t: fold_records(t, datas[t.name], args.name, predictions[t.name], source)
              for t in tasks}
    summary = add_rows(args.out, args.name, scored, datas, source)
    write_summary(args.out, summary)
    board = select(",".join(summary["tasks"]))
    (args.out / "leaderboard.md").write_text(leaderboard_markdown(summary, board))
    for t in tasks:
        score = summary["tasks"][t.name]["models"][args.name]["summary"][t.primary_metric]
        print(f"{t.name} {args.name}: {t.primary_metric} {score['mean']:.4g} ± "
              f"{score['std']:.4g} (5 folds)", file=sys.stderr)
    print(f"leaderboard: {args.out / 'leaderboard.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
