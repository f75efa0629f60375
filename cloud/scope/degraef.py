"""Space-group generator strings in Marc De Graef's encoding (first part of a SCOPE string).

Layout of a string, e.g. ``"16aODDaDODbOOOcOOOdOOOeOOO0"`` (Fm-3m):

* char 1: ``'1'`` if the inversion ``-x,-y,-z`` (at the origin used) is in the group, else
  ``'0'``; that inversion is then implied and not listed;
* char 2: the number of generators that follow;
* 4 chars per generator: a rotation letter (``ROTATIONS``, ``'a'`` .. ``'n'``) and one
  translation letter per axis (``TRANSLATIONS``); centring translations come first as
  generators with rotation ``'a'`` (A: 0½½, C: ½½0, I: ½½½, F: 0½½ + ½0½, R: ⅔⅓⅓);
* last: ``'0'``, or ``'1'`` and three letters for groups with two ITA origin choices.

Setting: ITA standard (monoclinic unique axis b, cell choice 1; hexagonal axes for R;
origin choice 1 when there are two; inversion then listed as generator ``'h'``). The origin
letters are the position of origin choice 1 in the origin-choice-2 frame
(``t2 = t1 - R s + s``), e.g. Fd-3m ``ZZZ`` = (-1/8, -1/8, -1/8).

Generators follow ITA's order: centring, then the first of ``ORDER[family]`` that is in the
point group and not yet generated (inversion counted as present in centrosymmetric groups);
e.g. cubic 2z, 2y, 3[111], 2[110] or m[1-10]. Which of the operations with a given rotation
(they differ by centring vectors) is written is decided by
:func:`cloud.scope.degraef_ops.choose_translations`. Translations are reduced to [0, 1).

Everything is derived from spglib's space-group database; no string table is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np

from cloud.scope import degraef_ops as ops
from cloud.scope.degraef_ops import IDENTITY, INVERSION, D, Rot, Vec

_ROT_ROWS = {
    "a": (1, 0, 0, 0, 1, 0, 0, 0, 1),  # identity
    "b": (-1, 0, 0, 0, -1, 0, 0, 0, 1),  # 2 along z
    "c": (-1, 0, 0, 0, 1, 0, 0, 0, -1),  # 2 along y
    "d": (0, 0, 1, 1, 0, 0, 0, 1, 0),  # 3+ along [111]: z,x,y
    "e": (0, 1, 0, 1, 0, 0, 0, 0, -1),  # 2 along [110]: y,x,-z
    "f": (0, -1, 0, -1, 0, 0, 0, 0, -1),  # 2 along [1-10]: -y,-x,-z
    "g": (0, -1, 0, 1, 0, 0, 0, 0, 1),  # 4+ along z: -y,x,z
    "h": (-1, 0, 0, 0, -1, 0, 0, 0, -1),  # inversion
    "i": (1, 0, 0, 0, 1, 0, 0, 0, -1),  # mirror normal to z
    "j": (1, 0, 0, 0, -1, 0, 0, 0, 1),  # mirror normal to y
    "k": (0, -1, 0, -1, 0, 0, 0, 0, 1),  # mirror normal to [110]: -y,-x,z
    "l": (0, 1, 0, 1, 0, 0, 0, 0, 1),  # mirror normal to [1-10]: y,x,z
    "m": (0, 1, 0, -1, 0, 0, 0, 0, -1),  # -4+ along z: y,-x,-z
    "n": (0, -1, 0, 1, -1, 0, 0, 0, 1),  # 3+ along z (hexagonal axes): -y,x-y,z
}
ROTATIONS: dict[str, np.ndarray] = {k: np.array(v).reshape(3, 3) for k, v in _ROT_ROWS.items()}
TRANSLATIONS: dict[str, Fraction] = {
    "O": Fraction(0), "A": Fraction(1, 6), "B": Fraction(1, 4), "C": Fraction(1, 3),
    "D": Fraction(1, 2), "E": Fraction(2, 3), "F": Fraction(3, 4), "G": Fraction(5, 6),
    "X": Fraction(-3, 8), "Y": Fraction(-1, 4), "Z": Fraction(-1, 8),
}
_GEN_LETTERS = {int(v * D): k for k, v in TRANSLATIONS.items() if v >= 0}  # [0, 1)
_SHIFT_LETTERS = {int(v * D): k for k, v in TRANSLATIONS.items() if abs(v) < Fraction(1, 2)}
_SHIFT_LETTERS[12] = "D"  # shifts lie in (-1/2, 1/2]
# generator rotation letters in ITA order, per crystal family
ORDER = {"monoclinic": "cj", "orthorhombic": "bcj", "tetragonal": "bgmcj",
         "hexagonal": "nbiekfl", "cubic": "bcdel"}
# ITA centring vectors (units 1/24), in the order they are written
CENTRING = {"P": (), "A": ((0, 12, 12),), "B": ((12, 0, 12),), "C": ((12, 12, 0),),
            "I": ((12, 12, 12),), "F": ((0, 12, 12), (12, 0, 12)), "R": ((16, 8, 8),)}

Operation = tuple[np.ndarray, tuple[Fraction, Fraction, Fraction]]


@dataclass(frozen=True)
class GeneratorString:
    """Parsed generator string: ``str()`` gives the string back (``encode``)."""

    centrosymmetric: bool
    generators: tuple[str, ...]  # 4-char codes, e.g. ("aODD", "bOOO")
    origin_shift: str | None  # 3 letters, or None for the "0" flag

    def __str__(self) -> str:
        shift = "0" if self.origin_shift is None else "1" + self.origin_shift
        return f"{int(self.centrosymmetric)}{len(self.generators)}{''.join(self.generators)}{shift}"


def parse(s: str) -> GeneratorString:
    """Split a generator string into its fields (validates letters and length)."""
    if len(s) < 3 or s[0] not in "01" or not s[1].isdigit():
        raise ValueError(f"not a generator string: {s!r}")
    n = int(s[1])
    gens = tuple(s[2 + 4 * i: 6 + 4 * i] for i in range(n))
    tail = s[2 + 4 * n:]
    gens_ok = all(len(g) == 4 and g[0] in ROTATIONS and all(c in TRANSLATIONS for c in g[1:])
                  for g in gens)
    tail_ok = tail == "0" or (len(tail) == 4 and tail[0] == "1"
                              and all(c in TRANSLATIONS for c in tail[1:]))
    if not (gens_ok and tail_ok):
        raise ValueError(f"not a generator string: {s!r}")
    return GeneratorString(s[0] == "1", gens, None if tail == "0" else tail[1:])


def encode(parsed: GeneratorString) -> str:
    """Inverse of :func:`parse`."""
    return str(parsed)


def decode(s: str) -> list[Operation]:
    """All generators ``(R, t)`` a string implies: listed ones plus the implied inversion.

    ``R`` is an integer 3x3 matrix (fractional coordinates), ``t`` exact fractions as
    written (not reduced). The origin-shift flag does not add generators.
    """
    p = parse(s)
    out = [(ROTATIONS[g[0]].copy(), tuple(TRANSLATIONS[c] for c in g[1:])) for g in p.generators]
    if p.centrosymmetric:
        out.append((ROTATIONS["h"].copy(), (Fraction(0),) * 3))
    return out


def _as_op(r, t) -> tuple[Rot, Vec]:
    rot = tuple(int(x) for x in np.asarray(r).flatten())
    vec = tuple(Fraction(x) * D for x in t)
    if any(v.denominator != 1 for v in vec):
        raise ValueError(f"translation {t} is not a multiple of 1/24")
    return rot, ops.vmod(tuple(int(v) for v in vec))


def closure(generators: list[Operation]) -> frozenset[tuple[Rot, Vec]]:
    """Full set of operations generated, modulo lattice translations Z^3.

    Operations are returned as ``(R as 9-tuple, t as ints in units of 1/24, in [0, 24))``;
    centring translations appear as separate elements (conventional cell).
    """
    gens = [_as_op(r, t) for r, t in generators]
    elems = {(IDENTITY, (0, 0, 0))}
    frontier = list(elems)
    while frontier:
        new = []
        for e in frontier:
            for g in gens:
                x = ops.compose(g, e)
                if x not in elems:
                    elems.add(x)
                    new.append(x)
        frontier = new
    return frozenset(elems)


def group_from_generators(s: str) -> frozenset[tuple[Rot, Vec]]:
    """Operations (mod Z^3) of the group a generator string describes."""
    return closure(decode(s))


def setting_hall_number(number: int) -> int:
    """spglib Hall number of the setting the strings use (first = ITA standard/origin 1)."""
    if not 1 <= number <= 230:
        raise ValueError(f"space-group number out of range: {number}")
    return ops.hall_numbers()[number][0]


def database_operations(hall: int) -> frozenset[tuple[Rot, Vec]]:
    """spglib's operations of a Hall setting, in the same form as :func:`closure`."""
    return frozenset((r, t) for r, ts in ops.cosets(hall).items() for t in ts)


