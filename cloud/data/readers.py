"""Readers for the suite's data files (all accept plain or gzip-compressed files).

Structures stay as plain dicts (pymatgen ``Structure.as_dict()`` form) or CIF strings: nothing
here builds pymatgen objects, since the SCOPE encoder reads the dicts directly.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .fetch import DataMissingError
from .paths import resolve
from .registry import UNCONVBENCH_UPSTREAM, load_registry

if TYPE_CHECKING:  # pandas is imported where used: the SCOPE CLI reads JSON without it
    import pandas as pd

PathLike = str | os.PathLike[str]
ID_COLUMNS = ("mbid", "material_id", "mp_id", "idx", "id")
PHONON_KINDS = {"cv": ("phonon_cv", "cv"), "u": ("phonon_u", "internal_energy")}


def open_text(path: PathLike) -> TextIO:
    """Open a text file, transparently gunzipping it (detected by magic bytes, not name)."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_json(path: PathLike) -> Any:
    """Parse a (possibly gzipped) JSON file."""
    with open_text(path) as f:
        return json.load(f)


def _read_csv(path: PathLike, **kw: Any) -> pd.DataFrame:
    import pandas as pd

    with open_text(path) as f:
        df = pd.read_csv(f, **kw)
    unnamed = [c for c in df.columns if str(c).startswith("Unnamed: ")]
    return df.drop(columns=unnamed)


def matbench_task(name: str) -> str:
    """Normalise ``jdft2d`` / ``matbench_jdft2d`` / ``matbench_jdft2d.json.gz`` to ``matbench_jdft2d``."""
    stem = Path(name).name.split(".")[0]
    stem = stem.removesuffix("_targets")
    return stem if stem.startswith("matbench_") else f"matbench_{stem}"


def matbench_ids(task: str, n: int) -> list[str]:
    """MatBench ids ``mb-<task>-<i>`` for rows 1..n, zero-padded to the digits of ``n``.

    This is matbench's own convention (e.g. ``mb-jdft2d-001`` for 636 rows,
    ``mb-phonons-0001`` for 1265, ``mb-mp-e-form-000001`` for 132752).
    """
    short = matbench_task(task).removeprefix("matbench_").replace("_", "-")
    width = len(str(n))
    return [f"mb-{short}-{i:0{width}d}" for i in range(1, n + 1)]


def _is_id_list(index: Any, n: int) -> bool:
    return isinstance(index, list) and len(index) == n and all(isinstance(i, str) for i in index)


def _matbench_ids(doc: dict, path: PathLike, task: str | None) -> tuple[list[str], str]:
    """(ids, index name) of a matbench-format document: its string ``index`` when it has one
    (the offline subsets hold mb ids or mp ids there), else the task's MatBench ids."""
    data, index = doc["data"], doc.get("index")
    if _is_id_list(index, len(data)):
        ids = [str(i) for i in index]
        return ids, "mbid" if ids and ids[0].startswith("mb-") else "id"
    task = matbench_task(task or str(path))
    reg = load_registry()
    n_total = reg[task].n_rows if task in reg and reg[task].n_rows else len(data)
    if len(data) != n_total:
        raise ValueError(
            f"{path}: {len(data)} rows without ids, but {task} has {n_total}; "
            "a subset needs its ids in `index`"
        )
    return matbench_ids(task, n_total), "mbid"


def read_matbench_json(path: PathLike, task: str | None = None) -> pd.DataFrame:
    """Read a MatBench dataset JSON (pandas split orient: ``index``, ``columns``, ``data``).

    Returns a DataFrame indexed by id, with the ``structure`` column holding the structure dicts
    as they are in the file. When the file has string ids in ``index`` they are kept (the
    offline subsets hold mb ids or mp ids there); when the index is absent or numeric, ids are
    the MatBench ids of the rows in file order (row i -> ``mb-<task>-(i+1)``). ``task`` defaults
    to the one in the file name (``matbench_<task>.json[.gz]``).
    """
    import pandas as pd

    doc = read_json(path)
    columns = list(doc["columns"])
    ids, name = _matbench_ids(doc, path, task)
    df = pd.DataFrame(doc["data"], columns=columns, index=pd.Index(ids, name=name))
    for col in columns:
        if col != "structure" and df[col].dtype == object:
            num = pd.to_numeric(df[col], errors="coerce")
            if num.notna().sum() == df[col].notna().sum():
                df[col] = num
    return df


def read_matbench_structures(path: PathLike, task: str | None = None) -> list[tuple[str, Any]]:
    """``(id, structure dict)`` of a matbench-format JSON, ids as ``read_matbench_json`` gives
    them, without building a DataFrame (the SCOPE CLI's fast path: no pandas import)."""
    doc = read_json(path)
    columns = list(doc["columns"])
    if "structure" not in columns:
        raise ValueError(f"{path}: no 'structure' column")
    col = columns.index("structure")
    ids, _ = _matbench_ids(doc, path, task)
    return [(i, row[col]) for i, row in zip(ids, doc["data"], strict=True)]


def unconvbench_ids(task: str, n: int) -> list[str]:
    """UnconvBench ids ``<upstream task>-<i>`` for rows 1..n, zero-padded to the digits of ``n``.

    ``task`` is the suite's short name (``2d_e_exf``) or the upstream one
    (``unconvbench_exfoliation``); ids follow unconvbench's own convention.
    """
    name = UNCONVBENCH_UPSTREAM.get(task.removeprefix("unconvbench_"), task)
    width = len(str(n))
    return [f"{name}-{i:0{width}d}" for i in range(1, n + 1)]


