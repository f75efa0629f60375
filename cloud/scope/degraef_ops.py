"""Integer symmetry-operation machinery behind :mod:`cloud.scope.degraef`.

An operation ``(R, t)`` maps ``x -> R x + t`` (fractional coordinates, column vectors).
``R`` is a row-major 9-tuple of ints and ``t`` a 3-tuple of ints in units of ``1/24``
(``D``), reduced modulo 1 (i.e. modulo ``D``). All De Graef translations (1/8 .. 5/6) are
multiples of 1/24, so arithmetic is exact.

The only group data used come from spglib's Hall-symbol database
(``spglib.get_symmetry_from_database`` / ``spglib.get_spacegroup_type``).

Choosing the coset representatives (which of the operations ``(R, t + c)``, ``c`` a
centring vector, is written as the generator) follows the conventions of the general
positions of International Tables A. :func:`choose_translations` ranks candidate
generator choices lexicographically by

1. *closure*: the longest prefix of the generator list whose operations, generated with
   translations reduced only modulo 1, close into a group (ITA's (0,0,0)+ coordinate
   triplets of centred groups form a group whenever possible);
2. closure of every pair of generators, in generator order;
3. agreement of each generator, in order, with the full Hermann-Mauguin symbol: the
   screw part of a rotation and the glide letter of a reflection (for a rotation in a
   group with the inversion at the origin, the glide of its product with the inversion);
4. the same agreement summed over all generated operations (reflections, rotations);
5. the lexicographically smallest translations.

This ranking is an empirical statement of ITA's conventions: it reproduces ITA's choice for
every group of the paper's table (``tests/test_generators.py``); no listing is stored.
"""

from __future__ import annotations

import itertools
import warnings
from functools import cache, lru_cache

import spglib

D = 24  # translation unit 1/24
Rot = tuple[int, ...]
Vec = tuple[int, int, int]
Op = tuple[Rot, Vec]

IDENTITY: Rot = (1, 0, 0, 0, 1, 0, 0, 0, 1)
INVERSION: Rot = (-1, 0, 0, 0, -1, 0, 0, 0, -1)
ZERO: Vec = (0, 0, 0)

# base rotations (positive sense) about the symmetry directions used in HM symbols
_R2Z: Rot = (-1, 0, 0, 0, -1, 0, 0, 0, 1)
_R3Z: Rot = (0, -1, 0, 1, -1, 0, 0, 0, 1)
_R4Z: Rot = (0, -1, 0, 1, 0, 0, 0, 0, 1)
_R6Z: Rot = (1, -1, 0, 1, 0, 0, 0, 0, 1)
_R3D: Rot = (0, 0, 1, 1, 0, 0, 0, 1, 0)
_BASE = {((0, 0, 1), 2): _R2Z, ((0, 0, 1), 3): _R3Z, ((0, 0, 1), 4): _R4Z,
         ((0, 0, 1), 6): _R6Z, ((1, 1, 1), 3): _R3D}

# representative symmetry directions of the three HM symbol positions, per crystal family
_DIRS = {
    "monoclinic": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "orthorhombic": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "tetragonal": ((0, 0, 1), (1, 0, 0), (1, -1, 0)),
    "hexagonal": ((0, 0, 1), (1, 0, 0), (1, -1, 0)),
    "cubic": ((0, 0, 1), (1, 1, 1), (1, -1, 0)),
}
# two lattice vectors spanning a mirror plane with the given normal (for n, d, e glides)
_IN_PLANE = {(0, 0, 1): ((1, 0, 0), (0, 1, 0)), (1, 0, 0): ((0, 1, 0), (0, 0, 1)),
             (0, 1, 0): ((1, 0, 0), (0, 0, 1)), (1, -1, 0): ((1, 1, 0), (0, 0, 1))}


