"""Paper-mode SCOPE against the paper's own strings, on real structures."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from cloud.scope.encoder import ScopeEncoder, encode
from cloud.scope.format import Scope
from cloud.scope.inputs import read_inputs
from tests.conftest import shared_file

# Measured with spglib 2.8 on the 1289 structures: generator part 97.3%, all parts as
# multisets 92.9% of all rows, 93.1% of the 1287 rows whose paper string is a correct
# description of a space group (see docs/scope.md for the residual). The floors:
GENERATOR_FLOOR = 0.97
MULTISET_FLOOR = 0.93
# The paper's table is wrong for two groups (tests/test_generators.py proves that its strings
# for 39 and 131 generate other space groups); rows carrying those strings cannot agree.
PAPER_TABLE_ERRORS = {"03aODDbOOOcODO0", "13bDDOgDOOcODD0"}


@pytest.fixture(scope="module")
def phonon_pairs():
    structures = dict(read_inputs(shared_file("phonon/structures.subset.json.gz")))
    with open(shared_file("scope_reference/phonon.csv"), newline="") as fh:
        reference = {row["mp_id"]: row["scope"] for row in csv.DictReader(fh)}
    ids = sorted(set(structures) & set(reference))
    assert len(ids) == 1289
    return [(i, structures[i], reference[i]) for i in ids]


def _agreement(pairs, symprec=0.01):
    encoder = ScopeEncoder("paper", symprec=symprec)
    gen = multiset = exact = 0
    for _, structure, ref in pairs:
        ours, theirs = encoder.encode_scope(structure), Scope.parse(ref)
        gen += ours.generator == theirs.generator
        same = (
            ours.generator == theirs.generator
            and Counter(ours.wyckoff) == Counter(theirs.wyckoff)
            and Counter(ours.composition) == Counter(theirs.composition)
        )
        multiset += same
        exact += str(ours) == ref
    n = len(pairs)
    return gen / n, multiset / n, exact / n


def test_paper_mode_fidelity_on_phonon_structures(phonon_pairs):
    gen, multiset, exact = _agreement(phonon_pairs)
    valid = [p for p in phonon_pairs if Scope.parse(p[2]).generator not in PAPER_TABLE_ERRORS]
    _, multiset_valid, _ = _agreement(valid)
    print(f"generator {gen:.4f}, multiset {multiset:.4f} ({multiset_valid:.4f} of the "
          f"{len(valid)} rows with a correct paper string), exact string {exact:.4f}")
    assert len(phonon_pairs) - len(valid) == 2
    assert gen >= GENERATOR_FLOOR
    assert multiset_valid >= MULTISET_FLOOR
    assert multiset >= 0.929


def test_residual_is_tolerance(phonon_pairs):
    """The stored structures carry 6-decimal coordinates: with a looser tolerance spglib
    recovers the paper's space group for all but a handful of them (docs/scope.md)."""
    gen, multiset, _ = _agreement(phonon_pairs, symprec=0.1)
    assert gen >= 0.995
    assert multiset >= 0.95


def test_paper_string_layout_rock_salt(phonon_pairs):
    """mp-1000 (BaTe, rock salt, 2-atom primitive cell): multiplicities are the conventional
    cell's (4a, not 1a). This file lists Te first, the paper's input listed Ba first, so the
    paper-mode string differs from the reference in order only."""
    _, structure, reference = next(p for p in phonon_pairs if p[0] == "mp-1000")
    assert reference == (
        "1 6 a O D D a D O D b O O O c O O O d O O O e O O O 0 | 4a 4b | Ba 0.5 Te 0.5"
    )
    assert encode(structure) == (
        "1 6 a O D D a D O D b O O O c O O O d O O O e O O O 0 | 4b 4a | Te 0.5 Ba 0.5"
    )


def test_paper_order_follows_sites(phonon_pairs):
    # Reversing the sites reverses first-appearance order in paper mode
    _, structure, reference = next(p for p in phonon_pairs if p[0] == "mp-1000")
    reversed_structure = dict(structure, sites=structure["sites"][::-1])
    assert encode(reversed_structure) == reference


def test_cli_matbench_json(tmp_path):
    from cloud.scope.cli import main

    src = shared_file("matbench/matbench_jdft2d.json.gz")
    out = tmp_path / "jdft2d.csv"
    assert main([str(src), "--out", str(out), "--no-progress", "--workers", "2"]) == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(tmp_path / "jdft2d.errors.csv", newline="") as fh:
        errors = list(csv.DictReader(fh))
    assert len(rows) + len(errors) == 636
    assert len(rows) >= 630
    assert all(len(Scope.parse(r["scope"]).generator) >= 3 for r in rows)


def test_cli_several_inputs_one_pool_and_moyopy_backend(tmp_path):
    """Several inputs in one process write one CSV pair each, identical to single-input runs;
    the moyopy backend agrees with spglib on these real structures."""
    from cloud.scope.cli import main

    srcs = [shared_file("matbench/matbench_jdft2d.json.gz"),
            shared_file("matbench/matbench_phonons.json.gz")]
    out = tmp_path / "both"
    assert main([*map(str, srcs), "--out", str(out), "--no-progress", "--workers", "2"]) == 0
    single = tmp_path / "single.csv"
    assert main([str(srcs[0]), "--out", str(single), "--no-progress", "--workers", "1"]) == 0

    def read(path):
        with open(path, newline="") as fh:
            return [(r["id"], r["scope"]) for r in csv.DictReader(fh)]

    jdft = read(out / "matbench_jdft2d.csv")
    assert jdft == read(single)
    phonons = read(out / "matbench_phonons.csv")
    n_err = len(read_errors(out / "matbench_phonons.errors.csv"))
    assert len(phonons) + n_err == 1265 and all(i.startswith("mb-phonons-") for i, _ in phonons)

    moyo = tmp_path / "moyo.csv"
    assert main([str(srcs[0]), "--out", str(moyo), "--no-progress", "--workers", "1",
                 "--symmetry", "moyopy"]) == 0
    same = sum(a == b for a, b in zip(read(moyo), jdft, strict=True))
    # measured: 481/636 (75.6 %) here, 90.8 % over all 10,179 structures (reports/perf.md)
    assert same >= 0.70 * len(jdft)


def read_errors(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_spglib_floor_times_every_cell_of_a_real_file(shared_data):
    """The speed bound's measuring script (benchmarks/perf/spglib_floor.py) times one spglib
    call per structure of a real file: n is the file's structure count."""
    import json
    import os
    import subprocess
    import sys

    path = shared_data / "matbench" / "matbench_jdft2d.json.gz"
    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(repo / "benchmarks/perf/spglib_floor.py"),
                           str(path)], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(repo)})
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["n"] == len(read_inputs(path)) == 636
    assert 0 < out["seconds"] < 600
