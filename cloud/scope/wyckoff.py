"""Wyckoff multiplicities of the 230 space groups, computed from their symmetry operations.

The table maps space group number -> Wyckoff letter -> multiplicity in the conventional
cell (centring translations included, hexagonal axes for the R groups), for the letters
spglib reports in ``get_symmetry_dataset(...).wyckoffs``. spglib's alphabet is ``a``..``z``
followed by ``A`` (the 27th position of Pmmm, written alpha in the International Tables).

How the table is computed (``compute_table``), per space group:

1. take the operations of spglib's default Hall setting from its database (conventional
   cell, centring included);
2. on a rational grid (denominator 24, then 48 if needed) find every point's orbit and
   site-symmetry order; multiplicity = ``|G| / |site symmetry|``;
3. name each special orbit with spglib: one structure with the special orbits (species A)
   and one general-position orbit of a generic point (species B) on a generic lattice of
   the crystal system, so the detected group is exactly the intended one;
4. stop when every letter from ``a`` up to the general position's letter is named.

The result is package data (``wyckoff_table.json``) loaded at run time; regenerate it with
``python -m cloud.scope.wyckoff --write``.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np

LETTERS = "abcdefghijklmnopqrstuvwxyzA"
TABLE_PATH = Path(__file__).with_name("wyckoff_table.json")
# two generic points: one general orbit alone can have extra symmetry (a P1 lattice is P-1)
_GENERIC_POINTS = ((0.1137, 0.2291, 0.3413), (0.3719, 0.0853, 0.1872))
_MAX_ATOMS = 200  # atoms per spglib call when naming special orbits


# --------------------------------------------------------------------------- public API


def wyckoff_table() -> dict[int, dict[str, int]]:
    """Space group number -> {letter: multiplicity}, letters in ITA order (a, b, ...)."""
    return {n: dict(row) for n, row in _table().items()}  # a copy: the cache stays intact


@cache
def _table() -> dict[int, dict[str, int]]:
    if TABLE_PATH.exists():
        raw = json.loads(TABLE_PATH.read_text())
        return {int(n): {k: int(v) for k, v in row.items()} for n, row in raw.items()}
    return compute_table()  # pragma: no cover - only before the build step has run


def _group(number: int) -> dict[str, int]:
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
        raise ValueError(f"space group number must be an int, got {number!r}")
    row = _table().get(int(number))
    if row is None:
        raise ValueError(f"space group number must be 1..230, got {number}")
    return row


def wyckoff_letters(number: int) -> list[str]:
    """Wyckoff letters of a space group in ITA order (``a`` first, general position last)."""
    return list(_group(number))


def multiplicity(number: int, letter: str) -> int:
    """Multiplicity of Wyckoff position ``letter`` of space group ``number`` (conventional cell)."""
    row = _group(number)
    if letter not in row:
        raise ValueError(
            f"space group {number} has no Wyckoff letter {letter!r} (letters: {''.join(row)})"
        )
    return row[letter]


def wyckoff_symbol(number: int, letter: str) -> str:
    """Wyckoff symbol ``<multiplicity><letter>``, e.g. ``wyckoff_symbol(225, "a") == "4a"``."""
    return f"{multiplicity(number, letter)}{letter}"


def letter_index(letter: str) -> int:
    """Position of a letter in spglib's alphabet (``a`` = 0, ``A`` = 26)."""
    idx = LETTERS.find(letter) if len(letter) == 1 else -1
    if idx < 0:
        raise ValueError(f"not a Wyckoff letter: {letter!r}")
    return idx


@cache
def _all_symbols() -> tuple[str, ...]:
    pairs = {(m, letter) for row in _table().values() for letter, m in row.items()}
    return tuple(
        f"{m}{letter}" for m, letter in sorted(pairs, key=lambda p: (p[0], letter_index(p[1])))
    )


def all_wyckoff_symbols() -> list[str]:
    """Every Wyckoff symbol of any group, sorted by multiplicity then letter (a..z, A)."""
    return list(_all_symbols())


# ------------------------------------------------------------------------ computation


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence spglib 2.x's DeprecationWarning about its old error handling."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@cache
def default_hall_numbers() -> dict[int, int]:
    """Space group number -> spglib's default (first) Hall number."""
    import spglib

    first: dict[int, int] = {}
    for hall in range(1, 531):
        with _quiet():
            first.setdefault(spglib.get_spacegroup_type(hall).number, hall)
    return first


def _operations(number: int) -> tuple[np.ndarray, np.ndarray]:
    import spglib

    with _quiet():
        ops = spglib.get_symmetry_from_database(default_hall_numbers()[number])
    return np.asarray(ops["rotations"], dtype=np.int64), np.asarray(ops["translations"], float)


def _lattice(number: int) -> np.ndarray:
    """Generic lattice (rows a, b, c) of the crystal system, b unique for monoclinic."""
    if number <= 2:
        a, b, c, al, be, ga = 5.1, 6.3, 7.7, 81.0, 86.0, 97.0
    elif number <= 15:
        a, b, c, al, be, ga = 5.1, 6.3, 7.7, 90.0, 101.0, 90.0
    elif number <= 74:
        a, b, c, al, be, ga = 5.1, 6.3, 7.7, 90.0, 90.0, 90.0
    elif number <= 142:
        a, b, c, al, be, ga = 5.1, 5.1, 7.7, 90.0, 90.0, 90.0
    elif number <= 194:
        a, b, c, al, be, ga = 5.1, 5.1, 7.7, 90.0, 90.0, 120.0
    else:
        a, b, c, al, be, ga = 5.1, 5.1, 5.1, 90.0, 90.0, 90.0
    al, be, ga = np.radians([al, be, ga])
    cx = c * np.cos(be)
    cy = c * (np.cos(al) - np.cos(be) * np.cos(ga)) / np.sin(ga)
    cz = np.sqrt(c * c - cx * cx - cy * cy)
    return np.array([[a, 0, 0], [b * np.cos(ga), b * np.sin(ga), 0], [cx, cy, cz]])


