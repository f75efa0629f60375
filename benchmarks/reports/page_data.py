"""The rows and parity points of the leaderboard page, from runs' ``summary.json`` (and,
where a run's fold files are present, its test predictions)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from benchmarks.reports.cost import cost_cells
from benchmarks.reports.row_tables import tie_mark

PARITY_FILE = "parity_points.json"  # written with the summary: {"plots": {task/model: ...}}
MAX_PARITY_POINTS = 200  # per plot: a seeded sample of the test rows beyond this
PARITY_SEED = 0


def _num(x, digits: int = 5):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return float(f"{x:.{digits}g}")


def _task(name: str):
    from benchmarks.tasks import select

    try:
        return select(name)[0]
    except (KeyError, ValueError):
        return None


def parity_sample(y_true, y_pred) -> dict:
    """Up to ``MAX_PARITY_POINTS`` (target, prediction) pairs (a seeded sample beyond that)
    and how many there were."""
    pairs = [(a, b) for a, b in zip(y_true, y_pred, strict=True)
             if math.isfinite(a) and math.isfinite(b)]
    n = len(pairs)
    if n > MAX_PARITY_POINTS:
        keep = np.random.default_rng(PARITY_SEED).choice(n, MAX_PARITY_POINTS, replace=False)
        pairs = [pairs[k] for k in sorted(keep)]
    return {"n_total": n, "points": [[_num(a, 4), _num(b, 4)] for a, b in pairs]}


def read_parity(run_dir: Path) -> dict:
    path = Path(run_dir) / PARITY_FILE
    return json.loads(path.read_text())["plots"] if path.exists() else {}


def run_rows(run_dir: Path) -> tuple[list, dict]:
    """Table rows of one run (models and, for full runs, the paper's rows) and its parity
    plots (``parity_points.json``, where the run has one)."""
    from benchmarks.reports.run_labels import is_smoke

    summary = json.loads((Path(run_dir) / "summary.json").read_text())
    run = Path(run_dir).name
    rows, plots, parity = [], {}, read_parity(run_dir)
    for tname, entry in summary.get("tasks", {}).items():
        task = _task(tname)
        metric = task.primary_metric if task else None
        for model, m in entry.get("models", {}).items():
            s = m.get("summary", {}).get(metric, {}) if metric else {}
            ci = m.get("ci95", {}).get(metric) or [None, None]
            vs = m.get("vs_best") or {}
            cost = m.get("cost") or {}
            cells = cost_cells(cost)
            leak = m.get("leakage") or {}
            key = f"{run}/{tname}/{model}"
            pts = parity.get(f"{tname}/{model}")
            if pts is not None:
                plots[key] = {**pts, "title": f"{tname} — {model} ({run})",
                              "unit": task.unit if task else ""}
            rows.append({
                "run": run, "family": entry.get("family"), "task": tname, "model": model,
                "paper": False, "metric": metric, "mean": _num(s.get("mean")),
                "std": _num(s.get("std")), "ci_lo": _num(ci[0]), "ci_hi": _num(ci[1]),
                "mark": tie_mark(entry, model), "rank": m.get("rank"),
                "delta_best": _num(vs.get("delta")), "p_best": _num(vs.get("p_holm")),
                "scaled_error": _num((m.get("scaled_error") or {}).get("value")),
                "leak_string": _num(leak.get("scope_string_share")),
                "leak_composition": _num(leak.get("composition_share")),
                "train_s": _num((cost.get("train_s") or {}).get("median")),
                "train_total_s": _num((cost.get("train_s") or {}).get("total")),
                "predict_s": _num((cost.get("predict_s") or {}).get("median")),
                "device": cells["device"], "params": cost.get("n_parameters"),
                "epochs": _num((cost.get("epochs") or {}).get("median")),
                "n_folds": m.get("n_folds"), "description": m.get("description", ""),
                "parity": key if pts is not None else None})
        if task is not None and not is_smoke(summary):
            paper = task.paper_rows()
            for name in ([] if paper is None else paper.index):
                rows.append({"run": run, "family": entry.get("family"), "task": tname,
                             "model": f"{name} (paper)", "paper": True, "metric": metric,
                             "mean": _num(paper.loc[name, "mean"]),
                             "std": _num(paper.loc[name, "std"]),
                             "description": "published in arXiv 2506.17345 (restated in "
                                            "benchmarks/reference/paper_results.json)"})
    return rows, plots
