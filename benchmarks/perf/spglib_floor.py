"""The floor under any encoder that must give spglib's strings: spglib's own search alone.

Reads the inputs and builds every cell first (not timed), then times only
``spglib.get_symmetry_dataset`` at pymatgen's default tolerances, one process. An encoder that
makes that same call for every structure cannot beat ``this time / workers``, whatever else
it saves; ``benchmarks/perf/scope_encoding.py`` prints the bound it implies.

``python benchmarks/perf/spglib_floor.py INPUT.json.gz [...]`` prints JSON
``{"n": structures, "seconds": time in the spglib calls}``.
"""

from __future__ import annotations

import argparse
import json
import time

from cloud.scope.cell import to_cell
from cloud.scope.inputs import read_inputs
from cloud.scope.symmetry import DEFAULT_OPTIONS, use_spglib_exceptions


def main(inputs: list[str]) -> None:
    import spglib

    use_spglib_exceptions(spglib)
    cells = []
    for path in inputs:
        for _, d in read_inputs(path):
            try:
                cell = to_cell(d)
            except Exception:  # noqa: BLE001 - a row the encoder reports as an error
                continue
            cells.append((cell.lattice, cell.frac_coords, cell.type_numbers()))
    seconds = 0.0
    for spg_cell in cells:
        start = time.perf_counter()
        try:
            spglib.get_symmetry_dataset(spg_cell, symprec=DEFAULT_OPTIONS.symprec,
                                        angle_tolerance=DEFAULT_OPTIONS.angle_tolerance)
        except Exception:  # noqa: BLE001, S112 - the time spent failing counts too
            pass
        seconds += time.perf_counter() - start
    print(json.dumps({"n": len(cells), "seconds": seconds}))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python benchmarks/perf/spglib_floor.py "
               "../shared/data/matbench/matbench_jdft2d.json.gz",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="*", help="matbench-format JSON(.gz) or other SCOPE inputs")
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args().inputs)
