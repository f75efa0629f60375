"""Matbench Discovery: train a formation-energy model on MP, classify stability of new crystals.

Tasks, one fold each (``Fold(train, test)``; models carve their 5% validation from the
training rows through ``train.val_fraction``):

- ``discovery_wbm`` (canonical, IP2E): MP 2022 relaxed structures and MP2020-corrected
  formation energies to train on; WBM *initial* structures to predict; predicted hull
  distance = DFT hull distance + (predicted - DFT formation energy); F1, DAF, precision,
  recall, accuracy, TPR, FPR, TNR, FNR, MAE, RMSE, R2 on the full test set, the unique
  prototypes (the summary's ``unique_prototype`` flag) and the 10k most stable; the full
  test set also at the prediction thresholds of the paper's Table S5, and the ROC-AUC.
  Needs the four canonical files (downloaded with md5 checks); offline the runner reports
  the task skipped, naming each missing file and its URL.
- ``discovery_mpts`` (stand-in, offline): the same pipeline on the Materials Project time
  split of ``stability/``: train on MP-20 binaries/ternaries (val + test files) and MPTS-52
  val (years 1997-2004), test on MPTS-52 test (2004-2013); hull distances and formation
  energies from the files. The prototype key is the SCOPE string (space-group generators,
  Wyckoff letters, element fractions): a test row is a unique prototype when its SCOPE
  string is on no training row and on no earlier test row. "Most stable 10k" takes 10,000
  of the unique prototypes -- with 8096 test rows that is all of them, so the subset repeats
  the unique-prototype numbers (except through DAF, which both divide by the same
  prevalence).
- ``discovery_wbm10k`` (stand-in, offline): the training rows of ``discovery_mpts`` (so
  the same model), tested on 10,000 WBM *relaxed* structures against the WBM paper's
  *uncorrected* formation energies: formation-energy regression metrics only (no hull
  distances exist for these rows).

Ids on both sides of the split are removed from the training rows; an id in several
training files is kept once. Both counts, the sources and a stand-in label are in
``TaskData.meta`` and every output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.metrics import regression_metrics
from benchmarks.tasks.base import Fold, TaskAdapter, TaskData
from benchmarks.tasks.discovery_data import (
    CANONICAL_KEYS,
    MPTS_TEST,
    MPTS_TRAIN,
    WBM10K,
    Tables,
    canonical_tables,
    mpts_tables,
    sample_tables,
    wbm10k_tables,
)
from benchmarks.tasks.discovery_scores import THRESHOLDS, discovery_scores, unique_prototypes
from benchmarks.tasks.scope_inputs import encode_structures

N_WBM = 256_963


def _encode(df, mode: str, progress: bool):
    """``encode_structures`` of a table (cached on disk by ``scope_inputs``: the two
    stand-ins share their training rows)."""
    return encode_structures(list(df.index), list(df["structure"]),
                             df["e_form"].to_numpy(float), mode, progress)


class DiscoveryTask(TaskAdapter):
    family = "discovery"
    target = "e_form_per_atom"
    unit = "eV/atom"
    primary_metric = "full/F1"
    paper_table = "S4"
    stability = True  # hull distances known: stability metrics
    stand_in: str | None = None  # the label every output of a stand-in carries
    data_label = ""  # which data a leaderboard row ran on
    # what the models train on, as the model YAML's training_sets names it
    training_sets: tuple[str, ...] = ("MP 2022",)
    thresholds = THRESHOLDS

    def __init__(self, sample: tuple[int, int] | None = None):
        """``sample=(n_train, n_test)``: encode only a seeded sample of the rows (quick
        checks; every output then says "partial")."""
        self.sample = sample

    def smoke_sample(self, n_train: int, n_test: int) -> DiscoveryTask:
        return type(self)(sample=(n_train, n_test))

    def tables(self, data_dir) -> Tables:
        raise NotImplementedError

    def describe(self, tables: Tables, mode: str) -> str:
        raise NotImplementedError

    def load(self, data_dir=None, mode: str = "paper", progress: bool = True) -> TaskData:
        tables = self.tables(data_dir)
        n_total = len(tables.train) + len(tables.test) + len(tables.errors)
        if self.sample is not None:
            tables = sample_tables(tables, *self.sample)
        tr_ids, tr_texts, tr_y, tr_pos, tr_err = _encode(tables.train, mode, progress)
        te_ids, te_texts, te_y, te_pos, te_err = _encode(tables.test, mode, progress)
        test = tables.test.iloc[te_pos]
        if "unique_prototype" in test.columns:
            uniq = test["unique_prototype"].to_numpy(bool)
            proto = "Matbench Discovery's unique_prototype flag"
        else:
            uniq = unique_prototypes(te_texts, tr_texts)
            proto = "SCOPE string (prototype key) on no training row and no earlier test row"
        hull = np.r_[tables.train["e_hull"].to_numpy(float)[tr_pos],
                     test["e_hull"].to_numpy(float)]
        counts = {**tables.counts, "train": len(tr_ids), "test": len(te_ids),
                  "train_encoding_errors": len(tr_err), "test_encoding_errors": len(te_err),
                  "test_unique_prototypes": int(uniq.sum())}
        meta = {"e_above_hull": hull,
                "unique_prototype": np.r_[np.zeros(len(tr_ids), bool), uniq],
                "role": np.array(["train"] * len(tr_ids) + ["test"] * len(te_ids)),
                "counts": counts, "stand_in": self.stand_in, "prototype_key": proto}
        source = self.describe(tables, mode)
        if self.sample is not None:
            source += (f"; seeded sample of {len(tables.train)} training and {len(tables.test)}"
                       " test rows")
        data = TaskData(tr_ids + te_ids, tr_texts + te_texts, np.r_[tr_y, te_y],
                        [Fold(tr_ids, te_ids)], n_total, source,
                        errors=tables.errors + tr_err + te_err, checksums=tables.checksums,
                        meta=meta, encoded_mode=mode)
        return data

    def fold_metrics(self, data: TaskData, fold: Fold, y_pred: np.ndarray) -> dict[str, float]:
        """Formation-energy regression metrics, plus (with hull distances) the stability
        metrics of ``discovery_scores`` on the fold's test rows."""
        idx = data.rows(fold.test)
        e_form = data.targets[idx]
        out = regression_metrics(e_form, y_pred)
        if self.stability:
            out.update(discovery_scores(data.meta["e_above_hull"][idx], e_form, y_pred,
                                        data.meta["unique_prototype"][idx], self.thresholds))
        return out

    def paper_rows(self):
        """The paper's Table S4 F1 per model (WBM), only for the canonical WBM task: the
        stand-ins ran on other data."""
        if self.name != "discovery_wbm":
            return None
        from benchmarks.reference import paper_table

        table = paper_table(self.paper_table)
        return table[["F1"]].rename(columns={"F1": "mean"}).assign(std=np.nan)

    def leaderboard_lines(self, summary: dict, members: list) -> list[str]:
        from benchmarks.reports.discovery_outputs import leaderboard_lines

        return leaderboard_lines(summary, members)

    def write_family_outputs(self, out_dir: Path, results: dict) -> list[Path]:
        from benchmarks.reports.discovery_outputs import write_outputs

        by_name = {t.name: t for t in ADAPTERS}
        return write_outputs(Path(out_dir), results, by_name)


