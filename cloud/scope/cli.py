"""``python -m cloud.scope INPUT --out OUT.csv [--mode paper|canonical]``."""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from cloud.scope.batch import ERROR_COLUMNS, encode_many
from cloud.scope.encoder import MODES, ScopeEncoder
from cloud.scope.inputs import read_inputs
from cloud.scope.symmetry import DEFAULT_ANGLE_TOLERANCE, DEFAULT_SYMPREC


def errors_path_for(out: Path) -> Path:
    name = out.name[: -len(".csv")] if out.name.endswith(".csv") else out.name
    return out.with_name(f"{name}.errors.csv")


def write_csv(path: Path, header, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(path)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cloud.scope", description=__doc__)
    p.add_argument("input", help="registry key (e.g. matbench_jdft2d), matbench JSON(.gz), "
                   "CSV(.gz) with a cif column, a .cif file or a directory of .cif files")
    p.add_argument("--data-dir", type=Path, help="local data directory (default: "
                   "$CLOUD_DATA_DIR, then the download cache)")
    p.add_argument("--out", type=Path, required=True, help="output CSV (id, scope)")
    p.add_argument("--errors", type=Path, help="error table (default: OUT.errors.csv)")
    p.add_argument("--mode", choices=MODES, default="paper")
    p.add_argument("--symprec", type=float, default=DEFAULT_SYMPREC)
    p.add_argument("--angle-tolerance", type=float, default=DEFAULT_ANGLE_TOLERANCE,
                   help="degrees")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    from cloud.data import ChecksumError, DataMissingError

    try:
        items = read_inputs(args.input, data_dir=args.data_dir)
    except (OSError, ValueError, DataMissingError, ChecksumError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    encoder = ScopeEncoder(args.mode, args.symprec, args.angle_tolerance)
    result = encode_many(items, encoder, workers=args.workers, progress=not args.no_progress)
    errors_path = args.errors or errors_path_for(args.out)
    write_csv(args.out, ("id", "scope"), result.rows)
    write_csv(errors_path, ERROR_COLUMNS, result.errors)
    elapsed = time.perf_counter() - start
    print(f"{len(result.rows)} encoded, {len(result.errors)} failed ({errors_path}) "
          f"in {elapsed:.1f} s, {len(result) / max(elapsed, 1e-9):.0f} structures/s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
