"""What pretraining is worth, per task: frozen-encoder probes on the pretrained encoder vs
its random-init floor vs the composition baseline vs full fine-tuning, with paired intervals.

Reads per-fold predictions (``<run>/<task>/<model>/fold_<k>.json``) of a probe run and of the
runs holding the fine-tuned and composition rows (committed runs keep them in their archives:
``python -m benchmarks.reports.archive fetch --from git --run NAME``), the targets from the
task's own data, and scores every row on the test rows all of them predicted, on the
cross-validation folds they share (a task's separately reported folds left out). Per row: the
MAE, mean over folds, with the fold-stratified bootstrap interval
(:func:`benchmarks.stats.fold_bootstrap_ci`); per comparison: the paired difference of MAEs on
the same resampled rows with its interval and p-value
(:func:`benchmarks.stats.paired_comparison`). Writes ``pretraining.json`` and
``pretraining.md`` into the probe run's folder.

Example:
  python -m benchmarks.reports.pretraining_value reports/probes_cpu \\
      --rows-from reports/matbench_cpu reports/phonon_cpu --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

#: Row roles, in table order: (role, candidate model names, first found wins).
ROLES = (
    ("probe_ridge", ("probe_ridge",)),
    ("probe_knn", ("probe_knn",)),
    ("probe_ridge_random", ("probe_ridge_random",)),
    ("probe_knn_random", ("probe_knn_random",)),
    ("composition_rf", ("composition_rf",)),
    ("fine_tuned", ("cloud_debye", "cloud")),  # CLOUD-DEBYE on Cv/U (probes use Θ too)
)
#: Paired comparisons: (a, b); delta = MAE(a) - MAE(b) (negative: a is better).
COMPARISONS = (
    ("probe_ridge", "probe_ridge_random"),
    ("probe_knn", "probe_knn_random"),
    ("probe_ridge", "composition_rf"),
    ("fine_tuned", "probe_ridge"),
)
EXTRA_PREFIX = "probe_ridge_"  # other encoders' ridge rows (e.g. probe_ridge_nolead)


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y_true - y_pred)))


def fold_predictions(folder: Path) -> dict[int, dict[str, float]]:
    """``{fold: {id: prediction}}`` of the fold records in a model's folder."""
    out = {}
    for path in sorted(folder.glob("fold_*.json")):
        record = json.loads(path.read_text())
        if record.get("predictions"):
            out[int(path.stem.split("_")[1])] = record["predictions"]
    return out


def find_rows(task: str, runs: list[Path], extra: list[str]) -> dict[str, tuple[Path, str]]:
    """``{role: (run, model)}``: each role's model, from the first run that has its folds."""
    found: dict[str, tuple[Path, str]] = {}
    roles = list(ROLES) + [(name, (name,)) for name in extra]
    for role, names in roles:
        for run in runs:
            hit = next((n for n in names if any((run / task / n).glob("fold_*.json"))), None)
            if hit:
                found[role] = (run, hit)
                break
    return found


def task_rows(task, data, rows: dict[str, tuple[Path, str]]) -> dict | None:
    """Aligned targets, fold labels and each role's predictions on the shared rows."""
    extra = set(getattr(task, "extra_folds", {}) or {})
    preds = {role: fold_predictions(run / task.name / model)
             for role, (run, model) in rows.items()}
    folds = sorted(set.intersection(*(set(p) for p in preds.values())) - extra)
    if not folds:
        return None
    ids, labels = [], []
    for k in folds:
        common = set.intersection(*(set(p[k]) for p in preds.values()))
        fold_ids = [i for i in data.folds[k].test if i in common]
        ids += fold_ids
        labels += [k] * len(fold_ids)
    _, y, _ = data.subset(ids)
    by_fold = dict(zip(ids, labels, strict=True))
    return {"ids": ids, "y": np.asarray(y, dtype=float), "folds": np.asarray(labels),
            "preds": {role: np.array([p[by_fold[i]][i] for i in ids], dtype=float)
                      for role, p in preds.items()}}


