"""Everything a leaderboard row needs besides its fold mean: intervals, paired comparisons
and ties (``task_stats``), scaled error, pretraining leakage, cost and provenance (``cost``),
and the cross-task scores of each family. One entry point, :func:`add_row_statistics`, over
the records a run already holds (each task's data, each model's fold records).

Scaled error (MatBench's cross-task score): a task's test MAE (fold mean) divided by the
mean absolute deviation of the task's targets about their mean, over the whole data set
(matbench's ``mad``). A model's cross-task score is the mean over the tasks it ran, shown
with how many; models are compared (mean score, mean rank) only over the tasks they all
ran. The phonon family's own pair is its primary metric, the paper's MAE/MAD per fold.

Leakage: for a model fine-tuned from an encoder whose folder holds a corpus fingerprint
(``cloud.train.corpus_fingerprint``), the share of the task's test inputs (the model's SCOPE
strings) that are in the pretraining corpus exactly, and the share whose composition is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from benchmarks.metrics import mad
from benchmarks.reports.cost import encoder_dir, model_cost, read_fold_devices
from benchmarks.reports.page_data import MAX_PARITY_POINTS, PARITY_SEED, parity_sample
from benchmarks.reports.task_stats import SCORERS, TaskStats, TaskTruth, model_rows

CROSS_TASK = {"phonon": "mae_over_mad"}  # family -> metric; others: the scaled error


def is_baseline(model_type: str) -> bool:
    """A model of the project's ``baselines`` package (the registry's class path)."""
    from benchmarks.models.registry import class_path

    path = class_path(model_type) or ""
    return path.startswith("baselines.")


def leakage(texts: list[str], encoder: Path | None) -> dict | None:
    """Shares of ``texts`` in the encoder's pretraining corpus (string, composition)."""
    from cloud.train.corpus_fingerprint import FILE, fingerprint_of

    if encoder is None:
        return None
    fp = fingerprint_of(encoder)
    if fp is None:
        return {"encoder": encoder.name, "fingerprint": f"none ({encoder.name}/{FILE} missing)"}
    strings = fp.contains_strings(texts)
    comps = fp.contains_compositions(texts)
    return {"encoder": encoder.name, "n_test_inputs": len(texts),
            "scope_string_share": float(strings.mean()) if texts else float("nan"),
            "composition_share": float(comps.mean()) if texts else float("nan"),
            "corpus_strings": fp.n_strings}


def _model_extras(task, entry: dict, res: dict, out_dir: Path, plots: dict) -> None:
    devices = read_fold_devices(out_dir) if out_dir is not None else {}
    targets = None
    for name, records in res["models"].items():
        model = entry["models"].get(name)
        if model is None:
            continue
        data = res.get("model_data", {}).get(name)
        rows = model_rows(records, task.extra_folds)
        model["cost"] = model_cost(records, devices)
        model["trained_on"] = model["cost"]["device"]
        first = records[min(records)]
        if data is not None:
            texts = [data.texts[data.rows([i])[0]] for i in dict.fromkeys(rows.ids)]
            model["leakage"] = leakage(texts, encoder_dir(first))
            targets = np.asarray(data.targets, float)
            plots[f"{task.name}/{name}"] = parity_sample(targets[data.rows(rows.ids)],
                                                         rows.preds)
        mae = model["summary"].get("mae", {}).get("mean")
        if targets is not None and mae is not None and task.primary_metric != "full/F1":
            scale = mad(targets)
            ci = model.get("ci95", {}).get("mae")
            model["scaled_error"] = {"value": mae / scale, "mad": scale,
                                     **({"ci95": [ci[0] / scale, ci[1] / scale]} if ci else {})}


def _task_stats(task, entry: dict, res: dict) -> None:
    data = next(iter(res.get("model_data", {}).values()), None)
    if data is None or task.primary_metric not in SCORERS:
        return
    rows = {n: model_rows(r, task.extra_folds) for n, r in res["models"].items()
            if n in entry["models"]}
    rows = {n: r for n, r in rows.items() if r.ids}
    if not rows:
        return
    baselines = {n for n in rows if is_baseline(entry["models"][n].get("type", ""))}
    TaskStats(TaskTruth(data), rows, task.primary_metric, baselines).annotate(entry)


def _cross_task_value(family: str, model: Mapping) -> float | None:
    metric = CROSS_TASK.get(family)
    if metric is not None:
        return model["summary"].get(metric, {}).get("mean")
    return (model.get("scaled_error") or {}).get("value")


def cross_task(summary: dict, tasks) -> dict:
    """Per family: each model's mean score over the tasks it ran (and how many), the tasks
    shared by the models that ran the most, and the mean score and mean rank over those."""
    out = {}
    by_family: dict[str, list] = {}
    for t in tasks:
        by_family.setdefault(t.family, []).append(t)
    for family, members in by_family.items():
        per_model: dict[str, dict[str, float]] = {}
        ranks: dict[str, dict[str, int]] = {}
        for t in members:
            entry = summary["tasks"].get(t.name, {})
            for name, model in entry.get("models", {}).items():
                v = _cross_task_value(family, model)
                if v is not None and np.isfinite(v):
                    per_model.setdefault(name, {})[t.name] = float(v)
                    if model.get("rank") is not None:
                        ranks.setdefault(name, {})[t.name] = model["rank"]
        if not per_model:
            continue
        most = max(len(v) for v in per_model.values())
        shared = sorted(set.intersection(*(set(v) for v in per_model.values()
                                           if len(v) == most)))
        models = {}
        for name, values in per_model.items():
            covers = set(shared) <= set(values)
            models[name] = {"mean": float(np.mean(list(values.values()))),
                            "n_tasks": len(values), "tasks": sorted(values),
                            "mean_shared": (float(np.mean([values[t] for t in shared]))
                                            if covers else None),
                            "mean_rank_shared": (float(np.mean([ranks[name][t] for t in shared]))
                                                 if covers and all(t in ranks.get(name, {})
                                                                   for t in shared) else None)}
        out[family] = {"metric": CROSS_TASK.get(family, "scaled_error"),
                       "n_tasks_in_family": len(members), "shared_tasks": shared,
                       "models": models}
    return out


def add_row_statistics(summary: dict, tasks, family_results: Mapping,
                       out_dir: Path | None) -> dict:
    """Add intervals, comparisons, ties, ranks, scaled error, leakage and cost to every
    task's models in ``summary`` (in place), and ``summary["cross_task"]``. Returns the
    parity-plot samples of the leaderboard page (``{"plots": {"task/model": ...}}``, for
    ``page_data.PARITY_FILE``)."""
    plots: dict[str, dict] = {}
    for task in tasks:
        entry = summary["tasks"].get(task.name, {})
        res = family_results.get(task.name)
        if res is None or not entry.get("models"):
            continue
        _task_stats(task, entry, res)
        _model_extras(task, entry, res, None if out_dir is None else Path(out_dir), plots)
    summary["cross_task"] = cross_task(summary, tasks)
    return {"about": "test (target, prediction) pairs per task/model for the leaderboard page: "
                     f"at most {MAX_PARITY_POINTS} a plot (seeded sample, seed {PARITY_SEED})",
            "plots": plots}
