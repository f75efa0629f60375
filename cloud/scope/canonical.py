"""``canonical`` SCOPE: a function of the crystal alone, not of how its file was written.

The paper's strings list Wyckoff symbols and elements in the order the sites appear in the
input file, and the Wyckoff letters depend on which of several equivalent descriptions the
symmetry finder happened to choose (e.g. rock salt with Na on 4a or on 4b in Fm-3m). The
canonical rule removes both choices:

1. Symmetry from moyopy (same tolerances as ``paper``; spglib's settings, so the Wyckoff
   letters and multiplicities are those of the same tables).
2. The Euclidean normalizer of the space group maps the standardized crystal onto every
   equivalent description (origin shifts, axis changes, and inversion for
   non-centrosymmetric groups); each gives a Wyckoff assignment of the atoms. Among these,
   the one whose set of occupied Wyckoff letters, sorted in ITA order (a, b, ..., z, A), is
   lexicographically smallest is taken.
3. Wyckoff symbols are written once each, in ITA letter order; elements in order of atomic
   number. Fractions are rounded as in ``paper`` mode.

Permuting the sites or shifting the origin of the input therefore gives the same string.
"""

from __future__ import annotations

from cloud.scope.cell import Cell, element_amounts
from cloud.scope.elements import atomic_number
from cloud.scope.format import Scope, composition_pairs
from cloud.scope.symmetry import DEFAULT_OPTIONS, SymmetryOptions, moyo_dataset

LETTER_ORDER = "abcdefghijklmnopqrstuvwxyzA"


def letter_rank(letter: str) -> int:
    return LETTER_ORDER.index(letter)


def canonical_wyckoff(dataset) -> tuple[str, ...]:
    """Smallest sorted set of Wyckoff symbols over the normalizer's equivalent descriptions."""
    best: tuple | None = None
    for _, positions in dataset.normalizer_wyckoff_positions().coset_representatives:
        symbols = {(letter_rank(w.letter), f"{w.multiplicity}{w.letter}") for w in positions}
        key = tuple(sorted(symbols))
        if best is None or key < best:
            best = key
    return tuple(symbol for _, symbol in best)


def encode_canonical(cell: Cell, options: SymmetryOptions = DEFAULT_OPTIONS) -> Scope:
    from cloud.scope.degraef import generator_string

    dataset = moyo_dataset(cell, options)
    amounts = element_amounts(cell)
    ordered = {el: amounts[el] for el in sorted(amounts, key=atomic_number)}
    return Scope(generator_string(dataset.number), canonical_wyckoff(dataset), composition_pairs(ordered))
