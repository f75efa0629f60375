"""Input tables of the Matbench Discovery family, before any SCOPE encoding.

Every reader returns (train, test) DataFrames indexed by ``material_id`` with the columns
``structure`` (a CIF string or a pymatgen structure dict), ``e_form`` (DFT formation energy,
eV/atom), ``e_hull`` (DFT distance to the convex hull, eV/atom; NaN where the source has
none) and, on the test table, ``unique_prototype`` where the source defines it. Rows with
a non-finite energy are dropped into the error table ``(id, kind, message)``; ids found in
both training files are merged and ids of the test set removed from the training rows, the
counts kept in ``counts``.

Canonical (``discovery_wbm``), from Matbench Discovery's own files (its ``data-files.yml``,
restated in ``cloud/data/registry.yaml``): MP training structures
(``mp_computed_structure_entries``) with MP2020-corrected formation energies
(``mp_energies``); WBM initial structures (``wbm_initial_structures``) with the DFT
formation energy, hull distance and ``unique_prototype`` flag of ``wbm_summary``.

Offline stand-ins (``../shared/data``): the Materials Project time split of ``stability/``
(train: MP-20 binaries/ternaries val+test and MPTS-52 val, test: MPTS-52 test), and the 10k
WBM *relaxed* structures of ``discovery/wbm_relaxed_subset_10k.csv.gz`` with the WBM paper's
uncorrected formation energies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cloud.data import DataMissingError, read_cif_csv, read_json, resolve, sha256sum
from cloud.data.readers import open_text

COLUMNS = ("structure", "e_form", "e_hull")
# stand-in (a): registry key -> (formation energy column, hull distance column)
MPTS_TRAIN = {
    "mpts_52_val": ("formation_energy_per_atom", "energy_above_hull"),
    "mp_20_biternary_val": ("formation_energy_per_atom", "e_above_hull"),
    "mp_20_biternary_test": ("formation_energy_per_atom", "e_above_hull"),
}
MPTS_TEST = {"mpts_52_test": ("formation_energy_per_atom", "energy_above_hull")}
WBM10K = ("wbm_relaxed_subset_10k", "e_form_per_atom_wbm")
# canonical: registry keys and the Matbench Discovery column names
CANONICAL_KEYS = ("wbm_summary", "wbm_initial_structures", "mp_energies",
                  "mp_computed_structure_entries")
WBM_E_FORM = "e_form_per_atom_mp2020_corrected"
WBM_E_HULL = "e_above_hull_mp2020_corrected_ppd_mp"
MP_E_FORM = "formation_energy_per_atom"


@dataclass
class Tables:
    """Training and test rows of one task, with what was dropped and where it came from."""

    train: pd.DataFrame
    test: pd.DataFrame
    train_errors: list[tuple[str, str, str]] = field(default_factory=list)
    test_errors: list[tuple[str, str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[tuple[str, str, str]]:
        return self.train_errors + self.test_errors


def _frame(ids, structures, e_form, e_hull=None) -> pd.DataFrame:
    n = len(ids)
    df = pd.DataFrame({
        "structure": list(structures),
        "e_form": pd.to_numeric(pd.Series(list(e_form)), errors="coerce").to_numpy(float),
        "e_hull": (np.full(n, np.nan) if e_hull is None else
                   pd.to_numeric(pd.Series(list(e_hull)), errors="coerce").to_numpy(float)),
    }, index=pd.Index([str(i) for i in ids], name="material_id"))
    return df


def finite_rows(df: pd.DataFrame, need_hull: bool, errors: list) -> pd.DataFrame:
    """Drop (and report) rows whose formation energy or, if needed, hull distance is not
    finite."""
    cols = ["e_form", "e_hull"] if need_hull else ["e_form"]
    bad = ~np.isfinite(df[cols].to_numpy(float)).all(axis=1)
    for i in df.index[bad]:
        errors.append((str(i), "nan_target", f"non-finite {' or '.join(cols)} in the source"))
    return df[~bad]


def merge_training(parts: list[pd.DataFrame], test_ids, counts: dict) -> pd.DataFrame:
    """Concatenate training tables: an id in several files is kept once (first file wins),
    ids of the test set are removed; both counts go to ``counts``."""
    train = pd.concat(parts)
    dup = train.index.duplicated(keep="first")
    counts["train_duplicates_merged"] = int(dup.sum())
    train = train[~dup]
    leak = train.index.isin(pd.Index(test_ids))
    counts["train_removed_in_test"] = int(leak.sum())
    return train[~leak]


def _read_cif_table(key: str, e_form_col: str, e_hull_col: str | None, data_dir,
                    checksums: dict) -> pd.DataFrame:
    path = resolve(key, data_dir=data_dir, download=False)
    checksums[path.name] = sha256sum(path)
    raw = read_cif_csv(path, id_col="material_id")
    return _frame(raw.index, raw["cif"], raw[e_form_col],
                  None if e_hull_col is None else raw[e_hull_col])


def mpts_training(data_dir=None) -> tuple[list[pd.DataFrame], dict[str, int], dict[str, str]]:
    """The stand-in training files (MPTS-52 val, then MP-20 val and test), as read."""
    checksums: dict[str, str] = {}
    parts = [_read_cif_table(k, e, h, data_dir, checksums) for k, (e, h) in MPTS_TRAIN.items()]
    counts = {f"rows_{k}": len(p) for k, p in zip(MPTS_TRAIN, parts, strict=True)}
    return parts, counts, checksums


def mpts_tables(data_dir=None) -> Tables:
    """Stand-in (a): older MP rows to train on, the newer MPTS-52 test rows to test on."""
    parts, counts, checksums = mpts_training(data_dir)
    (key, (e, h)), = MPTS_TEST.items()
    test = _read_cif_table(key, e, h, data_dir, checksums)
    counts[f"rows_{key}"] = len(test)
    train_errors: list = []
    test_errors: list = []
    test = finite_rows(test, True, test_errors)
    train = merge_training([finite_rows(p, False, train_errors) for p in parts], test.index,
                           counts)
    return Tables(train, test, train_errors, test_errors, counts, checksums)


def wbm10k_tables(data_dir=None) -> Tables:
    """Stand-in (b): the training rows of stand-in (a) (the same model), tested on the 10k
    WBM relaxed structures with the WBM paper's uncorrected formation energies."""
    standin = mpts_tables(data_dir)
    key, e_col = WBM10K
    test = _read_cif_table(key, e_col, None, data_dir, standin.checksums)
    counts = {**standin.counts, f"rows_{key}": len(test)}
    test_errors: list = []
    test = finite_rows(test, False, test_errors)
    leak = standin.train.index.isin(test.index)
    counts["train_removed_in_wbm10k"] = int(leak.sum())
    return Tables(standin.train[~leak], test, standin.train_errors, test_errors, counts,
                  standin.checksums)


