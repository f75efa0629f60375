"""Paired comparison of two runs' predictions on the same folds of a task.

``python -m benchmarks.reports.compare RUN_A RUN_B --task matbench_jdft2d --model cloud``
reads ``<RUN>/<task>/<model>/fold_<k>.json`` of both runs (``--model-b`` when the second
run's model has another name), keeps the test rows both predicted (same id, same fold),
and prints the fold-mean metric of each and their difference A - B with its paired-
bootstrap 95 % interval and p-value (``benchmarks.stats.paired_comparison``; rows resampled
within folds). ``--json OUT`` writes the result. The targets come from the task's data
(``--data-dir`` or ``$CLOUD_DATA_DIR``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks import stats


def read_folds(run: Path, task: str, model: str) -> dict[int, dict]:
    folder = Path(run) / task / model
    records = {int(p.stem.split("_")[1]): json.loads(p.read_text())
               for p in sorted(folder.glob("fold_*.json"))}
    if not records:
        raise FileNotFoundError(f"no fold_<k>.json in {folder} (a committed run's folds: "
                                "python -m benchmarks.reports.archive fetch --from git --run "
                                f"{Path(run).name})")
    return records


def compare_runs(task, data, records_a: dict, records_b: dict, metric: str | None = None,
                 n_resamples: int = stats.N_RESAMPLES, seed: int = stats.SEED) -> dict:
    """A - B on the shared cross-validation rows of ``task`` (its ``data`` gives targets)."""
    from benchmarks.reports.task_stats import SCORERS, TaskTruth, aligned_rows, model_rows

    metric = metric or task.primary_metric
    scorer = SCORERS[metric]
    a, b = model_rows(records_a, task.extra_folds), model_rows(records_b, task.extra_folds)
    ids, folds, pa, pb = aligned_rows(a, b)
    if not ids:
        raise ValueError("the two runs share no test rows (same id, same fold)")
    t, pa, pb = TaskTruth(data).arrays(scorer, ids, pa, pb)
    res = stats.paired_comparison(t, pa, pb, folds, scorer.fn, n_resamples, seed)
    return {"task": task.name, "metric": metric, "lower_is_better": scorer.lower_is_better,
            "score_a": stats.fold_mean_score(t, pa, folds, scorer.fn),
            "score_b": stats.fold_mean_score(t, pb, folds, scorer.fn),
            "folds": sorted({int(f) for f in folds}), "n_rows": len(ids), **res}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.reports.compare",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1] + "\nExample:\n  python -m "
                                "benchmarks.reports.compare reports/matbench_cpu "
                                "reports/matbench_leakfree_cpu --task matbench_jdft2d --model cloud")
    p.add_argument("run_a", type=Path)
    p.add_argument("run_b", type=Path)
    p.add_argument("--task", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--model-b", default=None, help="the model's name in RUN_B (default: --model)")
    p.add_argument("--metric", default=None, help="default: the task's primary metric")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--n-resamples", type=int, default=stats.N_RESAMPLES)
    p.add_argument("--seed", type=int, default=stats.SEED)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    from benchmarks.tasks import select

    try:
        task = select(args.task)[0]
        records_a = read_folds(args.run_a, args.task, args.model)
        records_b = read_folds(args.run_b, args.task, args.model_b or args.model)
        mode = records_a[min(records_a)].get("config", {}).get("scope_mode", "paper")
        data = task.load(args.data_dir, mode, progress=False)
        res = compare_runs(task, data, records_a, records_b, args.metric, args.n_resamples,
                           args.seed)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    res.update(run_a=str(args.run_a), run_b=str(args.run_b), model_a=args.model,
               model_b=args.model_b or args.model)
    print(f"{args.task} {res['metric']} over {res['n_rows']} rows (folds {res['folds']}): "
          f"A {res['score_a']:.4g}, B {res['score_b']:.4g}; A - B = {res['delta']:.4g} "
          f"[{res['ci95'][0]:.4g}, {res['ci95'][1]:.4g}] (95 %, paired bootstrap, B = "
          f"{res['n_resamples']}, seed {res['seed']}), p = {res['p_value']:.3g}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
