"""A run's summary (``summary.json``'s content) from its plan and its records in memory.

Nothing here reads or writes a file: the summary is a function of the plan (tasks, models,
data, what was skipped or missing) and of the fold records (reused and computed), so the
leaderboard, ``summary.json`` and ``evaluate()``'s results all say the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.models import describe_model
from benchmarks.reports.account import account
from benchmarks.reports.run_labels import fold_sample, model_label, run_title
from benchmarks.reports.summary import model_summary


@dataclass
class TaskOutcome:
    """Per model of one task: its fold records (reused ones first, in fold order, then the
    computed ones in job order) and its failed folds' errors."""

    results: dict[str, dict[int, dict]] = field(default_factory=dict)
    failed: dict[str, dict[int, str]] = field(default_factory=dict)


def gather(plan, records: list[dict]) -> dict[str, TaskOutcome]:
    """Sort the executor's records (in ``plan.jobs`` order) into each task's outcome."""
    out = {t.name: TaskOutcome({m: dict(r) for m, r in t.reused.items()}) for t in plan.tasks}
    for job, record in zip(plan.jobs, records, strict=True):
        outcome = out[job.task]
        if record["status"] == "done":
            outcome.results[job.model][job.fold_index] = record
        else:
            outcome.failed.setdefault(job.model, {})[job.fold_index] = record["error"]
    return out


def records_sample(records: dict[int, dict], folds) -> dict | None:
    """Per-fold rows and epochs of a model's fold records (``run_labels.model_sample`` from
    the records in memory)."""
    per_fold = {str(k): fold_sample(records[int(k)]) for k in sorted(int(f) for f in folds)
                if int(k) in records}
    if not per_fold:
        return None
    kind = next(((records[int(k)].get("config") or {}).get("type") for k in per_fold), None)
    values = list(per_fold.values())
    return {"model_type": kind, "folds": per_fold,
            **{key: sorted({v[key] for v in values if v[key] is not None})
               for key in ("n_train", "n_test", "epochs", "epochs_run")}}


def model_entry(task_plan, name: str, results: dict[int, dict], failed: dict,
                smoke: bool) -> dict:
    """A model's summary entry from its fold records (``results``: fold -> record)."""
    task = task_plan.task
    missing = task_plan.missing_folds.get(name, [])
    first = next(iter(results.values()))
    spec = first["config"]
    planned = task_plan.models.specs.get(name)
    description = describe_model(spec, smoke, first.get("encoder"),
                                 planned.declarations if planned is not None else None)
    if failed:
        description += f"; folds {sorted(failed)} failed"
    if [k for k in missing if k not in task.extra_folds]:
        description += f"; only folds {sorted(results)} of {task_plan.folds} finished"
    cv = {k: r for k, r in results.items() if k not in task.extra_folds} or results
    data = task_plan.model_data(spec)
    entry = {**model_summary(cv), "type": spec["type"], "coverage": data.coverage,
             "description": description,
             **({"encoder": first["encoder"]} if first.get("encoder") else {}),
             "trained_on": sorted({r.get("device", "not recorded") for r in results.values()})}
    extra = {f"{task.extra_folds[k]} (fold {k})": results[k]["metrics"]
             for k in sorted(results) if k in task.extra_folds and cv is not results}
    if extra:  # e.g. the phonon tasks' original split, never averaged into the CV mean
        entry["extra_folds"] = extra
    if missing:
        entry["missing_folds"] = missing
    if any(r.get("attention") for r in results.values()):  # attention_report.py writes it
        entry["attention"] = f"{task.name}/attention_{name}.json"
    sample = records_sample(results, entry["folds"])
    if sample is not None:
        entry["sample"] = sample
    entry["label"] = model_label(entry.get("sample"), smoke)
    return entry


def task_entry(task_plan, outcome: TaskOutcome, smoke: bool) -> dict:
    """A task's entry of the summary: its data, models, failures, skips and rows."""
    entry: dict = {"family": task_plan.task.family}
    if task_plan.skipped is not None:
        entry.update(status="skipped", reason=task_plan.skipped)
        return entry
    data = task_plan.main_data
    entry.update(status="done", source=data.source, coverage=data.coverage,
                 partial=data.partial, n_rows=len(data.ids), n_total=data.n_total,
                 n_input_errors=len(data.errors), checksums=data.checksums, models={})
    skipped = dict(task_plan.skipped_models)
    if task_plan.missing_folds:
        entry["missing_folds"] = task_plan.missing_folds
    if outcome.failed:
        entry["failed"] = outcome.failed
    for name in task_plan.jobs:
        results = outcome.results.get(name) or {}
        if results:
            entry["models"][name] = model_entry(task_plan, name, results,
                                                outcome.failed.get(name), smoke)
        elif task_plan.missing_folds.get(name):
            skipped[name] = f"--report-only: no finished fold in {task_plan.dir / name}"
    if skipped:
        entry["skipped_models"] = skipped
    entry["rows"] = row_status(task_plan, entry)
    jobs_s = sum(r.get("time_s", 0.0) for name in task_plan.jobs
                 for k, r in (outcome.results.get(name) or {}).items()
                 if k not in task_plan.reused.get(name, {}))
    entry["time_s"] = task_plan.load_s + jobs_s  # loading, plus its jobs' own times
    return entry


def row_status(task_plan, entry: dict) -> dict[str, dict]:
    """Each requested model's row of this task: done, failed (which folds, why) or skipped
    (why)."""
    rows = {}
    models = task_plan.models
    for name in models.names:
        if name in entry.get("failed", {}):
            rows[name] = {"status": "failed", "reason": "; ".join(
                f"fold {k}: {e}" for k, e in sorted(entry["failed"][name].items()))}
        elif name in entry["models"]:
            rows[name] = {"status": "done"}
        elif name in entry.get("skipped_models", {}):
            rows[name] = {"status": "skipped", "reason": entry["skipped_models"][name]}
        elif name in models.not_here:
            rows[name] = {"status": "skipped", "reason": models.not_here[name]}
    return rows


def run_summary(plan, outcomes: dict[str, TaskOutcome], run: dict) -> dict:
    """The whole summary: ``run`` (when, where, what), every task's entry, the account."""
    smoke = plan.options.smoke
    summary = {"run": dict(run), "tasks": {t.name: task_entry(t, outcomes[t.name], smoke)
                                           for t in plan.tasks}}
    rows = account(summary)
    summary["account"] = {k: [list(r) for r in v] for k, v in rows.items()}
    summary["run"]["label"] = run_title(summary)
    return summary