class WbmTask(DiscoveryTask):
    name = "discovery_wbm"
    n_total = N_WBM  # test rows
    data_label = "WBM test set (Matbench Discovery), initial structures (IP2E)"

    def tables(self, data_dir) -> Tables:
        return canonical_tables(data_dir)

    def data_files(self) -> list[tuple[str, ...]]:
        return [(k,) for k in CANONICAL_KEYS]

    def describe(self, tables: Tables, mode: str) -> str:
        c = tables.counts
        return (f"Matbench Discovery: MP 2022 ({c['rows_mp_energies']} energies) -> WBM initial "
                f"structures ({c['rows_wbm_summary']} of {N_WBM}); MP2020-corrected energies; "
                f"{c['train_removed_in_test']} training ids also in the test set removed; "
                f"encoded ({mode})")


class MptsTask(DiscoveryTask):
    name = "discovery_mpts"
    stand_in = ("STAND-IN, not Matbench Discovery: Materials Project time split (train: "
                "MP-20 binaries/ternaries + MPTS-52 val, test: MPTS-52 test, newer)")
    data_label = "stand-in: MP time split, MPTS-52 test (newer MP entries)"
    training_sets = ("MP-20 binaries/ternaries (val, test)", "MPTS-52 val")

    def tables(self, data_dir) -> Tables:
        return mpts_tables(data_dir)

    def data_files(self) -> list[tuple[str, ...]]:
        return [(k,) for k in (*MPTS_TRAIN, *MPTS_TEST)]

    def describe(self, tables: Tables, mode: str) -> str:
        c = tables.counts
        return (f"{self.stand_in}; {c['train_duplicates_merged']} ids in both MP-20 and "
                f"MPTS-52 merged, {c['train_removed_in_test']} training ids also in the test "
                f"set removed; hull distances from the files; encoded ({mode})")


class Wbm10kTask(DiscoveryTask):
    name = "discovery_wbm10k"
    primary_metric = "mae"
    paper_table = None
    stability = False
    stand_in = ("STAND-IN, not Matbench Discovery: WBM relaxed structures (10,000 of "
                f"{N_WBM}), uncorrected WBM energies (the WBM paper's e_form, not "
                "MP2020-corrected); formation-energy metrics only")
    data_label = "stand-in: WBM relaxed structures, uncorrected WBM energies"
    training_sets = MptsTask.training_sets

    def tables(self, data_dir) -> Tables:
        return wbm10k_tables(data_dir)

    def data_files(self) -> list[tuple[str, ...]]:
        return [*((k,) for k in (*MPTS_TRAIN, *MPTS_TEST)), (WBM10K[0],)]

    def describe(self, tables: Tables, mode: str) -> str:
        c = tables.counts
        return (f"{self.stand_in}; trained on the discovery_mpts training rows "
                f"({c['train_removed_in_test']} MPTS-52 test ids removed); encoded ({mode})")


ADAPTERS = [WbmTask(), MptsTask(), Wbm10kTask()]
