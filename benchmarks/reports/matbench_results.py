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

Compression: matbench 0.6 (the last PyPI release) writes plain JSON text even to ``*.json.gz``
and its ``from_file`` reads only plain text (a gzipped file fails with ``UnicodeDecodeError``);
matbench issue #249 / PR #251 (2023, GitHub only) moved ``to_file`` to monty's ``dumpfn``, which
gzips ``.gz`` names. :func:`write_matbench_results` writes what matbench 0.6 writes, plain JSON
whatever the name, so that ``MatbenchBenchmark.from_file(path)`` loads the file as it is
(``compress=True`` gzips, for the GitHub version); :func:`read_matbench_results` reads both.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.metrics import (
    matbench_classification_metrics,
    regression_metrics,
    summarize_folds,
)
from cloud.fileio import write_json_atomic, write_text_atomic

PathLike = str | os.PathLike[str]
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
INFO_FIELDS = ("authors", "algorithm", "algorithm_long", "bibtex_refs", "notes", "requirements")
CLOUD_BIBTEX = (
    "@article{Xu2025CLOUD,\n"
    "  title = {CLOUD: A Scalable and Physics-Informed Foundation Model for Crystal"
    " Representation Learning},\n"
    "  author = {Xu, Changwen and Zhu, Shang and Viswanathan, Venkatasubramanian},\n"
    "  journal = {arXiv preprint arXiv:2506.17345},\n"
    "  year = {2025},\n"
    "  doi = {10.48550/arXiv.2506.17345}\n"
    "}"
)

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
    compress: bool = False,
    **kwargs: Any,
) -> dict[str, Any]:
    """Build the results document (:func:`build_results`; ``targets``, ``folds`` and
    ``datestamp`` pass through ``kwargs``), write it to ``path`` and return it.

    The file is plain JSON whatever its name (what matbench 0.6's ``to_file`` writes and its
    ``from_file`` reads); ``compress=True`` gzips it (mtime 0: equal content, equal bytes).
    """
    doc = build_results(predictions, user_metadata=user_metadata, parameters=parameters, **kwargs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = dumps(doc)
    if compress:
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(payload)
    else:
        path.write_bytes(payload)
    return doc


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


# ---------------------------------------------------------------- leaderboard submission
def _version(dist: str) -> str | None:
    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        return None


def default_requirements() -> dict[str, list[str]]:
    """``{"python": [...]}`` pinning the installed suite and its main dependencies, plus
    ``matbench==0.6`` (the version whose results format the file follows)."""
    pins = [f"matbench=={MATBENCH_VERSION}"]
    for dist in ("cloud-bench", "torch", "transformers", "numpy", "pandas", "scikit-learn"):
        v = _version(dist)
        if v:
            pins.append(f"{dist}=={v}")
    return {"python": pins}


def info_json(
    *,
    authors: str,
    algorithm: str = "CLOUD",
    algorithm_long: str = (
        "CLOUD: a BERT-style transformer pre-trained (masked language modelling) on SCOPE "
        "strings -- space-group generators, Wyckoff letters and compositions of ~6.3M OPTIMADE "
        "crystals -- and fine-tuned per task with an MLP head (arXiv 2506.17345)."
    ),
    bibtex_refs: str = CLOUD_BIBTEX,
    notes: str = "",
    requirements: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The ``info.json`` of a MatBench leaderboard submission (the six fields it requires)."""
    info = {
        "authors": authors,
        "algorithm": algorithm,
        "algorithm_long": algorithm_long,
        "bibtex_refs": bibtex_refs,
        "notes": notes,
        "requirements": dict(requirements) if requirements else default_requirements(),
    }
    empty = [k for k in INFO_FIELDS if k != "notes" and not info[k]]
    if empty:
        raise ValueError(f"info.json fields must not be empty: {empty}")
    if not 5 <= len(algorithm) <= 15:
        warnings.warn("matbench asks for a 5-15 character 'algorithm' name", stacklevel=2)
    return info


def submission_readme(name: str, commit: str, sources: Sequence[str]) -> str:
    """The README of a submission folder: which source files, at which commit, made it (the
    leaderboard wants the files themselves in the pull request; they are taken from that
    commit then, not copied into every run)."""
    files = "\n".join(f"- `{s}`" for s in sources)
    shows = " && ".join(f"git show {commit}:{s} > {Path(s).name}" for s in sources)
    return (f"# {name}\n\n`results.json.gz` and `info.json` of a MatBench leaderboard "
            f"submission, made at commit `{commit}` of this repository by:\n\n{files}\n\n"
            f"For the leaderboard's pull request, add the source files from that commit:\n\n"
            f"```\n{shows}\n```\n")


def write_submission_folder(
    out_dir: PathLike,
    results_path: PathLike,
    info: Mapping[str, Any],
    commit: str,
    sources: Sequence[str] = ("benchmarks/run.py",),
    script: PathLike | None = None,
) -> Path:
    """Lay out ``matbench_v0.1_<name>/`` as the leaderboard expects: ``results.json.gz`` (the
    content as matbench 0.6's ``to_file`` writes it: plain JSON, decompressed when the source
    is gzip, so ``MatbenchBenchmark.from_file`` loads it), ``info.json``, a ``README.md``
    naming the source files (repository paths, ``.py`` or ``.ipynb``) at ``commit``, and
    ``script`` (a small generated file that reruns the command) when given. The results are
    hash-checked first; returns ``out_dir``."""
    out = Path(out_dir)
    if not out.name.startswith(f"{BENCHMARK_NAME}_"):
        warnings.warn(f"matbench names folders {BENCHMARK_NAME}_<algorithm>", stacklevel=2)
    missing = [k for k in INFO_FIELDS if k not in info or (k != "notes" and not info[k])]
    if missing:
        raise ValueError(f"info is missing required fields: {missing}")
    read_matbench_results(results_path)
    bad = [s for s in sources if Path(s).suffix not in (".py", ".ipynb")]
    if not sources or bad or not commit:
        raise ValueError(f"need a commit and at least one .py or .ipynb source file "
                         f"(got {commit!r}, {list(sources)})")
    out.mkdir(parents=True, exist_ok=True)
    raw = Path(results_path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    (out / "results.json.gz").write_bytes(raw)
    write_json_atomic(out / "info.json", dict(info), indent=2, default=None, newline=True)
    write_text_atomic(out / "README.md", submission_readme(out.name, commit, sources))
    if script is not None:
        write_text_atomic(out / Path(script).name, Path(script).read_text())
    return out
