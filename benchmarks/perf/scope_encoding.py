"""SCOPE encoding speed: the project's CLI vs the paper's pymatgen-per-structure loop.

Encodes every structure of the matbench-format files in the data directory (jdft2d,
phonons, the perovskite subset, the phonon Cv/U subset: ~10k structures) with both,
as whole processes (start-up and file reading included): the CLI once with spglib (the
paper's symmetry search) and once with moyopy. Prints each rate, the ratios to the
pymatgen loop, and how many strings are identical to the pymatgen loop's; then the time of
the spglib calls alone (``spglib_floor.py``) and the most any encoder making them could gain
over the pymatgen loop with the given workers.

``python benchmarks/perf/scope_encoding.py [--data-dir DIR] [--workers N]``
"""

from __future__ import annotations

import argparse
import csv
import json
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


def _timed(cmd: list[str], capture: bool = False) -> float | tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, check=True, cwd=REPO, capture_output=capture, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    elapsed = time.perf_counter() - start
    return (elapsed, done.stdout) if capture else elapsed


def _read(path: Path) -> list[tuple[str, str]]:
    with open(path, newline="") as fh:
        return [(r["id"], r["scope"]) for r in csv.DictReader(fh)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python benchmarks/perf/scope_encoding.py --data-dir "
               "../shared/data --workers 2",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(
        os.environ.get("CLOUD_DATA_DIR", REPO.parent / "shared" / "data")))
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    inputs = [str(args.data_dir / f) for f in FILES]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base_out = tmp / "pymatgen.csv"
        t_base = _timed([sys.executable, str(REPO / "benchmarks/perf/pymatgen_scope_loop.py"),
                         str(base_out), *inputs])
        base = {(int(k.split(":", 1)[0]), k.split(":", 1)[1]): v for k, v in _read(base_out)}
        runs = {}
        for backend in ("spglib", "moyopy"):
            out = tmp / backend
            elapsed = _timed([sys.executable, "-m", "cloud.scope", *inputs, "--out", str(out),
                              "--workers", str(args.workers), "--symmetry", backend,
                              "--no-progress"])
            ours = {(i, ident): scope for i, f in enumerate(FILES)
                    for ident, scope in _read(out / f"{Path(f).name.split('.')[0]}.csv")}
            runs[backend] = (elapsed, sum(ours.get(k) == v for k, v in base.items()))
    _, floor = _timed([sys.executable, str(REPO / "benchmarks/perf/spglib_floor.py"), *inputs],
                      capture=True)
    floor = json.loads(floor)
    n = len(base)
    print(f"structures: {n} from {len(inputs)} files (one CLI process for all of them)")
    print(f"pymatgen loop (1 process):  {t_base:7.1f} s  {n / t_base:8.0f} structures/s")
    for backend, (elapsed, same) in runs.items():
        print(f"cloud.scope CLI, {backend:6s} ({args.workers} workers): {elapsed:7.1f} s  "
              f"{n / elapsed:8.0f} structures/s  speed-up {t_base / elapsed:5.2f}x  "
              f"identical strings {same}/{n} ({100 * same / n:.2f} %)")
    spg = floor["seconds"]
    print(f"spglib.get_symmetry_dataset alone ({floor['n']} cells, 1 process): {spg:7.1f} s "
          f"= {100 * spg / t_base:.0f} % of the pymatgen loop; any encoder making that call "
          f"per structure on {args.workers} workers: at most {t_base * args.workers / spg:5.2f}x")
    print(f"load average during the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