def _grid_orbits(rots: np.ndarray, trans: np.ndarray, denom: int):
    """Grid points (numerators), the index of each point's image under each operation
    (ops x points) and each point's site-symmetry order (integer arithmetic mod ``denom``)."""
    t = np.rint(trans * denom).astype(np.int64)
    if not np.allclose(trans * denom, t):
        raise ValueError(f"translations are not multiples of 1/{denom}")
    ax = np.arange(denom)
    pts = np.stack(np.meshgrid(ax, ax, ax, indexing="ij"), axis=-1).reshape(-1, 3)
    img = (np.matmul(rots.astype(np.int32), pts.T.astype(np.int32)) + t[:, :, None]) % denom
    idx = (img[:, 0] * denom + img[:, 1]) * denom + img[:, 2]  # (ops, points)
    own = np.arange(len(pts))
    stab = (idx == own).sum(axis=0)
    return pts, idx, stab


def _orbit(rots: np.ndarray, trans: np.ndarray, point) -> np.ndarray:
    """Distinct images of one point mod 1 (floating point)."""
    img = (np.einsum("oij,j->oi", rots, np.asarray(point, float)) + trans) % 1.0
    img[np.isclose(img, 1.0, atol=1e-8)] = 0.0
    keys = np.round(img * 1e6).astype(np.int64)
    _, first = np.unique(keys, axis=0, return_index=True)
    return img[np.sort(first)]


def _name_orbits(number: int, orbits: list[np.ndarray], general: list[np.ndarray]) -> list[str]:
    """spglib's letter of each special orbit, then of the general orbits (species 2, 3, ...)."""
    import spglib

    positions = np.concatenate([*orbits, *general])
    types = np.concatenate(
        [np.ones(sum(map(len, orbits)), int)]
        + [np.full(len(g), 2 + i) for i, g in enumerate(general)]
    )
    with _quiet():
        data = spglib.get_symmetry_dataset((_lattice(number), positions, types), symprec=1e-4)
    if data is None or data.number != number:
        found = None if data is None else data.number
        raise RuntimeError(f"space group {number}: test structure detected as {found}")
    letters, start = [], 0
    for orb in [*orbits, *general]:
        got = set(data.wyckoffs[start : start + len(orb)])
        if len(got) != 1:
            raise RuntimeError(f"space group {number}: one orbit got letters {sorted(got)}")
        letters.append(got.pop())
        start += len(orb)
    return letters


def compute_group(number: int) -> dict[str, int]:
    """Letter -> multiplicity for one space group, computed from its operations."""
    rots, trans = _operations(number)
    order = len(rots)
    general = [_orbit(rots, trans, p) for p in _GENERIC_POINTS]
    if any(len(g) != order for g in general):
        raise RuntimeError(f"space group {number}: generic point is not general")
    general_letter = _name_orbits(number, [], general)[-1]
    needed = set(LETTERS[: letter_index(general_letter)])
    table = {general_letter: order}
    for denom in (24, 48):
        if needed <= set(table):
            break
        pts, images, stab = _grid_orbits(rots, trans, denom)
        reps = np.unique(images.min(axis=0)[stab > 1])  # one point (the first) per orbit
        reps = reps[np.argsort(-stab[reps], kind="stable")]  # most special first
        batch: list[np.ndarray] = []
        batch_stab: list[int] = []
        for k, rep in enumerate(reps):
            batch.append(pts[np.unique(images[:, rep])] / denom)
            batch_stab.append(int(stab[rep]))
            if sum(map(len, batch)) < _MAX_ATOMS and k + 1 < len(reps):
                continue
            named = _name_orbits(number, batch, general)[: len(batch)]
            for letter, s in zip(named, batch_stab, strict=True):
                mult = order // s
                if table.setdefault(letter, mult) != mult:
                    raise RuntimeError(f"space group {number}: {letter} has two multiplicities")
            batch, batch_stab = [], []
            if needed <= set(table):
                break
    missing = needed - set(table)
    if missing:
        raise RuntimeError(f"space group {number}: no grid point found for {sorted(missing)}")
    return {letter: table[letter] for letter in sorted(table, key=letter_index)}


def compute_table() -> dict[int, dict[str, int]]:
    """The full table, recomputed from symmetry (a few seconds)."""
    return {n: compute_group(n) for n in range(1, 231)}


def write_table(path: Path = TABLE_PATH) -> None:
    """Write the recomputed table as JSON (package data)."""
    table = compute_table()
    lines = [f'  "{n}": {json.dumps(row)}' for n, row in table.items()]
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n")


def main(argv: list[str] | None = None) -> int:
    """``python -m cloud.scope.wyckoff --write`` regenerates ``wyckoff_table.json``."""
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m cloud.scope.wyckoff",
        description="Recompute the Wyckoff multiplicity table from symmetry (package data).",
        epilog="Example:\n  python -m cloud.scope.wyckoff --check   # exit 1 if the table is stale",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help=f"rewrite {TABLE_PATH.name}")
    action.add_argument("--check", action="store_true",
                        help="compare the committed table with a fresh computation")
    args = p.parse_args(argv)
    if args.write:
        write_table()
        print(f"wrote {TABLE_PATH}")
        return 0
    same = compute_table() == wyckoff_table()
    print("table up to date" if same else "table differs from symmetry; run --write")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
