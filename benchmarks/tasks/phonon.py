"""Phonon heat capacity Cv and internal energy U at 300 K (Gong et al. 2023), 1512 MP materials.

Tasks ``cv`` and ``u``; metric MAE/MAD (the paper's Table 1, Eq. 20). Folds 0-4: 5-fold
cross-validation (``KFold(5, shuffle=True, random_state=PHONON_SEED)`` over the rows in
mp-id order); fold 5: the original train/test split of the dataset. Inputs: the paper's
SCOPE strings for all 1512 materials (``scope_mode: paper_strings``, the default), or the
project's encoding of the 1289 available structures (``scope_mode: paper`` or ``canonical``). ``n_atoms`` (atoms per primitive cell, the N
of the Debye model) comes from the paper's file. Family outputs: the paper's Fig. 4 error
analysis, Cv(T)/U(T) curves and Debye temperatures against AFLOW
(``benchmarks.reports.phonon_outputs``).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.metrics import mae_over_mad, regression_metrics
from benchmarks.tasks.base import Fold, TaskAdapter, TaskData
from benchmarks.tasks.matbench import structure_table
from benchmarks.tasks.phonon_folds import N_MATERIALS, ORIGINAL_SPLIT_FOLD, PHONON_SEED
from benchmarks.tasks.scope_inputs import encode_structures
from cloud.data import kfold_ids, read_matbench_json, read_phonon, resolve, sha256sum

__all__ = ["ADAPTERS", "N_MATERIALS", "ORIGINAL_SPLIT_FOLD", "PHONON_SEED", "PhononTask"]


class PhononTask(TaskAdapter):
    family = "phonon"
    kind = "debye"
    primary_metric = "mae_over_mad"
    paper_table = "1"
    extra_folds = {ORIGINAL_SPLIT_FOLD: "original train/test split"}
    n_total = N_MATERIALS

    def __init__(self, name: str, target: str, unit: str, paper_column: str):
        self.name, self.debye_target, self.target, self.unit = name, name, target, unit
        self._paper_column = paper_column

    def paper_key(self) -> str:
        return self._paper_column

    def data_files(self) -> list[tuple[str, ...]]:
        return [(f"phonon_{self.name}",), ("scope_phonon",)]

    def metrics(self, y_true, y_pred) -> dict[str, float]:
        return {"mae_over_mad": mae_over_mad(y_true, y_pred), **regression_metrics(y_true, y_pred)}

    def load(self, data_dir=None, mode: str = "paper", progress: bool = True) -> TaskData:
        df = read_phonon(self.name, data_dir=data_dir).sort_values("mp_id").reset_index(drop=True)
        checksums = {p.name: sha256sum(p) for p in (
            resolve(f"phonon_{self.name}", data_dir=data_dir, download=False),
            resolve("scope_phonon", data_dir=data_dir, download=False))}
        if mode != "paper_strings":
            path = resolve("phonon_structures_subset", data_dir=data_dir, download=False)
            structures = read_matbench_json(path)["structure"].to_dict()
            df = df[df["mp_id"].isin(structures)].reset_index(drop=True)
            ids, texts, y, pos, errors = encode_structures(
                list(df["mp_id"]), [structures[i] for i in df["mp_id"]], df["value"], mode,
                progress)
            df = df.iloc[pos].reset_index(drop=True)
            source = f"structures: {path.name} (encoded, {mode})"
            loader = partial(structure_table, path, None)
            checksums[path.name] = sha256sum(path)
        else:
            ids, texts, y, errors = list(df["mp_id"]), list(df["scope"]), df["value"].to_numpy(), []
            loader = None
            source = "paper's SCOPE strings: phonon.csv (all 1512 materials)"
        folds = [Fold(f.train, f.test) for f in kfold_ids(ids, seed=PHONON_SEED)]
        split = dict(zip(df["mp_id"], df["split"], strict=True))
        folds.append(Fold([i for i in ids if split[i] == "train"],
                          [i for i in ids if split[i] == "test"]))
        return TaskData(ids, texts, np.asarray(y, float), folds, N_MATERIALS, source,
                        encoded_mode=None if mode == "paper_strings" else mode,
                        extras={"n_atoms": df["n_atoms"].to_numpy(float)}, errors=errors,
                        checksums=checksums, n_available=N_MATERIALS,
                        meta={"split": df["split"].to_numpy()}, structure_loader=loader)

    def write_family_outputs(self, out_dir: Path, results: dict) -> list[Path]:
        """Fig. 4 error analysis, temperature curves and Θ against AFLOW, in
        ``<out>/<task>/analysis/`` (see ``benchmarks.reports.phonon_outputs``); the data are
        read from where the run read them (each task's ``data_dir`` in ``results``)."""
        from benchmarks.reports.phonon_outputs import write_phonon_outputs

        first = next(iter(results.values()), {})
        return write_phonon_outputs(out_dir, results, first.get("data_dir"),
                                    first.get("progress", True),
                                    adapters={t.name: t for t in ADAPTERS})


ADAPTERS = [
    PhononTask("cv", "cv", "J/(mol-cell K)", "Cv"),
    PhononTask("u", "internal_energy", "J/mol-cell", "U"),
]
