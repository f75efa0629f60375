"""The files of a run, written by the driver alone from the plan, the records and the summary:
per task ``input_errors.csv``, parity plots and attention reports; family files (matbench
results, phonon analyses, discovery outputs); ``summary.json``, ``leaderboard.md`` and
``manifest.json``.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from benchmarks.jobs import Job, drop_weights
from benchmarks.reports.summary import parity_plot
from cloud.fileio import write_json_atomic


def store_record(job: Job, record: dict) -> None:
    """Write a job's record: its fold file (then its training weights go) or its error."""
    if record["status"] == "done":
        write_json_atomic(job.result_path, record)
        job.error_path.unlink(missing_ok=True)
        drop_weights(job)
    else:
        write_json_atomic(job.error_path, record)


def write_input_errors(task_dir: Path, data) -> None:
    task_dir.mkdir(parents=True, exist_ok=True)
    with open(task_dir / "input_errors.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([("id", "kind", "message"), *data.errors])


def family_results(plan, outcomes) -> dict[str, dict]:
    """Per task with finished folds: what the family writers read (records by model, the
    targets, the data the run loaded and where from)."""
    out: dict[str, dict] = {}
    for t in plan.tasks:
        for name in t.jobs:
            results = outcomes[t.name].results.get(name)
            if not results:
                continue
            data = t.main_data
            out.setdefault(t.name, {
                "partial": data.partial, "models": {},
                "targets": dict(zip(data.ids, data.targets.tolist(), strict=True)),
                "data": data, "data_dir": plan.options.data_dir,
                "progress": plan.options.progress, "model_data": {}})
            out[t.name]["models"][name] = results
            # the rows each model saw (its SCOPE mode's encoding), for the row statistics
            out[t.name]["model_data"][name] = t.model_data(next(iter(results.values()))["config"])
    return out


def write_task_files(plan, outcomes, summary: dict) -> None:
    """Parity plot and attention report of every model with finished folds."""
    from benchmarks.reports.attention_report import write_attention_report

    smoke = plan.options.smoke
    for t in plan.tasks:
        entry = summary["tasks"][t.name]
        for name, res in entry.get("models", {}).items():
            results = outcomes[t.name].results[name]
            data = t.model_data(next(iter(results.values()))["config"])
            ids = [i for r in results.values() for i in r["predictions"]]
            preds = np.array([p for r in results.values() for p in r["predictions"].values()])
            parity_plot(t.dir / f"parity_{name}.png", data.targets[data.rows(ids)], preds,
                        f"{t.name} — {name}" + (" (SMOKE RUN)" if smoke else
                                                 f" ({data.coverage})"), t.task.unit)
            if res.get("attention"):
                write_attention_report(t.dir, t.name, name, results, res["description"])


def write_run_outputs(plan, outcomes, summary: dict, board: str, start: float,
                      processes: dict, parity: dict) -> None:
    """Every file of the run in ``plan.options.out`` (``board``: the leaderboard's Markdown;
    ``parity``: the leaderboard page's parity samples; ``summary`` gains ``family_outputs``:
    the family files written)."""
    from benchmarks.plan import run_config
    from benchmarks.reports.page_data import PARITY_FILE
    from cloud.manifest import write_manifest

    options = plan.options
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    for t in plan.tasks:
        if t.skipped is None:
            write_input_errors(t.dir, t.main_data)
    write_task_files(plan, outcomes, summary)
    results = family_results(plan, outcomes)
    tasks = [t.task for t in plan.tasks]
    for family in dict.fromkeys(t.family for t in tasks):
        members = [t for t in tasks if t.family == family]
        mine = {t.name: results[t.name] for t in members if t.name in results}
        if mine:
            summary.setdefault("family_outputs", {})[family] = [
                str(p) for p in members[0].write_family_outputs(out, mine)]
    write_json_atomic(out / PARITY_FILE, parity, indent=None)
    write_json_atomic(out / "summary.json", summary)
    (out / "leaderboard.md").write_text(board)
    write_manifest(out / "manifest.json",
                   config={t.name: run_config(plan.layers, t.task, options) for t in plan.tasks},
                   data={f"{n}:{f}": c for n, e in summary["tasks"].items()
                         for f, c in e.get("checksums", {}).items()},
                   seeds={"train": "per model config (train.seed)", "smoke_folds": "fold index"},
                   timings={"total_s": time.perf_counter() - start,
                            **{n: e.get("time_s") for n, e in summary["tasks"].items()}},
                   processes=processes,
                   encoders={f"{n}:{m}": s["encoder"] for n, e in summary["tasks"].items()
                             for m, s in e.get("models", {}).items() if s.get("encoder")},
                   args=manifest_args(options))


def manifest_args(options) -> dict[str, str]:
    """The run's options as the manifest records them (strings; lists comma-joined)."""
    from dataclasses import fields

    from benchmarks.models import ModelSpec

    def text(value):
        if isinstance(value, list | tuple):
            return ",".join(v.name if isinstance(v, ModelSpec) else str(v) for v in value)
        return str(value)

    return {f.name: text(getattr(options, f.name)) for f in fields(options)}
