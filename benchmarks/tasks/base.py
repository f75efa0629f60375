"""The task-adapter interface: every benchmark family plugs into the runner through it.

An adapter knows how to load its data (SCOPE strings, targets, folds, what is partial and
which rows failed), which metrics it reports, and which family-level files it writes.
The runner knows nothing task-specific.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from benchmarks.metrics import regression_metrics


@dataclass
class Fold:
    train: list[str]
    test: list[str]


@dataclass
class TaskData:
    """What one task needs for training and scoring, rows aligned by ``ids``."""

    ids: list[str]
    texts: list[str]
    targets: np.ndarray
    folds: list[Fold]
    n_total: int  # rows of the complete benchmark
    source: str  # where the inputs came from, for every report
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (id, kind, message)
    checksums: dict[str, str] = field(default_factory=dict)
    n_available: int | None = None  # rows the data held before encoding failures
    meta: dict = field(default_factory=dict)  # e.g. crystal system, volume for analyses
    encoded_mode: str | None = None  # SCOPE mode the texts were encoded in; None: precomputed
    # id -> structure (pymatgen dict or Structure), read when a model asks for structures;
    # None: the task has no structures (precomputed SCOPE strings)
    structure_loader: Callable[[], Mapping[str, object]] | None = None
    # "composition": ``texts`` are formulas, the only input (composition-only tasks)
    inputs: str = "scope"

    def __post_init__(self):
        if self.n_available is None:
            self.n_available = len(self.ids) + len(self.errors)
        self._index = {i: k for k, i in enumerate(self.ids)}

    @property
    def partial(self) -> bool:
        return len(self.ids) < self.n_total

    @property
    def coverage(self) -> str:
        return f"partial: {len(self.ids)} of {self.n_total} rows" if self.partial else (
            f"complete: {self.n_total} rows")

    def structure_table(self) -> Mapping[str, object]:
        """id -> structure of every row (read once, on first use)."""
        if self.structure_loader is None:
            raise ValueError(f"no structures: the inputs are {self.source}")
        if getattr(self, "_structures", None) is None:
            self._structures = self.structure_loader()
        return self._structures

    def rows(self, ids: list[str]) -> np.ndarray:
        return np.array([self._index[i] for i in ids], dtype=int)

    def subset(self, ids: list[str]) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
        idx = self.rows(ids)
        return [self.texts[i] for i in idx], self.targets[idx], {
            k: v[idx] for k, v in self.extras.items()}


class TaskAdapter(ABC):
    """One benchmark task. Subclasses set the class attributes and implement ``load``."""

    name: str
    family: str
    kind: str = "regression"  # or "debye" (CLOUD-DEBYE capable)
    target: str = ""
    unit: str = ""
    primary_metric: str = "mae"
    # folds reported on their own, not averaged with the cross-validation folds (phonon: the
    # dataset's original train/test split is fold 5)
    extra_folds: ClassVar[dict[int, str]] = {}
    paper_table: str | None = None  # the paper's table with this task's published rows
    own_folds: bool = False  # True: run all the task's folds unless told (not the config's)

    @abstractmethod
    def load(self, data_dir: str | Path | None, mode: str = "paper",
             progress: bool = True) -> TaskData:
        """Read, encode and split the data; raise ``cloud.data.DataMissingError`` when a
        required file cannot be had (the runner reports the task as skipped)."""

    def data_files(self) -> list[tuple[str, ...]]:
        """The registry keys of the files ``load`` needs: one tuple per file, the canonical
        key first, then offline stand-ins that can take its place (for ``cloud-bench
        tasks``; default none declared)."""
        return []

    def metrics(self, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
        return regression_metrics(y_true, y_pred)

    def smoke_sample(self, n_train: int, n_test: int) -> TaskAdapter:
        """The adapter a ``--smoke`` run loads from. Tasks whose loading is expensive (tens
        of thousands of CIFs to encode) return a copy that loads a seeded sample of about
        these sizes; default: this adapter, loading everything (the smoke fold is sampled
        from the full folds). Adapters never change once constructed."""
        return self

    def fold_metrics(self, data: TaskData, fold: Fold, y_pred: np.ndarray) -> dict[str, float]:
        """Scores of one fold's test predictions; override when they need more than the
        targets (e.g. hull distances for stability metrics)."""
        _, y_true, _ = data.subset(fold.test)
        return self.metrics(y_true, y_pred)

    def paper_key(self) -> str:
        """Column name of this task in the paper's table."""
        return self.name

    def paper_rows(self):
        """Published (mean, std) of the primary metric per model, or None."""
        if self.paper_table is None:
            return None
        from benchmarks.reference import paper_table

        table = paper_table(self.paper_table)
        key = self.paper_key()
        if key not in table.columns.get_level_values(0):
            return None
        return table[key]

    def write_family_outputs(self, out_dir: Path, results: dict) -> list[Path]:
        """Family-level files (e.g. matbench's results file); default none."""
        return []


def resolve_or_offline(key: str, offline_key: str | None, data_dir) -> tuple[Path, bool]:
    """The canonical file of ``key`` (local, cached or downloaded), else the local offline
    stand-in ``offline_key`` (never downloaded); ``(path, is_offline)``. When neither can be
    had, the canonical file's ``DataMissingError`` (its name and URL) is raised."""
    from cloud.data import DataMissingError, resolve

    try:
        return resolve(key, data_dir=data_dir), False
    except DataMissingError as missing:
        if offline_key is None:
            raise
        try:
            return resolve(offline_key, data_dir=data_dir, download=False), True
        except DataMissingError:
            raise missing from None

