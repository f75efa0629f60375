"""Predictions made elsewhere, read and checked against the official MatBench test folds.

Two formats: a MatBench results file (``results.json.gz`` as the matbench package writes it,
plain or gzip, any model's) or a CSV with columns ``fold,id,prediction`` (and ``task`` when
it holds more than one task). Every official test fold of a task must be there with exactly
its ids: missing and extra ids are errors that name them.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from benchmarks.reports.matbench_results import predictions_from_results, read_matbench_results

CSV_COLUMNS = ("fold", "id", "prediction")


class CoverageError(ValueError):
    """Predictions that do not cover the official test folds exactly."""


def read_predictions(path: Path, task: str | None = None, verify_hash: bool = True
                     ) -> dict[str, dict[int, dict[str, float]]]:
    """``{task: {fold: {id: prediction}}}`` of a results file or a CSV."""
    path = Path(path)
    if path.name.endswith((".csv", ".csv.gz")):
        return read_csv_predictions(path, task)
    doc = read_matbench_results(path, verify_hash=verify_hash)
    out = {}
    for name, folds in predictions_from_results(doc).items():
        if task is None or name == task:
            out[name] = {k: dict(p) for k, p in enumerate(folds) if p is not None}
    return out


def read_csv_predictions(path: Path, task: str | None) -> dict[str, dict[int, dict[str, float]]]:
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    rows = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (rows.fieldnames or [])]
    if missing:
        raise ValueError(f"{path}: needs columns {', '.join(CSV_COLUMNS)} (missing: "
                         f"{', '.join(missing)})")
    if "task" not in rows.fieldnames and task is None:
        raise ValueError(f"{path} has no 'task' column: name the task (--task)")
    out: dict[str, dict[int, dict[str, float]]] = {}
    for n, row in enumerate(rows, start=2):
        name = row.get("task") or task
        if task is not None and name != task:
            continue
        fold = out.setdefault(name, {}).setdefault(int(row["fold"]), {})
        if row["id"] in fold:
            raise ValueError(f"{path} line {n}: {row['id']} appears twice in fold {row['fold']}")
        fold[row["id"]] = float(row["prediction"])
    return out


def _named(ids, limit: int = 5) -> str:
    ids = sorted(ids)
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def check_coverage(task: str, predictions: dict[int, dict[str, float]], folds: list) -> None:
    """Raise :class:`CoverageError` unless every official test fold is there exactly."""
    problems = []
    extra_folds = sorted(set(predictions) - set(range(len(folds))))
    if extra_folds:
        problems.append(f"folds {extra_folds} are not official folds (0-{len(folds) - 1})")
    for k, fold in enumerate(folds):
        if k not in predictions:
            problems.append(f"fold {k} missing")
            continue
        missing = set(fold.test) - set(predictions[k])
        extra = set(predictions[k]) - set(fold.test)
        if missing:
            problems.append(f"fold {k}: {len(missing)} test ids missing ({_named(missing)})")
        if extra:
            problems.append(f"fold {k}: {len(extra)} ids not in its test fold ({_named(extra)})")
    if problems:
        raise CoverageError(f"{task}: " + "; ".join(problems))
