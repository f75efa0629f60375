"""UnconvBench (unconvbench v1.0.1): regression on unconventional crystals, six tasks.

Runner tasks ``unconv_<short>``; source, target and unit of each are its registry entry
``unconvbench_<short>`` (``cloud/data/registry.yaml``):

- ``2d_e_exf``: 2DMatPedia ``exfoliation_energy_per_atom`` (eV/atom), 4527 rows
- ``2d_e_tot`` / ``2d_gap``: C2DB ``etot`` / PBE ``gap`` (eV), 3520 rows each
- ``qmof``: QMOF ``energy_total`` (eV), 5106 rows (MOFs, hundreds of atoms per cell)
- ``supercon``: JARVIS electron-phonon ``Tc`` (K), 1058 rows
- ``defected``: JARVIS vacancy formation energy ``ef`` (eV), 530 rows

Inputs: the package's task files ``ub_unconvbench_<task>.json`` (figshare article 26657428;
``columns = [structure, target]``, Structure dicts), downloaded with the figshare md5 enforced.
Ids ``<upstream task>-NNNN`` by row (``cloud.data.unconvbench_ids``, e.g.
``unconvbench_exfoliation-0001``); folds ``KFold(5, shuffle=True, random_state=42)`` over the
rows in id order (``cloud.data.unconvbench_folds``, as unconvbench's ``make_splits``); a row
whose structure does not encode (or whose target is not finite) is reported per row and left
out of its fold. Metric: test MAE per fold (the paper's Table S6).

Offline stand-in, ``2d_e_exf`` only: without the task file, the 2DMatPedia records of
``unconv/2dmatpedia_subset.json.gz`` with a finite exfoliation energy (904 of 1224). Their
ids are 2DMatPedia ``material_id``s: the official rows carry no material id and the official
file is not offline, so the two cannot be mapped. Folds: the same KFold rule over these rows
in material-id order. Every output says "partial: 904 of 4527 rows" and names the stand-in;
records without the target are no input errors, but their number (and ids, in ``meta``) is
reported.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from benchmarks.tasks.base import Fold, TaskAdapter, TaskData, resolve_or_offline
from benchmarks.tasks.scope_inputs import encode_structures
from cloud.data import (
    UNCONVBENCH_SEED,
    UNCONVBENCH_TASKS,
    UNCONVBENCH_UPSTREAM,
    ChecksumError,
    kfold_ids,
    load_registry,
    read_records_json,
    read_unconvbench_json,
    sha256sum,
    unconvbench_folds,
)

# task -> (registry key of its offline stand-in, what its target is called in messages)
OFFLINE_STANDINS = {"2d_e_exf": ("unconv_2dmatpedia_subset", "exfoliation energy")}
STANDIN_LABEL = "2DMatPedia subset (offline stand-in), not the official UnconvBench rows/folds"
OFFICIAL_LABEL = "official UnconvBench rows and folds"
PAPER_MODELS = ("CrysToGraph", "CLOUD")  # the paper's rows shown next to this run's


def _id_order(ident: str) -> tuple:
    """Natural order of ids such as ``2dm-10`` < ``2dm-100``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", ident))


def _keep_encoded(folds, ids: list[str]) -> list[Fold]:
    """The folds restricted to the rows that encoded (the others are in the error table)."""
    have = set(ids)
    return [Fold([i for i in f.train if i in have], [i for i in f.test if i in have])
            for f in folds]