def family(number: int) -> str:
    """Crystal family of a space-group number (trigonal counted as hexagonal)."""
    for last, name in ((2, "triclinic"), (15, "monoclinic"), (74, "orthorhombic"),
                       (142, "tetragonal"), (194, "hexagonal")):
        if number <= last:
            return name
    return "cubic"


@cache
def rmul(a: Rot, b: Rot) -> Rot:
    a0, a1, a2, a3, a4, a5, a6, a7, a8 = a
    b0, b1, b2, b3, b4, b5, b6, b7, b8 = b
    return (a0 * b0 + a1 * b3 + a2 * b6, a0 * b1 + a1 * b4 + a2 * b7, a0 * b2 + a1 * b5 + a2 * b8,
            a3 * b0 + a4 * b3 + a5 * b6, a3 * b1 + a4 * b4 + a5 * b7, a3 * b2 + a4 * b5 + a5 * b8,
            a6 * b0 + a7 * b3 + a8 * b6, a6 * b1 + a7 * b4 + a8 * b7, a6 * b2 + a7 * b5 + a8 * b8)


def rvec(a: Rot, v: tuple[int, ...]) -> tuple[int, ...]:
    x, y, z = v
    return (a[0] * x + a[1] * y + a[2] * z, a[3] * x + a[4] * y + a[5] * z,
            a[6] * x + a[7] * y + a[8] * z)


def vmod(v: tuple[int, ...]) -> Vec:
    return (v[0] % D, v[1] % D, v[2] % D)


def compose(g: Op, h: Op) -> Op:
    """``g o h`` (apply ``h`` first), translation reduced modulo 1."""
    a, (tx, ty, tz) = g
    x, y, z = h[1]
    return rmul(a, h[0]), ((a[0] * x + a[1] * y + a[2] * z + tx) % D,
                           (a[3] * x + a[4] * y + a[5] * z + ty) % D,
                           (a[6] * x + a[7] * y + a[8] * z + tz) % D)


def order(a: Rot) -> int:
    p, n = a, 1
    while p != IDENTITY:
        p, n = rmul(a, p), n + 1
    return n


def det(a: Rot) -> int:
    return (a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6])
            + a[2] * (a[3] * a[7] - a[4] * a[6]))


def rinv(a: Rot) -> Rot:
    p = a
    while rmul(a, p) != IDENTITY:
        p = rmul(a, p)
    return p


def _power_sum(a: Rot, v: tuple[int, ...], n: int) -> tuple[int, ...]:
    """sum_{i<n} a^i v (n x the intrinsic translation when n is the order of a)."""
    s, w = [0, 0, 0], tuple(v)
    for _ in range(n):
        s = [s[i] + w[i] for i in range(3)]
        w = rvec(a, w)
    return tuple(s)


