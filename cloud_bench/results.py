"""Typed results of a benchmark run: per fold, per task, per run.

:class:`RunResult` holds the run's summary (the content of ``summary.json``), its leaderboard
and every fold record; :meth:`RunResult.to_frame` is one tidy table (``task``, ``model``,
``fold``, ``metric``, ``value``); :meth:`RunResult.save` writes the folder
:func:`load_results` reads back — the same layout the command line writes, so
``load_results("runs/benchmark")`` reads a command-line run too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cloud.fileio import write_json_atomic


@dataclass(frozen=True)
class FoldResult:
    """One model on one fold: its test metrics and predictions (``record``: the full fold
    record: config, job key, device, history...)."""

    task: str
    model: str
    fold: int
    metrics: dict[str, float]
    predictions: dict[str, float]
    record: dict = field(repr=False, default_factory=dict)

    @classmethod
    def from_record(cls, record: dict) -> FoldResult:
        return cls(record["task"], record["model"], int(record["fold"]),
                   dict(record.get("metrics") or {}), dict(record.get("predictions") or {}),
                   record)


@dataclass(frozen=True)
class TaskResult:
    """One task of a run: its summary entry (data, models, rows, skips) and fold results."""

    task: str
    family: str
    status: str  # done | skipped
    entry: dict = field(repr=False, default_factory=dict)
    folds: tuple[FoldResult, ...] = ()
    primary_metric: str = "mae"

    @property
    def models(self) -> list[str]:
        return list(self.entry.get("models", {}))

    def metric(self, model: str, metric: str | None = None) -> dict:
        """``{"mean", "std", "min", "max"}`` over the cross-validation folds of one model's
        metric (default: the task's primary metric)."""
        return self.entry["models"][model]["summary"][metric or self.primary_metric]


@dataclass
class RunResult:
    """A whole run: ``summary`` (``summary.json``), ``tasks`` by name, the leaderboard."""

    summary: dict
    tasks: dict[str, TaskResult]
    leaderboard_md: str = ""

    @property
    def folds(self) -> list[FoldResult]:
        return [f for t in self.tasks.values() for f in t.folds]

    @property
    def account(self) -> dict[str, list]:
        """Leaderboard rows ``done``, ``failed`` and ``skipped``: (task, model, reason)."""
        return {k: [tuple(r) for r in v] for k, v in self.summary.get("account", {}).items()}

    def to_frame(self):
        """One row per (task, model, fold, metric): a tidy ``pandas.DataFrame``."""
        import pandas as pd

        rows = [(f.task, f.model, f.fold, m, float(v)) for f in self.folds
                for m, v in sorted(f.metrics.items())
                if isinstance(v, int | float) and not isinstance(v, bool)]
        frame = pd.DataFrame(rows, columns=["task", "model", "fold", "metric", "value"])
        return frame.sort_values(["task", "model", "fold", "metric"], ignore_index=True)

    def leaderboard(self) -> str:
        """The leaderboard in Markdown, as the command line writes ``leaderboard.md``."""
        return self.leaderboard_md

    def save(self, folder: str | Path) -> Path:
        """``summary.json``, ``leaderboard.md`` and every fold record
        (``<task>/<model>/fold_<k>.json``) in ``folder``."""
        folder = Path(folder)
        for f in self.folds:
            write_json_atomic(folder / f.task / f.model / f"fold_{f.fold}.json", f.record)
        write_json_atomic(folder / "summary.json", self.summary)
        (folder / "leaderboard.md").write_text(self.leaderboard_md)
        return folder

    def __repr__(self) -> str:
        done = {k: len(v) for k, v in self.account.items()}
        return (f"RunResult(tasks={list(self.tasks)}, rows={done}, "
                f"folds={len(self.folds)})")


def run_result(summary: dict, records: dict[str, list[dict]], leaderboard_md: str,
               primary: dict[str, str] | None = None) -> RunResult:
    """A :class:`RunResult` from a summary, the fold records by task, the leaderboard and
    each task's primary metric (default: the registered task's)."""
    tasks = {}
    for name, entry in summary["tasks"].items():
        folds = tuple(sorted((FoldResult.from_record(r) for r in records.get(name, [])),
                             key=lambda f: (f.model, f.fold)))
        metric = (primary or {}).get(name) or _primary_metric(name)
        tasks[name] = TaskResult(name, entry.get("family", ""), entry.get("status", ""),
                                 entry, folds, metric)
    return RunResult(summary, tasks, leaderboard_md)


def load_results(folder: str | Path) -> RunResult:
    """The :class:`RunResult` of a run folder (written by :meth:`RunResult.save` or by the
    command line): its summary, leaderboard and the fold records its summary reports."""
    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text())
    records: dict[str, list[dict]] = {}
    for name, entry in summary["tasks"].items():
        for model, res in entry.get("models", {}).items():
            folds = [*res.get("folds", {}), *_extra_folds(res)]
            for k in dict.fromkeys(int(f) for f in folds):
                path = folder / name / model / f"fold_{k}.json"
                if path.exists():
                    records.setdefault(name, []).append(json.loads(path.read_text()))
    board = folder / "leaderboard.md"
    return run_result(summary, records, board.read_text() if board.exists() else "")


def _extra_folds(res: dict) -> list[int]:
    """Fold indices of a model's extra folds (``"<split> (fold 5)"`` keys)."""
    out = []
    for key in res.get("extra_folds", {}):
        tail = key.rsplit("(fold ", 1)[-1].rstrip(")")
        if tail.isdigit():
            out.append(int(tail))
    return out


def _primary_metric(task: str) -> str:
    from benchmarks.tasks import all_tasks

    return next((t.primary_metric for t in all_tasks() if t.name == task), "mae")
