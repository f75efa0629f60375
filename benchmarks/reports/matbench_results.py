"""MatBench results files (``MatbenchBenchmark.to_file`` format, matbench 0.6), written by us.

Layout (what matbench 0.6 writes; every dict below ``tasks`` has sorted keys)::

    {"@module": "matbench.bench", "@class": "MatbenchBenchmark", "version": "0.6",
     "tasks": {<task>: {"@class": "MatbenchTask", "@module": "matbench.task",
                        "benchmark_name": "matbench_v0.1", "dataset_name": <task>,
                        "results": {"fold_0": {"data": {mbid: prediction, ...},
                                               "parameters": {...},
                                               "scores": {"mae": .., "mape": .., "max_error": ..,
                                                          "rmse": ..},
                                               "uncertainty": null}, ... "fold_4": ...}}},
     "user_metadata": {...}, "benchmark_name": "matbench_v0.1",
     "datestamp": "YYYY.MM.DD HH:MM.SS" (UTC), "hash": <sha256 hex>}

``hash`` is the SHA-256 of ``json.dumps`` of the document without ``hash`` after matbench's
``immutify_dictionary`` (every dict, recursively, sorted by key; lists and dicts inside lists
left as they are). Per-fold ``scores`` are computed when a fold is recorded (from the
predictions and the task's test targets) and stored in the file; on load matbench only checks
the hash, the keys, the fold ids and the types, and ``MatbenchBenchmark.scores`` aggregates the
stored fold scores with ``np.mean/max/min/std``. Scores come from :mod:`benchmarks.metrics`.

Compression: the leaderboard's CI (``scripts/test_submission.py`` with the ``matbench`` package
of the repository's main branch) opens a name ending in ``.gz`` with ``gzip.open``: its
``to_file`` writes through monty's ``dumpfn``, which gzips ``.gz`` names. The PyPI release 0.6
writes plain JSON whatever the name and its ``from_file`` reads plain text only.
:func:`write_matbench_results` gzips a ``.gz`` name (the decompressed bytes are what either
version's ``to_file`` writes; gzip mtime 0, so equal content gives equal bytes) and writes other
names as plain JSON; :func:`read_matbench_results` reads both. PyPI 0.6 users load a gzipped
file with :data:`LOAD_WITH_MATBENCH_06`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.metrics import (
    matbench_classification_metrics,
    regression_metrics,
    summarize_folds,
)

PathLike = str | os.PathLike[str]
# how PyPI matbench 0.6 users load a gzipped results file (0.6's from_file reads plain text)
LOAD_WITH_MATBENCH_06 = ("import gzip, json; from matbench.bench import MatbenchBenchmark; "
                         'mb = MatbenchBenchmark.from_dict(json.load(gzip.open("results.json.gz")))')
MATBENCH_VERSION = "0.6"
BENCHMARK_NAME = "matbench_v0.1"
DATESTAMP_FORMAT = "%Y.%m.%d %H:%M.%S"
REGRESSION_SCORES = ("mae", "rmse", "mape", "max_error")
CLASSIFICATION_SCORES = ("accuracy", "balanced_accuracy", "f1", "rocauc")
TOP_LEVEL_KEYS = (
    "@module", "@class", "version", "tasks", "user_metadata", "benchmark_name", "datestamp", "hash",
)  # fmt: skip
# task -> (task type, target column), from matbench's matbench_v0.1_dataset_metadata.json
MATBENCH_V01_TASKS: dict[str, tuple[str, str]] = {
    "matbench_dielectric": ("regression", "n"),
    "matbench_expt_gap": ("regression", "gap expt"),
    "matbench_expt_is_metal": ("classification", "is_metal"),
    "matbench_glass": ("classification", "gfa"),
    "matbench_jdft2d": ("regression", "exfoliation_en"),
    "matbench_log_gvrh": ("regression", "log10(G_VRH)"),
    "matbench_log_kvrh": ("regression", "log10(K_VRH)"),
    "matbench_mp_e_form": ("regression", "e_form"),
    "matbench_mp_gap": ("regression", "gap pbe"),
    "matbench_mp_is_metal": ("classification", "is_metal"),
    "matbench_perovskites": ("regression", "e_form"),
    "matbench_phonons": ("regression", "last phdos peak"),
    "matbench_steels": ("regression", "yield strength"),
}
Predictions = Mapping[str, Sequence[Mapping[str, Any] | None]]


# ---------------------------------------------------------------- canonical form and hash
def _plain(value: Any, in_list: bool = False) -> Any:
    # matbench sorts dicts recursively but leaves dicts inside lists in their own key order
    if isinstance(value, np.ndarray | pd.Series | list | tuple):
        return [_plain(v, True) for v in (value.tolist() if hasattr(value, "tolist") else value)]
    if isinstance(value, Mapping) and not in_list:
        return canonical(value)
    return value.item() if isinstance(value, np.generic) else value


def canonical(d: Mapping[str, Any]) -> dict[str, Any]:
    """matbench's ``immutify_dictionary`` in JSON form: dicts sorted by key, recursively;
    arrays and tuples become lists, numpy scalars Python numbers. Keys must be strings."""
    bad = [k for k in d if not isinstance(k, str)]
    if bad:
        raise TypeError(f"keys must be strings (JSON would change them): {bad[:5]}")
    return {k: _plain(d[k]) for k in sorted(d)}


def content_hash(doc: Mapping[str, Any]) -> str:
    """The ``hash`` matbench stores: SHA-256 of the canonical document without ``hash``."""
    body = canonical({k: v for k, v in doc.items() if k != "hash"})
    return hashlib.sha256(json.dumps(body).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- building a document
def task_type(task: str) -> str:
    """``"regression"`` or ``"classification"`` for a MatBench v0.1 task."""
    if task not in MATBENCH_V01_TASKS:
        raise KeyError(f"{task!r} is not a {BENCHMARK_NAME} task: {sorted(MATBENCH_V01_TASKS)}")
    return MATBENCH_V01_TASKS[task][0]


def fold_scores(task: str, y_true: Sequence[Any], y_pred: Sequence[Any]) -> dict[str, float]:
    """The ``scores`` matbench records for one fold (4 metrics, by task type)."""
    if task_type(task) == "regression":
        scores = regression_metrics(y_true, y_pred)
        return {k: float(scores[k]) for k in REGRESSION_SCORES}
    scores = matbench_classification_metrics(y_true, y_pred)
    return {k: float(scores[k]) for k in CLASSIFICATION_SCORES}


def _prediction(task: str, mbid: str, value: Any) -> float | bool:
    if isinstance(value, np.generic):
        value = value.item()
    if task_type(task) == "classification":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and 0.0 <= float(value) <= 1.0:
            return float(value)
        raise ValueError(f"{task} {mbid}: {value!r} is neither a bool nor a probability")
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise ValueError(f"{task} {mbid}: regression predictions must be finite numbers")
    return float(value)


def _default_targets(task: str) -> Mapping[str, Any]:
    from cloud.data.readers import read_matbench_targets

    df = read_matbench_targets(task)
    col = MATBENCH_V01_TASKS[task][1]
    if col not in df.columns:
        extra = [c for c in df.columns if c not in ("composition", "spg_num", "crys_sys")]
        col = extra[0]
    return df[col].to_dict()


def _default_folds(task: str) -> list[Any]:
    from cloud.data.folds import load_validation_folds

    folds = load_validation_folds()
    if task not in folds:
        raise KeyError(f"{task} is not in the validation file; pass folds=")
    return folds[task]


def _fold_parameters(parameters: Mapping[str, Any] | None, task: str, k: int) -> dict[str, Any]:
    if not parameters or task not in parameters or parameters[task] is None:
        return {}
    p = parameters[task]
    p = p if isinstance(p, Mapping) else p[k]
    return canonical(p) if p else {}


def build_results(
    predictions: Predictions,
    *,
    user_metadata: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    targets: Mapping[str, Mapping[str, Any]] | None = None,
    folds: Mapping[str, Sequence[Any]] | None = None,
    datestamp: str | dt.datetime | None = None,
) -> dict[str, Any]:
    """The results document (see the module docstring), hash included.

    ``predictions[task][k]`` maps every test mb id of fold ``k`` to a prediction, or is None for
    a fold not run (written as matbench writes an unrecorded fold, ``{"data": {}}``; matbench's
    ``from_file`` rejects such partial tasks). ``parameters[task]`` is one dict for every fold or
    a list of per-fold dicts. ``targets[task]`` (mbid -> target) and ``folds[task]`` (``Fold`` or
    ``(train, test)`` pairs) default to the suite's MatBench targets tables and validation file.
    """
    tasks: dict[str, Any] = {}
    for task, fold_preds in predictions.items():
        task_type(task)
        task_folds = list(folds[task]) if folds and task in folds else _default_folds(task)
        fold_preds = list(fold_preds)
        if len(fold_preds) != len(task_folds):
            raise ValueError(f"{task}: {len(fold_preds)} folds given, {len(task_folds)} expected")
        y: Mapping[str, Any] | None = targets.get(task) if targets else None
        results: dict[str, Any] = {}
        for k, (fold, preds) in enumerate(zip(task_folds, fold_preds, strict=True)):
            if preds is None:
                results[f"fold_{k}"] = {"data": {}}
                continue
            test = list(fold[1])
            missing = [i for i in test if i not in preds]
            extra = set(preds) - set(test)
            if missing or extra:
                raise ValueError(
                    f"{task} fold_{k}: {len(missing)} test ids missing (e.g. {missing[:3]}), "
                    f"{len(extra)} ids not in the test fold (e.g. {sorted(extra)[:3]})"
                )
            data = {i: _prediction(task, i, preds[i]) for i in test}
            if y is None:
                y = _default_targets(task)
            scores = fold_scores(task, [y[i] for i in test], [data[i] for i in test])
            results[f"fold_{k}"] = {
                "data": data,
                "parameters": _fold_parameters(parameters, task, k),
                "scores": scores,
                "uncertainty": None,
            }
        if any(fp is None for fp in fold_preds):
            warnings.warn(f"{task}: folds missing; matbench will not load it", stacklevel=2)
        tasks[task] = {
            "@module": "matbench.task",
            "@class": "MatbenchTask",
            "benchmark_name": BENCHMARK_NAME,
            "dataset_name": task,
            "results": results,
        }
    if isinstance(datestamp, dt.datetime):
        datestamp = datestamp.strftime(DATESTAMP_FORMAT)
    doc: dict[str, Any] = {
        "@module": "matbench.bench",
        "@class": "MatbenchBenchmark",
        "version": MATBENCH_VERSION,
        "tasks": canonical(tasks),
        "user_metadata": canonical(user_metadata or {}),
        "benchmark_name": BENCHMARK_NAME,
        "datestamp": datestamp or dt.datetime.now(dt.timezone.utc).strftime(DATESTAMP_FORMAT),
    }
    doc["hash"] = content_hash(doc)
    return doc


# ---------------------------------------------------------------- files
def dumps(doc: Mapping[str, Any]) -> bytes:
    """The bytes matbench's ``to_file`` writes for ``doc`` (``json.dump``, default separators)."""
    return json.dumps(dict(doc)).encode("utf-8")