def score_task(task, data, rows: dict, n_resamples: int, seed: int) -> dict | None:
    from benchmarks.stats import fold_bootstrap_ci, fold_mean_score, paired_comparison

    aligned = task_rows(task, data, rows)
    if aligned is None:
        return None
    y, folds = aligned["y"], aligned["folds"]
    entry = {"n_rows": len(y), "folds": sorted({int(k) for k in folds}), "unit": task.unit,
             "rows": {}, "comparisons": []}
    for role, pred in aligned["preds"].items():
        entry["rows"][role] = {
            "run": rows[role][0].name, "model": rows[role][1],
            "mae": fold_mean_score(y, pred, folds, mae),
            "ci95": list(fold_bootstrap_ci(y, pred, folds, mae, n_resamples, seed))}
    extra = [r for r in aligned["preds"] if r.startswith(EXTRA_PREFIX)
             and r != "probe_ridge_random"]
    for a, b in [*COMPARISONS, *((r, "probe_ridge") for r in extra)]:
        if a in aligned["preds"] and b in aligned["preds"]:
            res = paired_comparison(y, aligned["preds"][a], aligned["preds"][b], folds, mae,
                                    n_resamples, seed)
            entry["comparisons"].append({"a": a, "b": b, **res})
    return entry


def _num(x: float) -> str:
    return f"{x:.4g}" if abs(x) < 1000 else f"{x:.0f}"


def markdown(result: dict) -> str:
    """The tables of :func:`pretraining_value`'s result."""
    lines = ["# What pretraining is worth: frozen-encoder probes vs fine-tuning", "",
             result["note"], ""]
    for task, e in result["tasks"].items():
        unit = f" ({e['unit']})" if e.get("unit") else ""
        lines += [f"## {task}", "", f"MAE{unit}, mean over folds {e['folds']} on the "
                  f"{e['n_rows']} test rows every model predicted; 95% fold-stratified "
                  "bootstrap interval.", "", "| row | model (run) | MAE | 95% CI |",
                  "|---|---|---|---|"]
        for role, r in e["rows"].items():
            lines.append(f"| {role} | `{r['model']}` ({r['run']}) | {_num(r['mae'])} | "
                         f"[{_num(r['ci95'][0])}, {_num(r['ci95'][1])}] |")
        if e["comparisons"]:
            lines += ["", "| paired comparison | ΔMAE (a − b) | 95% CI | p |",
                      "|---|---|---|---|"]
            for c in e["comparisons"]:
                lines.append(f"| {c['a']} − {c['b']} | {_num(c['delta'])} | "
                             f"[{_num(c['ci95'][0])}, {_num(c['ci95'][1])}] | "
                             f"{c['p_value']:.3g} |")
        lines.append("")
    return "\n".join(lines)


def pretraining_value(probe_run: Path, other_runs: list[Path], tasks: list, data_dir,
                      n_resamples: int, seed: int) -> dict:
    runs = [probe_run, *other_runs]
    extra = sorted({p.name for t in tasks for p in (probe_run / t.name).glob(EXTRA_PREFIX + "*")
                    if p.is_dir() and p.name != "probe_ridge_random"})
    out = {"note": (f"Paired bootstrap: {n_resamples} resamples of the test rows within each "
                    f"fold, seed {seed}; ΔMAE < 0 means row a is better. Probe rows: "
                    f"`{probe_run.name}`; fine-tuned and composition rows: "
                    + ", ".join(f"`{r.name}`" for r in other_runs) + "."),
           "n_resamples": n_resamples, "seed": seed, "tasks": {}}
    for task in tasks:
        rows = find_rows(task.name, runs, extra)
        if len(rows) < 2:
            continue
        data = task.load(data_dir, mode="paper_strings" if task.family == "phonon" else "paper",
                         progress=False)
        entry = score_task(task, data, rows, n_resamples, seed)
        if entry is not None:
            out["tasks"][task.name] = entry
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.reports.pretraining_value",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Example:\n" + __doc__.split("Example:\n")[1])
    p.add_argument("probe_run", type=Path, help="the probe run's folder (with fold records)")
    p.add_argument("--rows-from", type=Path, nargs="*", default=[],
                   help="runs holding the fine-tuned and composition rows' fold records")
    p.add_argument("--task", default=None, help="tasks (default: every task of the probe run)")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--n-resamples", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> int:
    from benchmarks.tasks import select
    from cloud.fileio import write_json_atomic, write_text_atomic

    args = build_parser().parse_args(argv)
    summary = json.loads((args.probe_run / "summary.json").read_text())
    tasks = select(args.task or ",".join(summary["tasks"]))
    result = pretraining_value(args.probe_run, args.rows_from, tasks, args.data_dir,
                               args.n_resamples, args.seed)
    write_json_atomic(args.probe_run / "pretraining.json", result, newline=True)
    write_text_atomic(args.probe_run / "pretraining.md", markdown(result))
    print(f"{len(result['tasks'])} tasks -> {args.probe_run / 'pretraining.md'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