def axis(a: Rot) -> tuple[int, int, int]:
    """Rotation axis of a proper ``a`` (normal of the plane for a reflection), primitive."""
    p = a if det(a) == 1 else tuple(-x for x in a)
    proj = [_power_sum(p, e, order(p)) for e in ((1, 0, 0), (0, 1, 0), (0, 0, 1))]
    v = next(c for c in proj if any(c))
    g = 0
    for x in v:
        g = _gcd(g, abs(x))
    v = tuple(x // g for x in v)
    return v if next(x for x in v if x) > 0 else tuple(-x for x in v)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def closure(gens: list[Op]) -> dict[Rot, Vec]:
    """Breadth-first products of ``gens`` with translations modulo 1; one op per rotation."""
    reps: dict[Rot, Vec] = {IDENTITY: ZERO}
    frontier = [IDENTITY]
    while frontier:
        new = []
        for a in frontier:
            for g in gens:
                r, t = compose(g, (a, reps[a]))
                if r not in reps:
                    reps[r] = t
                    new.append(r)
        frontier = new
    return reps


@lru_cache(maxsize=1 << 16)
def is_closed(gens: tuple[Op, ...]) -> bool:
    """Do ``gens`` generate a group modulo Z^3 with one translation per rotation?"""
    reps: dict[Rot, Vec] = {IDENTITY: ZERO}
    frontier = [IDENTITY]
    while frontier:
        new = []
        for a in frontier:
            ta = reps[a]
            for g in gens:
                r, t = compose(g, (a, ta))
                old = reps.get(r)
                if old is None:
                    reps[r] = t
                    new.append(r)
                elif old != t:
                    return False
        frontier = new
    return True


# ----------------------------------------------------------------------------- spglib data
def spacegroup_type(hall: int):
    """``spglib.get_spacegroup_type`` without spglib's error-handling deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return spglib.get_spacegroup_type(hall)


@lru_cache(maxsize=1)
def hall_numbers() -> dict[int, list[int]]:
    """Space-group number -> spglib Hall numbers (the first one is the ITA standard)."""
    out: dict[int, list[int]] = {}
    for hall in range(1, 531):
        out.setdefault(spacegroup_type(hall).number, []).append(hall)
    return out


@cache
def cosets(hall: int) -> dict[Rot, tuple[Vec, ...]]:
    """Rotation -> sorted translations (mod 1, units 1/24) of the conventional-cell group."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sym = spglib.get_symmetry_from_database(hall)
    out: dict[Rot, set[Vec]] = {}
    for r, t in zip(sym["rotations"], sym["translations"], strict=True):
        key = tuple(int(x) for x in r.flatten())
        out.setdefault(key, set()).add(vmod(tuple(int(round(x * D)) for x in t)))
    return {k: tuple(sorted(v)) for k, v in out.items()}


# ------------------------------------------------------------------ Hermann-Mauguin agreement
class SymbolChecker:
    """Does an operation agree with the group's full Hermann-Mauguin symbol?"""

    def __init__(self, number: int, hall: int, rotations: list[Rot]):
        fam = family(number)
        tokens = spacegroup_type(hall).international_full.split()[1:]
        self.positions = []
        for d0, tok in zip(_DIRS.get(fam, ()), tokens, strict=False):
            rot, mir = tok.split("/") if "/" in tok else (
                (tok, None) if tok[0] in "-123456" else (None, tok))
            self.positions.append((d0, None if rot == "1" else rot, mir))
        # axis direction -> (position index, point operations mapping its d0 onto +-axis)
        self.where: dict[tuple[int, ...], tuple[int, list[Rot]]] = {}
        for i, (d0, _, _) in enumerate(self.positions):
            for g in rotations:
                d = rvec(g, d0)
                d = d if next(x for x in d if x) > 0 else tuple(-x for x in d)
                self.where.setdefault(d, (i, []))[1].append(g)
        self._cache: dict[Op, tuple[int | None, int | None]] = {}

    def score(self, r: Rot, t: Vec) -> tuple[int | None, int | None]:
        """(reflection agrees, rotation agrees), ``None`` where the symbol says nothing."""
        key = (r, t)
        if key not in self._cache:
            self._cache[key] = self._score(r, t)
        return self._cache[key]

    def _score(self, r: Rot, t: Vec) -> tuple[int | None, int | None]:
        if r in (IDENTITY, INVERSION):
            return None, None
        found = self.where.get(axis(r))
        if found is None:
            return None, None
        d0, rot, mir = self.positions[found[0]]
        n = order(r)
        s = _power_sum(r, t, n)  # n * intrinsic translation
        if det(r) == 1:
            if rot is None:
                return None, None
            gs = [g for g in found[1] if det(g) == 1 or n == 2]
            return None, int(any(self._rotation_ok(r, s, n, g, d0, rot) for g in gs))
        if n != 2 or mir is None:
            return None, None
        ok = any(all((c - 2 * e) % (2 * D) == 0 for c, e in zip(rvec(rinv(g), s), glide, strict=True))
                 for g in found[1] for glide in _glides(d0, mir))
        return int(ok), None

    @staticmethod
    def _rotation_ok(r: Rot, s: tuple[int, ...], n: int, g: Rot, d0, tok: str) -> bool:
        gi = rinv(g)
        rc, sc = rmul(gi, rmul(r, g)), rvec(gi, s)
        if tok.startswith("-"):  # proper powers of a rotoinversion: no screw
            big_n, k = 1, 0
            base = rc if n == 2 else _BASE.get((d0, n))
        else:
            big_n, k = int(tok[0]), int(tok[2:]) if "_" in tok else 0
            base = rc if big_n == 2 else _BASE.get((d0, big_n))
        if base is None:
            return False
        p = base
        for m in range(1, 7):
            if p == rc:
                frac = (k * m) % big_n
                return all((c * big_n - n * frac * D * x) % (n * big_n * D) == 0
                           for c, x in zip(sc, d0, strict=True))
            p = rmul(base, p)
        return False


def _glides(d0: tuple[int, ...], letter: str) -> list[Vec]:
    """Glide vectors (units 1/24) a reflection letter stands for, for a plane normal d0."""
    if letter in "abc":
        return [tuple(12 * int(i == "abc".index(letter)) for i in range(3))]
    if letter == "m":
        return [ZERO]
    u, v = _IN_PLANE[d0]
    if letter == "n":
        return [vmod(tuple(12 * (a + b) for a, b in zip(u, v, strict=True)))]
    if letter == "e":
        return [vmod(tuple(12 * a for a in u)), vmod(tuple(12 * b for b in v))]
    if letter == "d":
        return [vmod(tuple(6 * (i * a + j * b) for a, b in zip(u, v, strict=True)))
                for i in (1, 3) for j in (1, 3)]
    raise ValueError(f"unknown glide letter {letter!r}")


# --------------------------------------------------------------- representative selection
def choose_translations(rots: list[Rot], cands: list[tuple[Vec, ...]], inv_at_origin: bool,
                        checker: SymbolChecker) -> list[Vec]:
    """Pick one translation per generator rotation (see the module docstring for the rule)."""
    extra: list[Op] = [(INVERSION, ZERO)] if inv_at_origin else []

    def with_extra(ts) -> list[Op]:
        return extra + list(zip(rots, ts, strict=True))

    # 1. longest closed prefix (closure is inherited by prefixes, so search depth-first)
    level: list[tuple[Vec, ...]] = [()]
    k0 = 0
    for k in range(len(rots)):
        nxt = [c + (t,) for c in level for t in cands[k]
               if is_closed(tuple(extra) + tuple(zip(rots[:k + 1], c + (t,), strict=True)))]
        if not nxt:
            break
        level, k0 = nxt, k + 1
    combos = [c + rest for c in level for rest in itertools.product(*cands[k0:])]
    if len(combos) == 1:
        return list(combos[0])
    pairs = [(i, j) for j in range(max(k0, 1), len(rots)) for i in range(j)]

    def rank(ts):
        pair_ok = tuple(is_closed(tuple(extra) + ((rots[i], ts[i]), (rots[j], ts[j])))
                        for i, j in sorted(pairs))
        per_gen = []
        for r, t in zip(rots, ts, strict=True):
            mir, rot = checker.score(r, t)
            if mir is None and inv_at_origin:
                mir = checker.score(rmul(INVERSION, r), vmod(tuple(-x for x in t)))[0]
            per_gen.append((mir or 0) + (rot or 0))
        mir_tot = rot_tot = 0
        for r, t in closure(with_extra(ts)).items():
            mir, rot = checker.score(r, t)
            mir_tot, rot_tot = mir_tot + (mir or 0), rot_tot + (rot or 0)
        smallest = tuple(-x for t in ts for x in t)
        return pair_ok, tuple(per_gen), (mir_tot, rot_tot), smallest

    return list(max(combos, key=rank))