def write_matbench_results(
    path: PathLike,
    predictions: Predictions,
    *,
    user_metadata: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    compress: bool | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Build the results document (:func:`build_results`; ``targets``, ``folds`` and
    ``datestamp`` pass through ``kwargs``), write it to ``path`` and return it.

    ``compress`` (default: whether the name ends in ``.gz``) gzips :func:`dumps` of the
    document, as the leaderboard's ``matbench`` writes and reads it; else plain JSON.
    """
    doc = build_results(predictions, user_metadata=user_metadata, parameters=parameters, **kwargs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    compress = path.name.endswith(".gz") if compress is None else compress
    path.write_bytes(gzip_bytes(dumps(doc)) if compress else dumps(doc))
    return doc


def gzip_bytes(payload: bytes) -> bytes:
    """``payload`` gzipped with mtime 0 and no file name (equal content, equal bytes)."""
    return gzip.compress(payload, mtime=0)


def read_matbench_results(path: PathLike, *, verify_hash: bool = True) -> dict[str, Any]:
    """Read a results file (gzip or plain), check its keys and, by default, its hash."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    doc = json.loads(raw.decode("utf-8"))
    missing = [k for k in TOP_LEVEL_KEYS if k not in doc]
    extra = [k for k in doc if k not in TOP_LEVEL_KEYS]
    if missing or extra:
        raise ValueError(f"{path}: missing keys {missing}, unexpected keys {extra}")
    if verify_hash and content_hash(doc) != doc["hash"]:
        raise ValueError(f"{path}: hash does not match the content (modified after writing?)")
    for name, task in doc["tasks"].items():
        if task.get("dataset_name") != name or task.get("benchmark_name") != doc["benchmark_name"]:
            raise ValueError(f"{path}: task {name!r} has a mismatched name or benchmark")
    return doc


def predictions_from_results(doc: Mapping[str, Any]) -> dict[str, list[dict[str, Any] | None]]:
    """``{task: [fold_0 data or None, ...]}`` -- the ``predictions`` argument that wrote it."""
    out: dict[str, list[dict[str, Any] | None]] = {}
    for name, task in doc["tasks"].items():
        res = task["results"]
        keys = sorted(res, key=lambda s: int(s.removeprefix("fold_")))
        out[name] = [dict(res[k]["data"]) if res[k].get("data") else None for k in keys]
    return out


def task_scores(doc: Mapping[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """``MatbenchBenchmark.scores`` of a document: per task, per metric, mean/std/max/min of the
    stored fold scores. Tasks with unrecorded folds are left out."""
    out = {}
    for name, task in doc["tasks"].items():
        folds = [f for f in task["results"].values() if f.get("data")]
        if folds and len(folds) == len(task["results"]):
            out[name] = summarize_folds([f["scores"] for f in folds])
    return out