# ---------------------------------------------------------------- canonical files
def canonical_paths(data_dir=None) -> dict[str, Path]:
    """Resolve (download when needed) every canonical file; one DataMissingError naming
    each file that cannot be had, with its URL."""
    paths, missing = {}, []
    for key in CANONICAL_KEYS:
        try:
            paths[key] = resolve(key, data_dir=data_dir)
        except DataMissingError as exc:
            missing.append(str(exc))
    if missing:
        raise DataMissingError("\n".join(missing))
    return paths


def read_jsonl(path) -> list[dict]:
    with open_text(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_wbm_initial_structures(path) -> pd.Series:
    """``material_id -> initial_structure`` (pymatgen dict) from the JSON-lines file."""
    rows = read_jsonl(path)
    return pd.Series({str(r["material_id"]): r["initial_structure"] for r in rows},
                     name="structure", dtype=object)


def read_mp_structures(path) -> pd.Series:
    """``material_id -> structure`` from the MP ComputedStructureEntries JSON (a pandas
    DataFrame in ``columns`` or ``records`` orientation with an ``entry`` column)."""
    doc = read_json(path)
    if isinstance(doc, dict) and "entry" in doc:
        entries = doc["entry"]
        ids = doc.get("material_id", {k: v.get("entry_id", k) for k, v in entries.items()})
        pairs = ((ids[k], entries[k]) for k in entries)
    elif isinstance(doc, list):
        pairs = ((r["material_id"], r["entry"]) for r in doc)
    else:
        raise ValueError(f"{path}: expected a DataFrame JSON with an 'entry' column")
    return pd.Series({str(i): e["structure"] for i, e in pairs}, name="structure", dtype=object)


def canonical_tables(data_dir=None) -> Tables:
    """MP 2022 structures and formation energies to train on; WBM initial structures with
    MP2020-corrected formation energies and hull distances to test on (IP2E)."""
    paths = canonical_paths(data_dir)
    checksums = {p.name: sha256sum(p) for p in paths.values()}
    with open_text(paths["wbm_summary"]) as fh:
        summary = pd.read_csv(fh).set_index("material_id")
    init = read_wbm_initial_structures(paths["wbm_initial_structures"])
    with open_text(paths["mp_energies"]) as fh:
        energies = pd.read_csv(fh).set_index("material_id")
    mp = read_mp_structures(paths["mp_computed_structure_entries"])
    counts = {"rows_wbm_summary": len(summary), "rows_wbm_initial_structures": len(init),
              "rows_mp_energies": len(energies), "rows_mp_structures": len(mp)}
    train_errors: list = []
    test_errors = [(str(i), "missing_structure", "no initial structure in the WBM file")
                   for i in summary.index.difference(init.index)]
    wbm = summary.loc[summary.index.intersection(init.index, sort=False)]
    test = _frame(wbm.index, init.loc[wbm.index], wbm[WBM_E_FORM], wbm[WBM_E_HULL])
    test["unique_prototype"] = wbm["unique_prototype"].astype(bool).to_numpy()
    train_errors += [(str(i), "missing_structure", "no MP structure for this energy")
                     for i in energies.index.difference(mp.index)]
    ids = energies.index.intersection(mp.index, sort=False)
    train = _frame(ids, mp.loc[ids], energies.loc[ids, MP_E_FORM])
    test = finite_rows(test, True, test_errors)
    train = merge_training([finite_rows(train, False, train_errors)], test.index, counts)
    return Tables(train, test, train_errors, test_errors, counts, checksums)


def sample_tables(tables: Tables, n_train: int, n_test: int, seed: int = 0) -> Tables:
    """A seeded sample of the rows (file order kept) for quick checks; counts say so."""
    rng = np.random.default_rng(seed)

    def pick(df: pd.DataFrame, n: int) -> pd.DataFrame:
        return df.iloc[np.sort(rng.permutation(len(df))[:n])]

    counts = {**tables.counts, "sampled_train": min(n_train, len(tables.train)),
              "sampled_test": min(n_test, len(tables.test))}
    return Tables(pick(tables.train, n_train), pick(tables.test, n_test), tables.train_errors,
                  tables.test_errors, counts, tables.checksums)