class UnconvBenchTask(TaskAdapter):
    family = "unconvbench"
    paper_table = "S6"

    def __init__(self, short: str):
        self.short, self.name, self.key = short, f"unconv_{short}", f"unconvbench_{short}"
        entry = load_registry()[self.key]
        self.target, self.unit, self.n_total = entry.target.column, entry.target.unit, entry.n_rows
        self.description = entry.description

    def paper_key(self) -> str:
        return self.short

    def data_files(self) -> list[tuple[str, ...]]:
        key, _ = OFFLINE_STANDINS.get(self.short, (None, None))
        return [(self.key, key) if key else (self.key,)]

    def load(self, data_dir=None, mode: str = "paper", progress: bool = True) -> TaskData:
        key, what = OFFLINE_STANDINS.get(self.short, (None, None))
        path, offline = resolve_or_offline(self.key, key, data_dir)
        if offline:
            return self._from_standin(path, key, what, mode, progress)
        return self._from_task_file(path, mode, progress)

    def _from_task_file(self, path: Path, mode: str, progress: bool) -> TaskData:
        df = read_unconvbench_json(path, self.short)
        if len(df) != self.n_total:  # the official ids and folds are defined by the row count
            raise ChecksumError(f"{path}: {len(df)} rows, but {self.key} has {self.n_total}: "
                                "not the canonical file (its ids and folds would not apply)")
        structure, target = df.columns[0], df.columns[-1]
        ids, texts, y, _, errors = encode_structures(list(df.index), list(df[structure]),
                                                     df[target].to_numpy(), mode, progress)
        folds = _keep_encoded(unconvbench_folds(self.short, n=len(df)), ids)
        source = (f"{OFFICIAL_LABEL}: {path.name} ({self.description}) "
                  f"(encoded, {mode})")
        return TaskData(ids, texts, y, folds, self.n_total, source, errors=errors,
                        checksums={path.name: sha256sum(path)}, n_available=len(df),
                        encoded_mode=mode)

    def _from_standin(self, path: Path, key: str, what: str, mode: str,
                      progress: bool) -> TaskData:
        import pandas as pd

        df = read_records_json(path)
        df = df.loc[sorted(df.index, key=_id_order)]
        column = load_registry()[key].target.column
        y = pd.to_numeric(df[column], errors="coerce").to_numpy(float)
        has = np.isfinite(y)
        rows = df[has]
        no_target = [str(i) for i in df.index[~has]]
        ids, texts, y_ok, _, errors = encode_structures(list(rows.index), list(rows["structure"]),
                                                        y[has], mode, progress)
        folds = _keep_encoded(kfold_ids([str(i) for i in rows.index], seed=UNCONVBENCH_SEED), ids)
        upstream = UNCONVBENCH_UPSTREAM[self.short]
        source = (f"{STANDIN_LABEL}: {path.name}, {len(rows)} of its {len(df)} records have "
                  f"{column} ({len(no_target)} records have no {what}: not used); ids are "
                  f"2DMatPedia material_ids, not the official {upstream}-NNNN row ids (the "
                  "official file has no material ids, so its rows cannot be mapped); folds "
                  f"KFold(5, shuffle=True, random_state={UNCONVBENCH_SEED}) over these rows in "
                  f"material_id order (encoded, {mode})")
        meta = {"stand_in": STANDIN_LABEL, "records": len(df), "with_target": len(rows),
                "no_target": len(no_target), "no_target_ids": no_target}
        return TaskData(ids, texts, y_ok, folds, self.n_total, source, errors=errors,
                        checksums={path.name: sha256sum(path)}, n_available=len(rows), meta=meta,
                        encoded_mode=mode)

    def leaderboard_lines(self, summary: dict, members: list) -> list[str]:
        """Per task: this run's MAE next to the paper's CrysToGraph and CLOUD rows, each row
        with the data it ran on (official rows, the offline stand-in, or skipped)."""
        from benchmarks.reports.run_labels import is_smoke, row_label
        from benchmarks.reports.summary import _fmt

        smoke = is_smoke(summary)  # no paper rows beside a smoke run's (run_labels)
        lines = ["### UnconvBench: MAE per task, this run"
                 + ("" if smoke else " next to the paper (Table S6)"), "",
                 "| task (unit) | row | data | MAE, mean ± std over folds |", "|---|---|---|---|"]
        for t in members:
            entry = summary["tasks"].get(t.name, {})
            head = f"{t.name} ({t.unit})"
            if entry.get("status") == "skipped":
                why = (entry.get("reason") or "").split("\n")[0].replace("|", "\\|")
                lines.append(f"| {head} | this run | skipped: {why} | — |")
            source = entry.get("source", "")
            label = STANDIN_LABEL if source.startswith(STANDIN_LABEL) else OFFICIAL_LABEL
            for model, res in entry.get("models", {}).items():
                s = res["summary"].get(t.primary_metric, {})
                lines.append(f"| {head} | {row_label(model, res, summary)} "
                             f"| {res.get('coverage', entry.get('coverage'))}; {label} | "
                             f"{_fmt(s.get('mean'), s.get('std'))} ({res['n_folds']} folds) |")
            rows = None if smoke else t.paper_rows()
            for name in PAPER_MODELS:
                if rows is not None and name in rows.index:
                    lines.append(f"| {head} | {name} (paper) | {OFFICIAL_LABEL}, 5-fold CV "
                                 f"({t.n_total} rows) | "
                                 f"{_fmt(rows.loc[name, 'mean'], rows.loc[name, 'std'])} |")
        return [*lines, "", "Rows on the offline stand-in ran on other rows and folds than the "
                "paper's: compare them as pipelines, not as numbers.", ""]


ADAPTERS = [UnconvBenchTask(t) for t in UNCONVBENCH_TASKS]
