"""Read ``(id, structure)`` pairs for the SCOPE CLI from the supported input kinds.

- a registry key (``matbench_jdft2d``), resolved by ``cloud.data`` (local data directory,
  cache, or download with checksum);
- a matbench-format JSON (``.json`` / ``.json.gz``): pandas "split" orient with ``index``
  (ids; MatBench ids from row order when absent) and a ``structure`` column;
- a CSV (``.csv`` / ``.csv.gz``) with a ``cif`` column (ids from an id-like column);
- a ``.cif`` file, or a directory of ``*.cif`` files (id = file name without ``.cif``).
"""

from __future__ import annotations

from pathlib import Path


def read_cif_dir(path: Path) -> list[tuple[str, object]]:
    return [(p.name[: -len(".cif")], p) for p in sorted(path.glob("*.cif"))]


def read_inputs(source: str | Path, data_dir: str | Path | None = None) -> list[tuple[str, object]]:
    """Dispatch on the input kind; raises ``ValueError``/``OSError`` for unusable input and
    ``cloud.data.DataMissingError`` for a registry key whose file cannot be had."""
    from cloud.data import read_cif_csv, read_matbench_structures, resolve

    path = Path(source)
    if not path.exists() and "/" not in str(source) and "." not in str(source):
        path = resolve(str(source), data_dir=data_dir)
    if path.is_dir():
        return read_cif_dir(path)
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        return read_matbench_structures(path)
    if name.endswith((".csv", ".csv.gz")):
        df = read_cif_csv(path)
        return list(zip(df.index.astype(str), df["cif"], strict=True))
    if name.endswith(".cif"):
        return [(path.name[: -len(".cif")], path)]
    raise ValueError(f"{path}: expected a registry key, a matbench JSON(.gz), a CSV(.gz) with a "
                     "cif column, a .cif file or a directory of .cif files")

