"""Cross-validation folds: MatBench v0.1 (computed in code or read from the official file).

MatBench v0.1 folds are ``KFold(n_splits=5, shuffle=True, random_state=18012019)`` over the rows
of each task in MatBench id order; the official ``matbench_v0.1_validation.json`` records the
same splits as mb id lists. UnconvBench uses the same recipe with ``random_state=42`` over its
own ids.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .paths import resolve
from .readers import matbench_ids, matbench_task, read_json, unconvbench_ids
from .registry import load_registry

MATBENCH_SEED = 18012019
UNCONVBENCH_SEED = 42
N_SPLITS = 5

PathLike = str | os.PathLike[str]


class Fold(NamedTuple):
    """Train and test ids of one fold."""

    train: list[str]
    test: list[str]


def kfold_ids(
    ids: Sequence[str], n_splits: int = N_SPLITS, seed: int = MATBENCH_SEED, shuffle: bool = True
) -> list[Fold]:
    """Split ids with scikit-learn's ``KFold``; each fold's lists keep the input order."""
    from sklearn.model_selection import KFold  # here, not at import: the SCOPE CLI skips it

    arr = np.asarray(list(ids), dtype=object)
    if len(set(arr.tolist())) != len(arr):
        raise ValueError("ids must be unique")
    kf = KFold(n_splits=n_splits, shuffle=shuffle, random_state=seed if shuffle else None)
    return [Fold(arr[tr].tolist(), arr[te].tolist()) for tr, te in kf.split(arr)]


def matbench_folds(
    task: str, ids: Sequence[str] | None = None, n_splits: int = N_SPLITS, seed: int = MATBENCH_SEED
) -> list[Fold]:
    """MatBench v0.1 folds of a task, as mb id lists.

    ``ids`` are the task's mb ids in MatBench row order (e.g. the ``mbid`` column of its targets
    table); by default they are generated from the registry's row count, which needs no data.
    The classification tasks' folds are stratified by label (matbench's ``StratifiedKFold``):
    they come from the official validation file, and ``ids`` only filters them.
    """
    from .registry import MATBENCH_CLASSIFICATION_TASKS

    task = matbench_task(task)
    if task in MATBENCH_CLASSIFICATION_TASKS:
        folds = load_validation_folds()
        if task not in folds:
            raise KeyError(f"{task}: not in the MatBench validation file found (the offline "
                           "copy holds the 8 regression tasks; the canonical file all 13)")
        keep = None if ids is None else set(ids)
        return [Fold(*[[i for i in part if keep is None or i in keep] for part in f])
                for f in folds[task]]
    if ids is None:
        n = load_registry()[task].n_rows
        if n is None:
            raise ValueError(f"{task}: row count unknown; pass ids")
        ids = matbench_ids(task, n)
    return kfold_ids(ids, n_splits=n_splits, seed=seed)


def unconvbench_folds(
    task: str, n: int | None = None, n_splits: int = N_SPLITS, seed: int = UNCONVBENCH_SEED
) -> list[Fold]:
    """UnconvBench folds (``KFold(5, shuffle=True, random_state=42)`` over its ids)."""
    short = task.removeprefix("unconvbench_")
    if n is None:
        n = load_registry()[f"unconvbench_{short}"].n_rows
    if n is None:
        raise ValueError(f"{task}: row count unknown; pass n")
    return kfold_ids(unconvbench_ids(short, n), n_splits=n_splits, seed=seed)


def load_validation_folds(
    path: PathLike | None = None, data_dir: PathLike | None = None
) -> dict[str, list[Fold]]:
    """Read ``matbench_v0.1_validation.json[.gz]``: ``{task: [Fold(train, test), ...]}``.

    The file holds ``metadata`` (n_splits, random_state, shuffle) and
    ``splits[task]["fold_<k>"] = {"train": [mbid, ...], "test": [mbid, ...]}``. Folds are
    returned in ``fold_0..fold_<n-1>`` order. Without ``path`` the registered file is resolved.
    """
    if path is None:
        path = resolve("matbench_v0.1_validation", data_dir=data_dir)
    doc = read_json(path)
    meta = doc.get("metadata", {})
    splits = doc["splits"]
    out: dict[str, list[Fold]] = {}
    for task, folds in splits.items():
        n = int(meta.get("n_splits", len(folds)))
        missing = [f"fold_{k}" for k in range(n) if f"fold_{k}" not in folds]
        if missing or len(folds) != n:
            raise ValueError(f"{path}: {task} has folds {sorted(folds)}, expected fold_0..{n - 1}")
        out[task] = [
            Fold(list(folds[f"fold_{k}"]["train"]), list(folds[f"fold_{k}"]["test"]))
            for k in range(n)
        ]
    return out


def validation_metadata(path: PathLike) -> dict[str, object]:
    """The ``metadata`` block of a validation file (n_splits, random_state, shuffle)."""
    return dict(read_json(path).get("metadata", {}))
