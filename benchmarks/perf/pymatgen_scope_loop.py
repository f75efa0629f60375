"""The paper's encoding path, for comparison: pymatgen ``Structure`` + ``SpacegroupAnalyzer``
per structure, in one process (as ``structure_to_str.py`` of the CLOUD code does it).

``python benchmarks/perf/pymatgen_scope_loop.py OUT.csv INPUT.json.gz [...]``; ids in OUT are
``<input index>:<id>``.
"""

from __future__ import annotations

import argparse
import csv

import numpy as np
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from cloud.scope.degraef import generator_string
from cloud.scope.inputs import read_inputs
from cloud.scope.wyckoff import wyckoff_symbol


def paper_scope(structure: Structure) -> str:
    analyzer = SpacegroupAnalyzer(structure)
    number = analyzer.get_space_group_number()
    symbols = dict.fromkeys(
        wyckoff_symbol(number, letter) for letter in analyzer.get_symmetry_dataset().wyckoffs
    )
    fractions = structure.composition.fractional_composition.get_el_amt_dict()
    comp = " ".join(f"{el} {np.round(x, 2)}" for el, x in fractions.items())
    return f"{' '.join(generator_string(number))} | {' '.join(symbols)} | {comp}"


def main(out: str, inputs: list[str]) -> None:
    with open(out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("id", "scope"))
        for i, path in enumerate(inputs):
            for ident, d in read_inputs(path):
                try:
                    scope = paper_scope(Structure.from_dict(d))
                except Exception as exc:  # noqa: BLE001 - mirror the paper: skip failures
                    scope = f"ERROR {type(exc).__name__}"
                writer.writerow((f"{i}:{ident}", scope))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="The paper's encoding path (pymatgen per structure, one process), for "
                    "speed comparisons.",
        epilog="Example:\n  python benchmarks/perf/pymatgen_scope_loop.py /tmp/pymatgen.csv "
               "../shared/data/matbench/matbench_jdft2d.json.gz",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="output CSV (id, scope); ids are <input index>:<id>")
    p.add_argument("inputs", nargs="*", help="matbench-format JSON(.gz) or other SCOPE inputs")
    return p.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    main(args.out, args.inputs)
