"""Your own dataset as a benchmark task, declared in a small YAML file::

    name: aflow_bulk_modulus            # the task's name in every report
    data: aflow/bulk_modulus/test.csv.gz   # one file, a list of files, or a CIF folder
    target: bulk_modulus                # the column to predict
    unit: GPa                           # optional, for reports
    metric: mae                         # primary metric (optional; default mae)
    folds: {k: 5, seed: 0}              # k-fold over the rows (the default)

Data, by what the path is:

- a matbench-style JSON (``.json``, ``.json.gz``: pandas split orient with a ``structure``
  column of structure dicts), as MatBench's own files;
- a CSV (``.csv``, ``.csv.gz``) with a ``cif`` column (CIF text) or a ``composition``
  column (formulas; then only models whose ``input`` is ``composition`` run: there is no
  structure to write SCOPE strings from);
- a folder of ``*.cif`` files, with ``targets: targets.csv`` holding an ``id`` column (the
  file names without ``.cif``) and the target column.

Folds: ``{k: 5, seed: 0}`` (scikit-learn ``KFold``, shuffled, over the rows in file order);
``{column: fold}`` (a column giving each row's test fold, 0..k-1); or a given split as
files, ``{train: [train.csv.gz, val.csv.gz], test: [test.csv.gz]}`` (one fold; ``data`` is
then not needed). Relative paths are read next to the YAML file, then under the data folder
(``--data-dir``, ``$CLOUD_DATA_DIR``). Ids: an ``id_column`` when given, else the first of
``mbid, material_id, mp_id, idx, id`` present, else the row number (prefixed with the file
name when several files are read). Rows whose structure does not encode, or whose target is
not a finite number, are listed per row in ``input_errors.csv`` and left out of every fold.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import yaml

from benchmarks.tasks.base import Fold, TaskAdapter, TaskData

FORMATS = ("matbench_json", "csv", "cif_folder")
ID_COLUMNS = ("mbid", "material_id", "mp_id", "idx", "id")


class TaskFileError(ValueError):
    """A task YAML that cannot be read as a task: says which key and what is expected."""


class Task(TaskAdapter):
    """A user task: a dataset, its target column and its folds (see the module docstring).
    Immutable once constructed; ``load`` reads the data each time it is called."""

    family = "user"
    own_folds = True

    def __init__(self, name: str, target: str, data=None, folds: dict | None = None,
                 unit: str = "", metric: str = "mae", id_column: str | None = None,
                 targets: str | Path | None = None, root: str | Path | None = None):
        self.name, self.target, self.unit, self.primary_metric = str(name), target, unit, metric
        self.data_paths = [data] if isinstance(data, str | Path) else list(data or [])
        self.folds_spec = dict(folds or {"k": 5, "seed": 0})
        self.id_column, self.targets_path = id_column, targets
        self.root = Path(root) if root is not None else Path.cwd()
        if not self.data_paths and not {"train", "test"} <= set(self.folds_spec):
            raise TaskFileError(f"task {name!r}: give 'data', or folds with 'train' and 'test'")

    @classmethod
    def from_file(cls, path: str | Path) -> Task:
        """The task a YAML file declares (relative paths: next to the file)."""
        path = Path(path)
        doc = yaml.safe_load(path.read_text()) or {}
        known = {"name", "data", "target", "unit", "metric", "folds", "id_column", "targets"}
        if unknown := sorted(set(doc) - known):
            raise TaskFileError(f"{path}: unknown key {', '.join(unknown)}; known: "
                                f"{', '.join(sorted(known))}")
        for key in ("target",):
            if key not in doc:
                raise TaskFileError(f"{path}: no {key!r} (the column to predict)")
        return cls(doc.get("name", path.stem), doc["target"], doc.get("data"), doc.get("folds"),
                   doc.get("unit", ""), doc.get("metric", "mae"), doc.get("id_column"),
                   doc.get("targets"), root=path.parent)

    def _path(self, value, data_dir) -> Path:
        """A declared path: absolute, next to the YAML file, or under the data folder."""
        from cloud.data import DataMissingError
        from cloud.data import data_dir as default_data_dir

        p = Path(value).expanduser()
        roots = [self.root, *(d for d in (data_dir, default_data_dir()) if d is not None)]
        for candidate in [p] if p.is_absolute() else [Path(r) / p for r in roots]:
            if candidate.exists():
                return candidate
        raise DataMissingError(f"task {self.name}: data {value} not found (looked in "
                               f"{', '.join(str(r) for r in roots)})")

    def load(self, data_dir=None, mode: str = "paper", progress: bool = True) -> TaskData:
        import pandas as pd

        from benchmarks.tasks.scope_inputs import encode_structures

        spec = self.folds_spec
        given = {"train", "test"} <= set(spec)
        files = ([*_list(spec["train"]), *_list(spec["test"])] if given else self.data_paths)
        paths = [self._path(f, data_dir) for f in files]
        tables = [self._read(p, data_dir) for p in paths]
        if len(tables) > 1:  # ids unique across files
            tables = [t.set_axis([f"{_stem(p)}-{i}" for i in t.index]) for p, t in
                      zip(paths, tables, strict=True)]
        df = pd.concat(tables)
        if df.index.duplicated().any():
            raise TaskFileError(f"task {self.name}: ids repeat, e.g. "
                                f"{df.index[df.index.duplicated()][0]!r}; set id_column")
        if self.target not in df.columns:
            raise TaskFileError(f"task {self.name}: no target column {self.target!r} "
                                f"(columns: {[c for c in df.columns if c != '_input']})")
        y = pd.to_numeric(df[self.target], errors="coerce").to_numpy(float)
        checksums = {p.name: _checksum(p) for p in paths}
        if "composition" in df.attrs.get("input", ""):
            return self._compositions(df, y, checksums, paths)
        ids, texts, y_ok, _, errors = encode_structures(
            [str(i) for i in df.index], list(df["_input"]), y, mode, progress)
        folds = self._folds(df, ids, tables if given else None, spec)
        source = f"user task {self.name}: {', '.join(p.name for p in paths)} (encoded, {mode})"
        structures = dict(zip(map(str, df.index), df["_input"], strict=True))
        return TaskData(ids, texts, y_ok, folds, len(df), source, errors=errors,
                        checksums=checksums, n_available=len(df), encoded_mode=mode,
                        structure_loader=lambda: {i: _structure(s) for i, s in
                                                  structures.items()})

    def _compositions(self, df, y, checksums, paths) -> TaskData:
        ok = np.isfinite(y)
        ids = [str(i) for i, good in zip(df.index, ok, strict=True) if good]
        errors = [(str(i), "nan_target", "target is NaN or infinite")
                  for i, good in zip(df.index, ok, strict=True) if not good]
        given = {"train", "test"} <= set(self.folds_spec)
        folds = self._folds(df, ids, None if not given else [df], self.folds_spec)
        return TaskData(ids, [""] * len(ids), y[ok], folds, len(df),
                        f"user task {self.name}: {', '.join(p.name for p in paths)} "
                        "(compositions only, no structures)", errors=errors,
                        checksums=checksums, n_available=len(df),
                        meta={"compositions": dict(zip(map(str, df.index), df["_input"],
                                                       strict=True))})

    def _read(self, path: Path, data_dir):
        """One data file (or CIF folder) as a table: ``_input`` and the other columns."""
        import pandas as pd

        from cloud.data import read_matbench_json

        name = path.name.lower()
        if path.is_dir():
            cifs = sorted(path.glob("*.cif"))
            if self.targets_path is None:
                raise TaskFileError(f"task {self.name}: a CIF folder needs 'targets: FILE.csv' "
                                    "(an id column of file names and the target column)")
            targets = pd.read_csv(self._path(self.targets_path, data_dir))
            key = self.id_column or "id"
            targets = targets.set_index(targets[key].astype(str))
            df = pd.DataFrame({"_input": [p.read_text() for p in cifs]},
                              index=[p.stem for p in cifs]).join(targets, how="left")
            df.attrs["input"] = "cif"
            return df
        if name.endswith((".json", ".json.gz")):
            df = read_matbench_json(path).rename(columns={"structure": "_input"})
            df.attrs["input"] = "structure"
            return df
        if name.endswith((".csv", ".csv.gz")):
            df = pd.read_csv(path)
            df = df.drop(columns=[c for c in df.columns if str(c).startswith("Unnamed")])
            column = next((c for c in ("cif", "composition") if c in df.columns), None)
            if column is None:
                raise TaskFileError(f"{path}: a task CSV needs a 'cif' or a 'composition' "
                                    f"column (columns: {list(df.columns)})")
            key = self.id_column or next((c for c in ID_COLUMNS if c in df.columns), None)
            if key is not None:
                df = df.set_index(df[key].astype(str))
            else:
                df.index = df.index.astype(str)
            df = df.rename(columns={column: "_input"})
            df.attrs["input"] = column
            return df
        raise TaskFileError(f"{path}: not a task data file (.json[.gz], .csv[.gz] or a CIF "
                            "folder)")

    def _folds(self, df, ids: list[str], given_tables, spec: dict) -> list[Fold]:
        from cloud.data import kfold_ids

        have = set(ids)
        if given_tables is not None:
            n_train = sum(len(t) for t in given_tables[:len(_list(spec["train"]))])
            order = [str(i) for i in df.index]
            return [Fold([i for i in order[:n_train] if i in have],
                         [i for i in order[n_train:] if i in have])]
        if "column" in spec:
            fold_of = dict(zip(map(str, df.index), df[spec["column"]].astype(int), strict=True))
            k = max(fold_of.values()) + 1
            return [Fold([i for i in ids if fold_of[i] != f], [i for i in ids if fold_of[i] == f])
                    for f in range(k)]
        folds = kfold_ids(ids, n_splits=int(spec.get("k", 5)), seed=int(spec.get("seed", 0)))
        return [Fold(list(f.train), list(f.test)) for f in folds]


def _list(value) -> list:
    return [value] if isinstance(value, str | Path) else list(value)


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


def _checksum(path: Path) -> str:
    from cloud.data import sha256sum

    if not path.is_dir():
        return sha256sum(path)
    h = hashlib.sha256()
    for p in sorted(path.glob("*.cif")):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _structure(value):
    """A pymatgen Structure from a structure dict or CIF text."""
    from pymatgen.core import Structure

    if isinstance(value, Structure):
        return value
    if isinstance(value, dict):
        return Structure.from_dict(value)
    return Structure.from_str(value, fmt="cif")
