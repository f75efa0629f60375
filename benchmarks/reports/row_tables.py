"""Markdown of the row statistics (``row_stats``): per task, every model's interval, paired
comparisons, tie mark, rank, scaled error, leakage and cost; per family, the cross-task
scores. Called by ``summary.leaderboard_markdown``; reads only ``summary.json``'s fields."""

from __future__ import annotations

import math

from benchmarks.reports.cost import cost_cells

LEAKAGE_NOTE = (
    "Leakage: share of the task's test inputs whose SCOPE string (exact) / composition is in "
    "the pretraining corpus of the model's encoder, from the corpus fingerprint committed "
    "with the encoder (`cloud.train.corpus_fingerprint`); `—`: the model uses no pretrained "
    "encoder. A high share means the row is a transductive result: the encoder saw these "
    "test inputs (not their labels) while pretraining.")
STATS_NOTE = (
    "Intervals: 95 % percentile bootstrap over the test rows, resampled within each fold, "
    "of the fold-mean metric; Δ: the model minus the reference on the same rows (paired "
    "bootstrap), p Holm-corrected over the task's models; ≈ best: not distinguishable from "
    "the best at α = 0.05; rank: competition rank of tie groups (`benchmarks/stats.py`).")
COST_NOTE = (
    "Cost: seconds median / total over folds (training; 'incl. predict' where the fold "
    "record has only the job's total), the device the folds were trained on (fold records, "
    "or `fold_devices.json` from the job tables of the machine that trained them), "
    "parameters, epochs run (median, range).")


def fmt(x, digits: int | None = None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if digits is None:
        digits = 4 if abs(x) < 1 else 2
    return f"{x:.{digits}f}"


def interval(ci) -> str:
    return "—" if not ci else f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def comparison(c) -> str:
    if not c:
        return "—"
    if c.get("delta") == 0.0 and c.get("ci95") == [0.0, 0.0]:
        return "(reference)"
    text = f"{fmt(c['delta'])} {interval(c['ci95'])}, p = {fmt(c['p_holm'], 3)}"
    if c.get("mcnemar"):
        text += f"; McNemar p = {fmt(c['mcnemar']['p_value'], 3)}"
    return text


def leakage_cell(leak) -> str:
    if not leak:
        return "—"
    if "scope_string_share" not in leak:
        return "no fingerprint"
    return (f"{100 * leak['scope_string_share']:.0f} % / "
            f"{100 * leak['composition_share']:.0f} %")


def tie_mark(entry: dict, name: str) -> str:
    """``best``, ``≈ best`` or empty."""
    best = entry.get("statistics", {}).get("best")
    if name == best:
        return "best"
    return "≈ best" if name in entry.get("tie_with_best", []) else ""


def task_table(task, entry: dict, label: str) -> list[str]:
    info = entry.get("statistics")
    if not info or not info.get("best"):
        return []
    metric = task.primary_metric
    lines = [f"### {task.name}: {label}, intervals, comparisons, leakage, cost", "",
             f"Best: `{info['best']}`; strongest baseline: `{info.get('strongest_baseline')}`; "
             f"B = {info['n_resamples']} resamples, seed {info['seed']}.", "",
             f"| rank | model | {label} mean ± std | 95 % CI | Δ vs best [CI], p | "
             "Δ vs strongest baseline [CI], p | scaled error | leakage string / composition | "
             "train s | predict s | device | params | epochs |",
             "|" + "---|" * 13]
    models = sorted(entry["models"].items(), key=lambda kv: (kv[1].get("rank") or 1e9, kv[0]))
    for name, m in models:
        s = m["summary"].get(metric, {})
        mark = tie_mark(entry, name)
        cost = cost_cells(m.get("cost") or {})
        se = m.get("scaled_error") or {}
        lines.append(
            f"| {m.get('rank') or '— (fewer rows)'} | {name}{f' ({mark})' if mark else ''} | "
            f"{fmt(s.get('mean'))} ± {fmt(s.get('std'))} | "
            f"{interval(m.get('ci95', {}).get(metric))} | {comparison(m.get('vs_best'))} | "
            f"{comparison(m.get('vs_baseline'))} | {fmt(se.get('value'), 3)} | "
            f"{leakage_cell(m.get('leakage'))} | {cost['train_s']} | {cost['predict_s']} | "
            f"{cost['device']} | {cost['params']} | {cost['epochs']} |")
    return [*lines, ""]


def cross_task_lines(summary: dict, family: str) -> list[str]:
    block = summary.get("cross_task", {}).get(family)
    if not block:
        return []
    label = "MAE/MAD" if block["metric"] == "mae_over_mad" else "scaled error (MAE / MAD)"
    shared = block["shared_tasks"]
    lines = [f"### {family}: cross-task {label}", "",
             f"Mean over the tasks each model ran (of {block['n_tasks_in_family']} in this "
             f"run); compared over the {len(shared)} tasks shared "
             f"({', '.join(shared) or 'none'}).", "",
             "| model | mean (tasks) | mean over shared tasks | mean rank over shared tasks |",
             "|---|---|---|---|"]
    rows = sorted(block["models"].items(), key=lambda kv: (
        kv[1]["mean_shared"] is None, kv[1]["mean_shared"] or 0.0, kv[0]))
    for name, m in rows:
        lines.append(f"| {name} | {fmt(m['mean'], 3)} ({m['n_tasks']}) | "
                     f"{fmt(m['mean_shared'], 3)} | {fmt(m['mean_rank_shared'], 1)} |")
    return [*lines, ""]


def detail_lines(summary: dict, members: list, labels: list[str]) -> list[str]:
    """The statistics tables of a family's tasks, its cross-task table and the notes."""
    lines = []
    for task, label in zip(members, labels, strict=True):
        lines += task_table(task, summary["tasks"].get(task.name, {}), label)
    if not lines:
        return []
    lines += cross_task_lines(summary, members[0].family)
    return [*lines, STATS_NOTE, "", LEAKAGE_NOTE, "", COST_NOTE, ""]
