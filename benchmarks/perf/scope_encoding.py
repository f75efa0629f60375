"""SCOPE encoding speed: the project's CLI vs the paper's pymatgen-per-structure loop.

Encodes every structure of the matbench-format files in the data directory (jdft2d,
phonons, the perovskite subset, the phonon Cv/U subset: ~10k structures) with both,
as whole processes (start-up and file reading included), checks that the strings are
the same, and prints both rates and the ratio.

``python benchmarks/perf/scope_encoding.py [--data-dir DIR] [--workers N]``
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = (
    "matbench/matbench_jdft2d.json.gz",
    "matbench/matbench_phonons.json.gz",
    "matbench/partial/matbench_perovskites.subset.json.gz",
    "phonon/structures.subset.json.gz",
)
REPO = Path(__file__).resolve().parents[2]


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    return time.perf_counter() - start


def _read(path: Path) -> list[tuple[str, str]]:
    with open(path, newline="") as fh:
        return [(r["id"], r["scope"]) for r in csv.DictReader(fh)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(
        os.environ.get("CLOUD_DATA_DIR", REPO.parent / "shared" / "data")))
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    inputs = [str(args.data_dir / f) for f in FILES]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ours: dict[tuple[int, str], str] = {}
        t_ours = 0.0
        for i, path in enumerate(inputs):
            out = tmp / f"ours{i}.csv"
            t_ours += _timed([sys.executable, "-m", "cloud.scope", path, "--out", str(out),
                              "--workers", str(args.workers), "--no-progress"])
            ours.update(((i, ident), scope) for ident, scope in _read(out))
        base_out = tmp / "pymatgen.csv"
        t_base = _timed([sys.executable, str(REPO / "benchmarks/perf/pymatgen_scope_loop.py"),
                         str(base_out), *inputs])
        base = {(int(k.split(":", 1)[0]), k.split(":", 1)[1]): v for k, v in _read(base_out)}
    n = len(base)
    same = sum(ours.get(key) == scope for key, scope in base.items())
    print(f"structures: {n} from {len(inputs)} files; identical strings: {same}/{n}")
    print(f"pymatgen loop (1 process):  {t_base:7.1f} s  {n / t_base:8.0f} structures/s")
    print(f"cloud.scope CLI ({args.workers} workers): {t_ours:7.1f} s  {n / t_ours:8.0f} structures/s")
    print(f"speed-up: {t_base / t_ours:.2f}x")


if __name__ == "__main__":
    main()
