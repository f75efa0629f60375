"""Pretraining corpus: every SCOPE string the suite can obtain, de-duplicated.

Sources (paths in the data layout; a missing one is reported and skipped):
structures encoded by the project (matbench-format JSONs, CSVs of CIFs, 2DMatPedia
records), protostructure pools (Wyckoff labels, no structure needed) and SCOPE strings made
by the paper's own code (the 10k OPTIMADE sample, phonon and dielectric strings).

By default benchmark test inputs are *not* removed (the paper pretrains on a superset of its
benchmarks); instead the overlap is reported: for every benchmark set, how many of its
strings are in the corpus and how many of those also come from a non-benchmark source.
``--exclude-test-inputs`` builds the leakage-free corpus instead: every string that is a test
input of any benchmark (``TEST_INPUT_SOURCES``) is dropped, whatever other source also has it.

``python -m cloud.train.corpus --data-dir ../shared/data --out runs/corpus``
writes ``corpus.csv.gz`` (scope, sources), ``errors.csv``, ``overlap.json`` and a manifest.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import time
from collections import defaultdict
from pathlib import Path

from cloud.data.readers import open_text
from cloud.logging_setup import quiet_third_party

STRUCTURE_JSON = (
    "matbench/matbench_jdft2d.json.gz",
    "matbench/matbench_phonons.json.gz",
    "matbench/partial/matbench_perovskites.subset.json.gz",
    "phonon/structures.subset.json.gz",
)
RECORDS_JSON = ("unconv/2dmatpedia_subset.json.gz",)
CIF_CSV = (
    "stability/mpts_52_val.csv.gz",
    "stability/mpts_52_test.csv.gz",
    "stability/mp_20_biternary_val.csv.gz",
    "stability/mp_20_biternary_test.csv.gz",
    "perovskites/perov_5_val.csv.gz",
    "perovskites/perov_5_test.csv.gz",
    "discovery/wbm_relaxed_subset_10k.csv.gz",
    *(f"aflow/{prop}/{split}.csv.gz"
      for prop in ("debye_temperature", "bulk_modulus", "shear_modulus",
                   "thermal_conductivity", "thermal_expansion")
      for split in ("train", "val", "test")),
)
PROTOSTRUCTURES = (
    "protostructures/mp-wyk-test.csv.gz",
    "protostructures/taata-wyk-train.csv.gz",
    "protostructures/taata-wyk-test.csv.gz",
)
SCOPE_STRINGS = (
    "scope_reference/pretrain_optimade_10k.csv.gz",
    "scope_reference/phonon.csv",
    "scope_reference/matbench_dielectric.csv",
)
# Benchmark sets whose overlap with the corpus is reported.
BENCHMARKS = {
    "matbench_jdft2d": "matbench/matbench_jdft2d.json.gz",
    "matbench_phonons": "matbench/matbench_phonons.json.gz",
    "matbench_perovskites (subset)": "matbench/partial/matbench_perovskites.subset.json.gz",
    "matbench_dielectric (paper strings)": "scope_reference/matbench_dielectric.csv",
    "phonon Cv/U (paper strings)": "scope_reference/phonon.csv",
    "phonon Cv/U (structures)": "phonon/structures.subset.json.gz",
    "unconvbench 2d_e_exf (2DMatPedia subset)": "unconv/2dmatpedia_subset.json.gz",
}
# Every file whose rows are test inputs of a benchmark task (MatBench and Cv/U are 5-fold CV,
# so every row is a test input of some fold; the discovery stand-ins' test sets).
TEST_INPUT_SOURCES = (*BENCHMARKS.values(), "stability/mpts_52_test.csv.gz",
                      "discovery/wbm_relaxed_subset_10k.csv.gz")


def _structure_items(path: Path, rel: str) -> list[tuple[str, object]]:
    from cloud.data import read_cif_csv, read_records_json
    from cloud.scope.inputs import read_inputs

    if rel in RECORDS_JSON:
        df = read_records_json(path)
        return [(f"{rel}:{i}", s) for i, s in zip(df.index, df["structure"], strict=True)]
    if rel in CIF_CSV:
        df = read_cif_csv(path)
        return [(f"{rel}:{i}", c) for i, c in zip(range(len(df)), df["cif"], strict=True)]
    return [(f"{rel}:{i}", s) for i, s in read_inputs(path)]


def _label_strings(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    from cloud.scope.protostructure import protostructure_to_scope

    rows, errors = [], []
    with open_text(path) as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            try:
                rows.append((str(i), str(protostructure_to_scope(row["wyckoff"]))))
            except ValueError as exc:
                errors.append((str(i), "invalid", str(exc)))
    return rows, errors


def _reference_strings(path: Path) -> list[tuple[str, str]]:
    with open_text(path) as fh:
        return [(str(i), row["scope"].strip()) for i, row in enumerate(csv.DictReader(fh))]


def build_corpus(data_dir: str | Path | None, workers: int | None = None,
                 progress: bool = True) -> dict:
    """Encode and collect every source. Returns strings -> sources, errors, checksums."""
    from cloud.data import DataMissingError, resolve, sha256sum
    from cloud.scope.batch import encode_many

    sources: dict[str, set[str]] = defaultdict(set)
    per_source: dict[str, dict] = {}
    errors: list[tuple[str, str, str, str]] = []
    checksums: dict[str, str] = {}
    missing: dict[str, str] = {}
    cif_cache: dict[str, str | None] = {}
    for rel in (*STRUCTURE_JSON, *RECORDS_JSON, *CIF_CSV, *PROTOSTRUCTURES, *SCOPE_STRINGS):
        try:
            path = resolve(rel, data_dir=data_dir, download=False)
        except DataMissingError as exc:
            missing[rel] = str(exc).splitlines()[0]
            continue
        checksums[rel] = sha256sum(path)
        if rel in PROTOSTRUCTURES:
            rows, errs = _label_strings(path)
        elif rel in SCOPE_STRINGS:
            rows, errs = _reference_strings(path), []
        else:
            items = _structure_items(path, rel)
            todo = [(i, s) for i, s in items if not isinstance(s, str) or s not in cif_cache]
            result = encode_many(todo, workers=workers, progress=progress)
            done = dict(result.rows)
            for ident, s in todo:
                if isinstance(s, str):
                    cif_cache[s] = done.get(ident)
            rows = [(i, done[i] if i in done else cif_cache.get(s) if isinstance(s, str) else None)
                    for i, s in items]
            rows = [(i, scope) for i, scope in rows if scope is not None]
            errs = result.errors
        for _, scope in rows:
            sources[scope].add(rel)
        errors += [(rel, *e) for e in errs]
        per_source[rel] = {"rows": len(rows) + len(errs), "encoded": len(rows),
                           "failed": len(errs), "unique": len({s for _, s in rows})}
    return {"sources": sources, "per_source": per_source, "errors": errors,
            "checksums": checksums, "missing": missing}


def overlap_report(sources: dict[str, set[str]]) -> dict:
    bench_paths = set(BENCHMARKS.values())
    report = {}
    for name, rel in BENCHMARKS.items():
        strings = [s for s, src in sources.items() if rel in src]
        also = [s for s in strings if sources[s] - bench_paths]
        report[name] = {"strings": len(strings), "also_in_non_benchmark_sources": len(also)}
    return report


def exclude_test_inputs(built: dict) -> dict:
    """Drop every string that any benchmark has as a test input; counts what was dropped."""
    test_sources = set(TEST_INPUT_SOURCES)
    kept = {s: src for s, src in built["sources"].items() if not src & test_sources}
    dropped = len(built["sources"]) - len(kept)
    return {**built, "sources": kept,
            "excluded": {"test_input_sources": sorted(test_sources), "strings_dropped": dropped}}


def write_corpus(out_dir: str | Path, built: dict, elapsed: float, data_dir) -> Path:
    from cloud.manifest import write_manifest

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corpus = out / "corpus.csv.gz"
    with gzip.open(corpus, "wt", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("scope", "sources"))
        for scope in sorted(built["sources"]):
            writer.writerow((scope, ";".join(sorted(built["sources"][scope]))))
    with open(out / "errors.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("source", "id", "kind", "message"))
        writer.writerows(built["errors"])
    summary = {"unique_strings": len(built["sources"]), "per_source": built["per_source"],
               "missing_sources": built["missing"], "overlap": overlap_report(built["sources"])}
    if "excluded" in built:
        summary["excluded"] = built["excluded"]
    (out / "overlap.json").write_text(json.dumps(summary, indent=1))
    write_manifest(out / "manifest.json",
                   config={"data_dir": str(data_dir), "exclude_test_inputs": "excluded" in built},
                   data=built["checksums"], timings={"build_s": elapsed}, summary=summary)
    return corpus


def read_corpus(path: str | Path) -> list[str]:
    with open_text(path) as fh:
        return [row["scope"] for row in csv.DictReader(fh)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m cloud.train.corpus",
        description="Build the offline pretraining corpus (unique SCOPE strings and their "
                    "sources).",
        epilog="Example:\n  python -m cloud.train.corpus --data-dir ../shared/data "
               "--out runs/corpus",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--exclude-test-inputs", action="store_true",
                   help="drop every string that is a test input of a benchmark (the "
                        "leakage-free corpus)")
    args = p.parse_args(argv)
    quiet_third_party()
    start = time.perf_counter()
    built = build_corpus(args.data_dir, args.workers)
    if args.exclude_test_inputs:
        built = exclude_test_inputs(built)
    path = write_corpus(args.out, built, time.perf_counter() - start, args.data_dir)
    print(f"{len(built['sources'])} unique SCOPE strings -> {path} "
          f"({len(built['errors'])} rows failed, {len(built['missing'])} sources missing)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