def _letters(t: Vec, table: dict[int, str]) -> str:
    try:
        return "".join(table[x] for x in t)
    except KeyError:
        raise ValueError(f"translation {t}/24 has no De Graef letter") from None


def _origin_shift(number: int) -> str | None:
    """Origin choice 1 in the origin-2 frame (None: the group has one origin).

    Of the shifts ``s`` on a 1/8 grid in (-1/2, 1/2]^3 that map spglib's origin-1
    operations onto its origin-2 ones, ITA quotes: for orthorhombic groups the shortest,
    positive components first (Pnnn 1/4,1/4,1/4; Fddd -1/8,-1/8,-1/8); otherwise the
    lexicographically smallest (P4/n -1/4,1/4,0; Fd-3c -3/8,-3/8,-3/8).
    """
    halls = ops.hall_numbers()[number]
    if len(halls) < 2 or ops.spacegroup_type(halls[1]).choice != "2":
        return None
    one, two = ops.cosets(halls[0]), ops.cosets(halls[1])
    gens = [(r, ts[0]) for r, ts in one.items()]
    grid = range(-9, 13, 3)  # -3/8 .. 1/2 in steps of 1/8
    valid = []
    for s in ((a, b, c) for a in grid for b in grid for c in grid):
        if all(ops.vmod(tuple(t[i] - rs[i] + s[i] for i in range(3))) in two[r]
               for r, t in gens for rs in [ops.rvec(r, s)]):
            valid.append(s)
    if ops.family(number) == "orthorhombic":
        best = max(valid, key=lambda v: (-sum(map(abs, v)), v))
    else:
        best = min(valid)
    return _letters(best, _SHIFT_LETTERS)


