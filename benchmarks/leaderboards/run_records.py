"""A finished run folder read back: its summary, its fold records, its family results.

``benchmarks/run.py --out RUN`` leaves ``RUN/summary.json`` and one
``RUN/<task>/<model>/fold_<k>.json`` per finished fold (the committed runs keep those in
their bulk archive: ``python -m benchmarks.reports.archive fetch --from git --run NAME``).
"""

from __future__ import annotations

import json
from pathlib import Path

FOLDS_MISSING = ("no fold records under {run}/<task>/<model>/ (a committed run keeps them in "
                 "its bulk archive: python -m benchmarks.reports.archive fetch --from git "
                 "--run {name})")


def load_summary(run: Path) -> dict:
    path = Path(run) / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: not a finished run folder")
    return json.loads(path.read_text())


def fold_records(run: Path, task: str, model: str) -> dict[int, dict]:
    """``{fold: record}`` of one task and model (finished folds only)."""
    out = {}
    for path in sorted((Path(run) / task / model).glob("fold_*.json")):
        k = path.stem.removeprefix("fold_")
        if k.isdigit():
            record = json.loads(path.read_text())
            if record.get("status", "done") == "done" and "predictions" in record:
                out[int(k)] = record
    return out


def family_tasks(summary: dict, family: str) -> list[str]:
    return [t for t, e in summary.get("tasks", {}).items()
            if e.get("family") == family and e.get("status") == "done"]


def run_date(summary: dict) -> str | None:
    """``yyyy-mm-dd`` of the run (its summary's ``created``)."""
    created = summary.get("run", {}).get("created")
    return created[:10] if created else None


def matbench_datestamp(summary: dict) -> str | None:
    """The run's creation time in matbench's datestamp format."""
    created = summary.get("run", {}).get("created")
    if not created:
        return None
    import datetime as dt

    from benchmarks.reports.matbench_results import DATESTAMP_FORMAT

    return dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").strftime(DATESTAMP_FORMAT)


def matbench_per_model(run: Path, summary: dict, data_dir=None) -> dict[str, tuple]:
    """``{model: (preds, targets, folds, records)}`` of the MatBench tasks every model ran
    on all five folds of complete data (what ``write_run_submissions`` takes)."""
    from benchmarks.tasks import select
    from cloud.data import matbench_folds, read_matbench_targets

    adapters = {t.name: t for t in select("matbench")}
    per_model: dict[str, tuple] = {}
    for task in family_tasks(summary, "matbench"):
        entry = summary["tasks"][task]
        if entry.get("partial") or task not in adapters:
            continue
        target = read_matbench_targets(task, data_dir=data_dir)[adapters[task].target]
        for model in entry.get("models", {}):
            records = fold_records(run, task, model)
            if sorted(records) != list(range(5)):
                continue
            preds, targets, folds, recs = per_model.setdefault(model, ({}, {}, {}, {}))
            preds[task] = [records[k]["predictions"] for k in range(5)]
            targets[task] = target.to_dict()
            folds[task] = matbench_folds(task)
            recs[task] = records
    return per_model


def run_versions(run: Path) -> dict[str, str]:
    """``{package: version}`` the run's manifest recorded (``python`` included); {} if none."""
    path = Path(run) / "manifest.json"
    return dict(json.loads(path.read_text()).get("versions") or {}) if path.is_file() else {}


def pins(versions: dict[str, str]) -> list[str]:
    return [f"{k}=={v}" for k, v in versions.items() if k != "python"]
