"""``python -m cloud.scope INPUT [INPUT ...] --out OUT [--mode paper|canonical]``.

One input: ``OUT`` is the CSV (``id, scope``) and ``OUT.errors.csv`` the error table. Several
inputs: ``OUT`` is a directory receiving ``<input name>.csv`` and ``<input name>.errors.csv``
for each; all inputs are encoded in one process pool (start-up paid once).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from pathlib import Path

from cloud.fileio import write_text_atomic
from cloud.logging_setup import quiet_third_party
from cloud.scope.batch import ERROR_COLUMNS, encode_many
from cloud.scope.encoder import MODES, ScopeEncoder
from cloud.scope.inputs import read_inputs
from cloud.scope.symmetry import DEFAULT_ANGLE_TOLERANCE, DEFAULT_SYMPREC, SYMMETRY_BACKENDS


def errors_path_for(out: Path) -> Path:
    name = out.name[: -len(".csv")] if out.name.endswith(".csv") else out.name
    return out.with_name(f"{name}.errors.csv")


def write_csv(path: Path, header, rows) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cloud.scope",
        description="Encode crystal structures as SCOPE strings (CSV of id, scope; failures in"
                    " an error table).\n\n" + __doc__.split("\n", 2)[2],
        epilog="Example:\n"
               "  python -m cloud.scope matbench_jdft2d --data-dir ../shared/data "
               "--out runs/scope/jdft2d.csv\n"
               "  python -m cloud.scope structures/ --mode canonical --out runs/scope/mine.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", nargs="+", help="registry key (e.g. matbench_jdft2d), matbench "
                   "JSON(.gz), CSV(.gz) with a cif column, a .cif file or a directory of .cif files")
    p.add_argument("--data-dir", type=Path, help="local data directory (default: "
                   "$CLOUD_DATA_DIR, then the download cache)")
    p.add_argument("--out", type=Path, required=True,
                   help="output CSV (id, scope); a directory when several inputs are given")
    p.add_argument("--errors", type=Path, help="error table (default: OUT.errors.csv)")
    p.add_argument("--mode", choices=MODES, default="paper")
    p.add_argument("--symmetry", choices=sorted(SYMMETRY_BACKENDS), default="spglib",
                   help="symmetry search of paper mode: spglib (the paper's, default) or moyopy "
                        "(faster; agreement measured in benchmarks/perf/scope_encoding.py)")
    p.add_argument("--symprec", type=float, default=DEFAULT_SYMPREC)
    p.add_argument("--angle-tolerance", type=float, default=DEFAULT_ANGLE_TOLERANCE,
                   help="degrees")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument("--no-progress", action="store_true")
    return p


def output_paths(args) -> list[tuple[Path, Path]]:
    """(scope CSV, error CSV) per input."""
    if len(args.input) == 1:
        return [(args.out, args.errors or errors_path_for(args.out))]
    if args.errors is not None:
        raise ValueError("--errors needs a single input (several inputs: OUT is a directory)")
    stems = [Path(str(i).rstrip("/")).name.split(".")[0] for i in args.input]
    if len(set(stems)) != len(stems):
        raise ValueError(f"inputs must have distinct names, got {stems}")
    return [(args.out / f"{s}.csv", args.out / f"{s}.errors.csv") for s in stems]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_third_party()
    start = time.perf_counter()
    from cloud.data import ChecksumError, DataMissingError

    try:
        paths = output_paths(args)
        sources = [read_inputs(i, data_dir=args.data_dir) for i in args.input]
    except (OSError, ValueError, DataMissingError, ChecksumError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # one pool over all inputs; ids tagged with their input's index, untagged on output
    items = [((k, ident), payload) for k, src in enumerate(sources) for ident, payload in src]
    encoder = ScopeEncoder(args.mode, args.symprec, args.angle_tolerance, args.symmetry)
    result = encode_many(items, encoder, workers=args.workers, progress=not args.no_progress)
    for k, (out, errors_path) in enumerate(paths):
        write_csv(out, ("id", "scope"), [(i, s) for (j, i), s in result.rows if j == k])
        write_csv(errors_path, ERROR_COLUMNS,
                  [(i, kind, msg) for (j, i), kind, msg in result.errors if j == k])
    elapsed = time.perf_counter() - start
    print(f"{len(result.rows)} encoded, {len(result.errors)} failed "
          f"({', '.join(str(e) for _, e in paths)}) in {elapsed:.1f} s, "
          f"{len(result) / max(elapsed, 1e-9):.0f} structures/s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
