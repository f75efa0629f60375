"""Wyckoff multiplicity table: oracle agreement, group orders, committed JSON, API."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import spglib

from cloud.scope import wyckoff as w

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:spglib")

ORACLE = Path("/work/shared/data/scope_reference/wyckoff_multiplicities.json")


@pytest.fixture(scope="module")
def oracle() -> dict[int, dict[str, int]]:
    if not ORACLE.exists():
        pytest.skip(f"oracle not available: {ORACLE}")
    raw = json.loads(ORACLE.read_text())
    return {int(n): {k: int(v) for k, v in row.items()} for n, row in raw.items() if n != "0"}


def test_table_matches_oracle(oracle):
    table = w.wyckoff_table()
    assert set(table) == set(range(1, 231)) == set(oracle)
    mismatched = [n for n in range(1, 231) if table[n] != oracle[n]]
    assert mismatched == [], f"{230 - len(mismatched)}/230 match; differ: {mismatched}"


def test_general_position_is_group_order():
    for number, hall in w.default_hall_numbers().items():
        order = len(spglib.get_symmetry_from_database(hall)["rotations"])
        letters = w.wyckoff_letters(number)
        assert w.multiplicity(number, letters[-1]) == order, number
        assert max(w.wyckoff_table()[number].values()) == order, number
        # every multiplicity divides the group order
        assert all(order % m == 0 for m in w.wyckoff_table()[number].values()), number


def test_letters_are_contiguous_from_a():
    for number in range(1, 231):
        letters = w.wyckoff_letters(number)
        assert "".join(letters) == w.LETTERS[: len(letters)], number


def test_committed_json_equals_recomputation():
    """The package data must be what ``python -m cloud.scope.wyckoff --write`` produces."""
    assert w.compute_table() == w.wyckoff_table()


def test_api_examples():
    assert w.multiplicity(225, "a") == 4
    assert w.wyckoff_symbol(225, "e") == "24e"
    assert w.wyckoff_symbol(166, "a") == "3a"  # hexagonal axes for R groups
    assert w.wyckoff_symbol(47, "A") == "8A"  # Pmmm's 27th position, alpha in ITA
    assert w.wyckoff_letters(221)[:3] == ["a", "b", "c"]
    assert len(w.wyckoff_letters(47)) == 27
    assert w.wyckoff_letters(1) == ["a"]


def test_all_wyckoff_symbols():
    symbols = w.all_wyckoff_symbols()
    assert len(symbols) == len(set(symbols))
    assert {"1a", "4a", "24e", "8A", "192l"} <= set(symbols)
    expected = {f"{m}{k}" for row in w.wyckoff_table().values() for k, m in row.items()}
    assert set(symbols) == expected
    keys = [(int(s[:-1]), w.letter_index(s[-1])) for s in symbols]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    "call",
    [
        lambda: w.multiplicity(0, "a"),
        lambda: w.multiplicity(231, "a"),
        lambda: w.multiplicity(225, "m"),
        lambda: w.multiplicity(225, "ab"),
        lambda: w.wyckoff_letters("225"),
        lambda: w.letter_index("B"),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()


def test_agrees_with_spglib_on_a_structure():
    """Rutile (P4_2/mnm): Ti on 2a, O on 4f."""
    lattice = np.diag([4.59, 4.59, 2.96])
    u = 0.305
    positions = [
        [0, 0, 0],
        [0.5, 0.5, 0.5],
        [u, u, 0],
        [-u, -u, 0],
        [0.5 + u, 0.5 - u, 0.5],
        [0.5 - u, 0.5 + u, 0.5],
    ]
    data = spglib.get_symmetry_dataset((lattice, positions, [22, 22, 8, 8, 8, 8]))
    assert data.number == 136
    symbols = [w.wyckoff_symbol(136, letter) for letter in data.wyckoffs]
    assert symbols == ["2a", "2a", "4f", "4f", "4f", "4f"]
