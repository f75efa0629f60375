"""Canonical SCOPE is invariant to site order and origin choice, on real structures."""

from __future__ import annotations

import numpy as np
import pytest

from cloud.scope.cell import cell_from_dict
from cloud.scope.encoder import ScopeEncoder
from cloud.scope.inputs import read_inputs
from tests.conftest import shared_file

N_STRUCTURES = 250


@pytest.fixture(scope="module")
def real_cells():
    rows = read_inputs(shared_file("phonon/structures.subset.json.gz"))
    rows += read_inputs(shared_file("matbench/matbench_jdft2d.json.gz"))
    rng = np.random.default_rng(7)
    picked = rng.choice(len(rows), size=N_STRUCTURES, replace=False)
    return [(rows[i][0], cell_from_dict(rows[i][1])) for i in picked]


def test_canonical_invariant_to_site_permutation(real_cells):
    enc = ScopeEncoder("canonical")
    rng = np.random.default_rng(0)
    for ident, cell in real_cells:
        permuted = cell.permuted(rng.permutation(len(cell)))
        assert enc.encode(permuted) == enc.encode(cell), ident


@pytest.mark.parametrize("shift", [(0.5, 0.5, 0.5), (0.25, 0.25, 0.25), (0.5, 0.0, 0.0), "random"])
def test_canonical_invariant_to_origin_shift(real_cells, shift):
    enc = ScopeEncoder("canonical")
    rng = np.random.default_rng(1)
    for ident, cell in real_cells:
        vec = rng.random(3) if shift == "random" else np.array(shift)
        assert enc.encode(cell.shifted(vec)) == enc.encode(cell), ident


def test_paper_mode_is_not_invariant_but_canonical_is(real_cells):
    """The point of canonical mode: real structures whose paper string changes with the
    site order or origin, while the canonical one does not."""
    paper, canon = ScopeEncoder("paper"), ScopeEncoder("canonical")
    rng = np.random.default_rng(2)
    changed = 0
    for _, cell in real_cells:
        moved = cell.permuted(rng.permutation(len(cell))).shifted((0.5, 0.5, 0.5))
        changed += paper.encode(moved) != paper.encode(cell)
        assert canon.encode(moved) == canon.encode(cell)
    assert changed > 0


def test_rock_salt_origin_choice_merged():
    """Rock salt with Na on 4a or on 4b: paper strings differ in order only, canonical agree."""
    a = 5.64
    lattice = [[0, a / 2, a / 2], [a / 2, 0, a / 2], [a / 2, a / 2, 0]]

    def rock_salt(shift):
        sites = [
            {"species": [{"element": "Na", "occu": 1}], "abc": [shift] * 3},
            {"species": [{"element": "Cl", "occu": 1}], "abc": [0.5 + shift] * 3},
        ]
        return {"lattice": {"matrix": lattice}, "sites": sites}

    canon = ScopeEncoder("canonical")
    assert canon.encode(rock_salt(0.0)) == canon.encode(rock_salt(0.5))
    assert canon.encode(rock_salt(0.0)).endswith("| 4a 4b | Na 0.5 Cl 0.5")