@cache
def generator_string(number: int) -> str:
    """De Graef generator string of space group ``number`` (1-230), derived from spglib."""
    hall = setting_hall_number(number)
    cos = ops.cosets(hall)
    point_group = list(cos)
    centro = INVERSION in cos
    inv_at_origin = centro and (0, 0, 0) in cos[INVERSION]
    base = [INVERSION] if centro else []
    letters: list[str] = []
    for letter in ORDER.get(ops.family(number), ""):
        r = _ROT_ROWS[letter]
        have = ops.closure([(x, (0, 0, 0)) for x in base + [_ROT_ROWS[q] for q in letters]])
        if r in cos and r not in have:
            letters.append(letter)
    if centro and not inv_at_origin:
        letters.append("h")
    rots = [_ROT_ROWS[q] for q in letters]
    checker = ops.SymbolChecker(number, hall, point_group)
    trans = ops.choose_translations(rots, [cos[r] for r in rots], inv_at_origin, checker)
    lattice = ops.spacegroup_type(hall).international_short[0]
    centring = CENTRING[lattice]
    lattice_translations = {(0, 0, 0)}
    for c in centring:
        lattice_translations |= {ops.vmod(tuple(a + k * b for a, b in zip(v, c, strict=True)))
                                 for v in lattice_translations for k in (1, 2)}
    if lattice_translations != set(cos[IDENTITY]):
        raise RuntimeError(f"unexpected centring translations for group {number}")
    gens = [f"a{_letters(c, _GEN_LETTERS)}" for c in centring]
    gens += [q + _letters(t, _GEN_LETTERS) for q, t in zip(letters, trans, strict=True)]
    return str(GeneratorString(inv_at_origin, tuple(gens), _origin_shift(number)))


def generator_table() -> dict[int, str]:
    """Generator strings of all 230 space groups."""
    return {n: generator_string(n) for n in range(1, 231)}

