"""Inputs of ``python -m cloud.predict``: files -> ``(id, SCOPE, n_atoms)`` rows + an error table.

Accepted inputs (any number, in any mix):

- a matbench-format JSON(.gz): pandas split orient with a ``structure`` column of pymatgen
  ``Structure`` dicts (ids from ``index``, MatBench ids from row order when absent);
- a CIF file, a POSCAR/CONTCAR (or ``*.vasp``) file, or a directory of such files
  (id = file name without its ``.cif``/``.vasp``/``.poscar`` suffix);
- a CSV(.gz) with a ``scope`` column: SCOPE strings used as they are (id from an id-like
  column ``mbid, material_id, mp_id, idx, id``, else the row number; for CLOUD-DEBYE an
  ``n_atoms`` column, atoms per primitive cell);
- a CSV(.gz) with a ``cif`` column (and no ``scope`` column): one CIF per row.

Structures are encoded in paper mode by :mod:`cloud.scope.batch` (a process pool for large
inputs); for CLOUD-DEBYE the number of atoms in spglib's primitive cell comes with each string.
A row that cannot be used becomes ``(id, kind, message)`` in the error table, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cloud.scope.cell import is_poscar_name, to_cell
from cloud.scope.encoder import ScopeEncoder
from cloud.scope.symmetry import primitive_atom_count

STRUCTURE_SUFFIXES = (".cif", ".vasp", ".poscar")
#: Inputs at most this long are encoded in this process (a pool costs more than it saves).
SERIAL_LIMIT = 64
#: Progress bars from this many rows on.
PROGRESS_FROM = 300


class ScopeWithPrimitiveCount(ScopeEncoder):
    """A paper/canonical ``ScopeEncoder`` whose ``encode`` returns ``(SCOPE, atoms in the
    primitive cell)``, so that the batch encoder gets both from one parse of the structure."""

    def encode(self, structure) -> tuple[str, int]:
        cell = to_cell(structure)
        return super().encode(cell), primitive_atom_count(cell, self.options)


@dataclass
class PredictionInputs:
    rows: list[tuple[str, str, int | None]] = field(default_factory=list)  # id, scope, n_atoms
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # id, kind, message


def structure_files(folder: Path) -> list[tuple[str, Path]]:
    """``(id, path)`` of the CIF and POSCAR files in a directory, sorted by name."""
    files = [p for p in sorted(folder.iterdir())
             if p.is_file() and (p.name.lower().endswith(".cif") or is_poscar_name(p))]
    return [(structure_id(p), p) for p in files]


def structure_id(path: Path) -> str:
    name = path.name
    for suffix in STRUCTURE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _csv_columns(path: Path) -> list[str]:
    from cloud.data.readers import open_text

    with open_text(path) as fh:
        import csv

        return next(csv.reader(fh), [])


def scope_rows(path: Path, need_n_atoms: bool) -> PredictionInputs:
    """Rows of a CSV of SCOPE strings; empty strings and (for Debye) missing ``n_atoms``
    become error rows."""
    import pandas as pd

    from cloud.data import read_scope_csv

    df = read_scope_csv(path)
    ids = [str(i) for i in df.index] if df.index.name else [str(i) for i in range(len(df))]
    counts = (pd.to_numeric(df["n_atoms"], errors="coerce") if "n_atoms" in df.columns
              else pd.Series([float("nan")] * len(df), index=df.index))
    out = PredictionInputs()
    for ident, scope, n in zip(ids, df["scope"], counts, strict=True):
        if not isinstance(scope, str) or not scope or scope == "nan":  # pandas reads "" as NaN
            out.errors.append((ident, "empty", "no SCOPE string"))
        elif need_n_atoms and not (n == n and n >= 1 and float(n).is_integer()):
            out.errors.append((ident, "missing_n_atoms", "CLOUD-DEBYE needs n_atoms (atoms "
                               "per primitive cell) for a SCOPE string; the CSV has "
                               + ("no n_atoms column" if "n_atoms" not in df.columns
                                  else f"n_atoms={n}")))
        else:
            out.rows.append((ident, scope, int(n) if n == n else None))
    return out


def classify(source: str | Path) -> tuple[str, object]:
    """``("scope", path)`` for a CSV of SCOPE strings, else ``("structures", [(id, payload)])``;
    ``ValueError`` for an input of no supported kind."""
    from cloud.data import read_cif_csv, read_matbench_structures

    path = Path(source)
    if not path.exists():
        raise ValueError(f"{path}: no such file or directory")
    if path.is_dir():
        files = structure_files(path)
        if not files:
            raise ValueError(f"{path}: no .cif or POSCAR files in this directory")
        return "structures", files
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        return "structures", read_matbench_structures(path)
    if name.endswith((".csv", ".csv.gz")):
        columns = _csv_columns(path)
        if "scope" in columns:
            return "scope", path
        if "cif" in columns:
            df = read_cif_csv(path)
            return "structures", list(zip(df.index.astype(str), df["cif"], strict=True))
        raise ValueError(f"{path}: a CSV needs a 'scope' or a 'cif' column (has {columns})")
    if name.endswith(".cif") or is_poscar_name(path):
        return "structures", [(structure_id(path), path)]
    raise ValueError(f"{path}: expected a matbench JSON(.gz), a CSV(.gz) with a scope or cif "
                     "column, a CIF or POSCAR file, or a directory of them")


def read_prediction_inputs(sources: list[str | Path], need_n_atoms: bool,
                           encoder: ScopeEncoder | None = None,
                           progress: bool | None = None) -> PredictionInputs:
    """All inputs' rows and errors, input by input, in each input's order. Structures of all
    inputs are encoded together (``encoder``: paper mode by default); ``need_n_atoms``
    (CLOUD-DEBYE) adds each structure's primitive-cell atom count and requires ``n_atoms`` in
    SCOPE CSVs. ``ValueError``/``OSError`` for an unusable input file as a whole."""
    from cloud.scope.batch import encode_many

    encoder = encoder or ScopeEncoder()
    if need_n_atoms:
        encoder = ScopeWithPrimitiveCount(encoder.mode, encoder.symprec,
                                          encoder.angle_tolerance, encoder.symmetry)
    kinds = [classify(s) for s in sources]
    items = [((k, ident), payload) for k, (kind, found) in enumerate(kinds)
             if kind == "structures" for ident, payload in found]
    show = len(items) >= PROGRESS_FROM if progress is None else progress
    encoded = encode_many(items, encoder, workers=1 if len(items) <= SERIAL_LIMIT else None,
                          progress=show)
    out = PredictionInputs()
    for k, (kind, found) in enumerate(kinds):
        if kind == "scope":
            part = scope_rows(found, need_n_atoms)
            out.rows += part.rows
            out.errors += part.errors
            continue
        for (j, ident), value in encoded.rows:
            if j == k:
                scope, n = value if need_n_atoms else (value, None)
                out.rows.append((ident, scope, n))
        out.errors += [(ident, kind_, msg) for (j, ident), kind_, msg in encoded.errors if j == k]
    return out


__all__ = ["PredictionInputs", "ScopeWithPrimitiveCount", "classify", "read_prediction_inputs",
           "scope_rows", "structure_files"]