def read_unconvbench_json(path: PathLike, task: str) -> pd.DataFrame:
    """Read an UnconvBench task file (``columns`` = [structure, target], ``data``; no index).

    Rows get UnconvBench ids in file order; structures stay dicts.
    """
    import pandas as pd

    doc = read_json(path)
    data = doc["data"]
    ids = unconvbench_ids(task, len(data))
    df = pd.DataFrame(data, columns=list(doc["columns"]), index=pd.Index(ids, name="id"))
    target = df.columns[-1]
    df[target] = pd.to_numeric(df[target], errors="coerce")
    return df


def read_records_json(path: PathLike, id_col: str = "material_id") -> pd.DataFrame:
    """Read a JSON list of records (e.g. the 2DMatPedia subset) indexed by ``id_col``."""
    import pandas as pd

    doc = read_json(path)
    if not isinstance(doc, list):
        raise ValueError(f"{path}: expected a JSON list of records")
    df = pd.DataFrame.from_records(doc)
    return df.set_index(id_col) if id_col in df.columns else df


def read_cif_csv(path: PathLike, id_col: str | None = None, cif_col: str = "cif") -> pd.DataFrame:
    """Read a CSV holding one CIF string per row (CIFs are kept as strings).

    ``id_col`` becomes the index; by default the first of ``mbid, material_id, mp_id, idx, id``
    present is used, else the row number. Pandas' unnamed index columns are dropped.
    """
    df = _read_csv(path)
    if cif_col not in df.columns:
        raise ValueError(f"{path}: no CIF column {cif_col!r} (columns: {list(df.columns)})")
    if id_col is None:
        id_col = next((c for c in ID_COLUMNS if c in df.columns), None)
    if id_col is not None:
        if id_col not in df.columns:
            raise ValueError(f"{path}: no id column {id_col!r}")
        df[id_col] = df[id_col].astype(str)
        df = df.set_index(id_col)
    # A row without a CIF stays (as ""): the encoder reports it in its error table.
    df[cif_col] = df[cif_col].fillna("").astype(str)
    return df


def read_scope_csv(path: PathLike) -> pd.DataFrame:
    """Read a CSV of SCOPE strings (column ``scope``), indexed by its id column when it has one."""
    df = _read_csv(path)
    if "scope" not in df.columns:
        raise ValueError(f"{path}: no 'scope' column (columns: {list(df.columns)})")
    df["scope"] = df["scope"].astype(str).str.strip()
    id_col = next((c for c in ID_COLUMNS if c in df.columns), None)
    if id_col is not None:
        df = df.set_index(id_col)
    return df


def read_matbench_targets(task: str, data_dir: PathLike | None = None) -> pd.DataFrame:
    """The targets table of a MatBench task (``mbid`` index; target, composition, spg_num, crys_sys).

    Rows are in MatBench order (``mb-<task>-1`` first), i.e. the order the official folds index.
    A task without a registered targets table (the five tasks the offline copy lacks) reads
    its dataset file instead: ``mbid`` index, the target and its input column.
    """
    task = matbench_task(task)
    if f"{task}_targets" not in load_registry():
        df = read_matbench_json(resolve(task, data_dir=data_dir), task=task)
        return df.drop(columns=["structure"], errors="ignore").rename_axis("mbid")
    df = _read_csv(resolve(f"{task}_targets", data_dir=data_dir))
    return df.set_index("mbid")


def _read_phonon_raw(path: Path, split: str) -> pd.DataFrame:
    import pandas as pd

    raw = _read_csv(path)
    return pd.DataFrame(
        {"mp_id": raw["cif_id"].astype(str), "value": raw["property"].astype(float), "split": split}
    )


def read_phonon(
    kind: str = "cv",
    data_dir: PathLike | None = None,
    download: bool = True,
    with_scope: bool = True,
) -> pd.DataFrame:
    """Phonon heat capacity (``kind='cv'``) or internal energy (``'u'``) at 300 K (Gong et al. 2023).

    Columns ``mp_id, value, split`` (split = the original ``train``/``test``), plus ``scope`` and
    ``n_atoms`` from ``scope_reference/phonon.csv`` when ``with_scope``. Reads the merged CSV
    when a data directory has it, else the two canonical CSVs (downloaded when needed).
    """
    import pandas as pd

    if kind not in PHONON_KINDS:
        raise ValueError(f"kind must be one of {sorted(PHONON_KINDS)}, not {kind!r}")
    key, stem = PHONON_KINDS[kind]
    try:
        merged = _read_csv(resolve(key, data_dir=data_dir, download=False))
        df = merged.rename(columns={stem: "value"})[["mp_id", "value", "split"]]
    except DataMissingError:
        parts = [
            _read_phonon_raw(resolve(f"{key}_{s}", data_dir=data_dir, download=download), s)
            for s in ("train", "test")
        ]
        df = pd.concat(parts, ignore_index=True)
    df["mp_id"] = df["mp_id"].astype(str)
    df["value"] = df["value"].astype(float)
    if df["mp_id"].duplicated().any():
        raise ValueError(f"phonon {kind}: duplicated mp ids")
    if with_scope:
        scope = read_scope_csv(resolve("scope_phonon", data_dir=data_dir, download=False))
        df = df.merge(
            scope[["scope", "n_atoms"]],
            left_on="mp_id",
            right_index=True,
            how="left",
            validate="one_to_one",
        )
        if df["scope"].isna().any():
            raise ValueError(f"phonon {kind}: {int(df['scope'].isna().sum())} ids lack a SCOPE row")
        df["n_atoms"] = df["n_atoms"].astype(int)
    entry = load_registry()[key]
    df.attrs.update(kind=kind, unit=entry.target.unit if entry.target else None)
    return df
