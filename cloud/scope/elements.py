"""Chemical element symbols, without importing pymatgen (start-up time matters)."""

from __future__ import annotations

import re

SYMBOLS: tuple[str, ...] = tuple(
    """H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn
    Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd
    Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th
    Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og""".split()
)
ATOMIC_NUMBER: dict[str, int] = {sym: z for z, sym in enumerate(SYMBOLS, start=1)}
# Deuterium and tritium appear in some databases; pymatgen treats them as hydrogen isotopes.
_ISOTOPES = {"D": "H", "T": "H"}
_SPECIES = re.compile(r"^([A-Z][a-z]?)(\d*[+-])?,?(spin=.*)?$")


def element_of(species: str) -> str:
    """Element symbol of a species label (``"Fe"``, ``"Fe2+"``, ``"O2-"``, ``"D"``).

    Raises ``ValueError`` for anything that is not a known element.
    """
    m = _SPECIES.match(species.strip())
    sym = m.group(1) if m else species
    sym = _ISOTOPES.get(sym, sym)
    if sym not in ATOMIC_NUMBER:
        raise ValueError(f"unknown element {species!r}")
    return sym


def atomic_number(symbol: str) -> int:
    return ATOMIC_NUMBER[element_of(symbol)]
