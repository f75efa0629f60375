"""MatBench v0.1: all 13 tasks, official 5 folds.

Inputs, in order of preference: the canonical dataset file (structures, encoded by the
project); else an offline partial source — the perovskite structure subset, or the
paper's own SCOPE strings for dielectric. A task with only part of its rows runs on those
rows within the official folds, and every output says "partial: N of M rows".

The four composition tasks (expt_gap, expt_is_metal, glass, steels) give formulas only: models
whose input is a composition run them, the others are skipped with the reason. The three
classification tasks (expt_is_metal, glass, mp_is_metal) are scored as matbench scores them
(ROC-AUC first; :func:`benchmarks.metrics.matbench_classification_metrics`), predictions being
the probability of the positive class.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.metrics import matbench_classification_metrics
from benchmarks.tasks.base import Fold, TaskAdapter, TaskData, resolve_or_offline
from benchmarks.tasks.scope_inputs import encode_structures
from cloud.data import (
    MATBENCH_CLASSIFICATION_TASKS,
    MATBENCH_COMPOSITION_TASKS,
    load_registry,
    matbench_folds,
    read_matbench_json,
    read_matbench_structures,
    read_matbench_targets,
    read_scope_csv,
    sha256sum,
)

TASKS = ("jdft2d", "phonons", "dielectric", "log_gvrh", "log_kvrh", "perovskites", "mp_gap",
         "mp_e_form", "expt_gap", "expt_is_metal", "glass", "mp_is_metal", "steels")
# offline partial sources: registry key, and whether it holds structures or SCOPE strings
PARTIAL_SOURCES = {
    "perovskites": ("matbench_perovskites_subset", "structures"),
    "dielectric": ("scope_matbench_dielectric", "scope"),
}


class MatbenchTask(TaskAdapter):
    family = "matbench"
    paper_table = "S3"

    def __init__(self, short: str):
        self.short = short
        self.name = f"matbench_{short}"
        entry = load_registry()[self.name]
        self.target, self.unit, self.n_total = entry.target.column, entry.target.unit, entry.n_rows
        self.classification = self.name in MATBENCH_CLASSIFICATION_TASKS
        self.composition_only = self.name in MATBENCH_COMPOSITION_TASKS
        if self.classification:
            self.primary_metric = "rocauc"

    def metrics(self, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
        if self.classification:
            return matbench_classification_metrics(y_true, y_pred)
        return super().metrics(y_true, y_pred)

    def data_files(self) -> list[tuple[str, ...]]:
        key, _ = PARTIAL_SOURCES.get(self.short, (None, None))
        return [(self.name, key) if key else (self.name,)]

    def _folds(self, ids: list[str]) -> list[Fold]:
        have = set(ids)
        return [Fold([i for i in f.train if i in have], [i for i in f.test if i in have])
                for f in matbench_folds(self.name)]

    def load(self, data_dir=None, mode: str = "paper", progress: bool = True) -> TaskData:
        key, kind = PARTIAL_SOURCES.get(self.short, (None, None))
        path, offline = resolve_or_offline(self.name, key, data_dir)
        if self.composition_only:
            return self._from_compositions(path)
        if not offline:
            return self._from_structures(path, f"structures: {path.name} (encoded, {mode})",
                                         mode, progress)
        if kind == "structures":
            return self._from_structures(path, f"structures: {path.name} (offline subset, "
                                         f"encoded, {mode})", mode, progress)
        return self._from_scope_strings(path, data_dir)

    def _from_structures(self, path: Path, source: str, mode: str, progress: bool) -> TaskData:
        df = read_matbench_json(path, task=self.name)
        target = df[self.target] if self.target in df.columns else df.iloc[:, -1]
        ids, texts, y, _, errors = encode_structures(list(df.index), list(df["structure"]),
                                                     target.to_numpy(dtype=float), mode, progress)
        return TaskData(ids, texts, y, self._folds(ids), self.n_total, source, encoded_mode=mode,
                        errors=errors, checksums={path.name: sha256sum(path)},
                        n_available=len(df),
                        structure_loader=partial(structure_table, path, self.name))

    def _from_compositions(self, path: Path) -> TaskData:
        """Formulas and targets of a composition-only task (no structures, no SCOPE)."""
        df = read_matbench_json(path, task=self.name)
        y = df[self.target].to_numpy(dtype=float)  # classification: 1.0 / 0.0
        ok = np.isfinite(y)
        ids = [i for i, good in zip(df.index, ok, strict=True) if good]
        errors = [(i, "nan_target", "target is NaN")
                  for i, good in zip(df.index, ok, strict=True) if not good]
        return TaskData(ids, [str(c) for c in df.loc[ids, "composition"]], y[ok],
                        self._folds(ids), self.n_total,
                        f"compositions: {path.name} (formulas only)", errors=errors,
                        checksums={path.name: sha256sum(path)}, n_available=len(df),
                        inputs="composition")

    def _from_scope_strings(self, path: Path, data_dir) -> TaskData:
        """The paper's SCOPE strings (dielectric): targets from the official targets table."""
        scopes = read_scope_csv(path)
        targets = read_matbench_targets(self.name, data_dir=data_dir)[self.target]
        ids = [i for i in scopes.index if i in targets.index]
        y = targets.loc[ids].to_numpy(dtype=float)
        ok = np.isfinite(y)
        errors = [(i, "nan_target", "target is NaN") for i, good in zip(ids, ok, strict=True)
                  if not good]
        ids = [i for i, good in zip(ids, ok, strict=True) if good]
        texts = list(scopes.loc[ids, "scope"])
        return TaskData(ids, texts, y[ok], self._folds(ids), self.n_total,
                        f"paper's SCOPE strings: {path.name} (precomputed, no structures)",
                        errors=errors, checksums={path.name: sha256sum(path)},
                        n_available=len(scopes))

    def write_family_outputs(self, out_dir: Path, results: dict) -> list[Path]:
        """matbench's results file and leaderboard submission folder per model, for the
        tasks that ran all 5 folds on complete data (matbench rejects anything less)."""
        from benchmarks.reports.matbench_submission import write_run_submissions

        per_model = {}
        models = dict.fromkeys(m for r in results.values() for m in r["models"])
        for model in models:
            preds, targets, folds, records = {}, {}, {}, {}
            for task, r in results.items():
                task_records = r["models"].get(model, {})
                if r["partial"] or sorted(task_records) != list(range(5)):
                    continue
                preds[task] = [task_records[k]["predictions"] for k in range(5)]
                targets[task] = r["targets"]
                folds[task] = matbench_folds(task)
                records[task] = task_records
            if preds:
                per_model[model] = (preds, targets, folds, records)
        return write_run_submissions(out_dir / "matbench", per_model)


def structure_table(path: Path, task: str | None = None) -> dict[str, object]:
    """id -> structure dict of a matbench-format file (for models that take structures)."""
    return dict(read_matbench_structures(path, task))


ADAPTERS = [MatbenchTask(t) for t in TASKS]
