"""The SCOPE string format: ``generator | wyckoff | composition``.

One place for how the three parts are written and read back. Tokens are separated by
single spaces; the generator string is written one character per token, Wyckoff symbols
as ``<multiplicity><letter>`` and the composition as ``El frac`` pairs with fractions
rounded to two decimals exactly as the paper's code writes them
(``str(numpy.round(fraction, 2))``: ``0.5``, ``0.33``, ``1.0``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEPARATOR = "|"


def format_fraction(fraction: float) -> str:
    """Atomic fraction as the paper writes it: ``str(np.round(x, 2))``."""
    return str(np.round(np.float64(fraction), 2))


@dataclass(frozen=True)
class Scope:
    """The three parts of a SCOPE string."""

    generator: str  # De Graef generator string, e.g. "16aODDaDODbOOOcOOOdOOOeOOO0"
    wyckoff: tuple[str, ...]  # e.g. ("4a", "4b")
    composition: tuple[tuple[str, str], ...]  # e.g. (("Na", "0.5"), ("Cl", "0.5"))

    def __str__(self) -> str:
        parts = [
            " ".join(self.generator),
            " ".join(self.wyckoff),
            " ".join(f"{el} {frac}" for el, frac in self.composition),
        ]
        return f" {SEPARATOR} ".join(parts)

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Split a SCOPE string back into its parts (inverse of ``str``)."""
        parts = [p.split() for p in text.split(SEPARATOR)]
        if len(parts) != 3:
            raise ValueError(f"a SCOPE string has 3 parts separated by '|': {text!r}")
        gen, wyck, comp = parts
        if len(comp) % 2:
            raise ValueError(f"composition part must be element/fraction pairs: {text!r}")
        pairs = tuple((comp[i], comp[i + 1]) for i in range(0, len(comp), 2))
        return cls("".join(gen), tuple(wyck), pairs)


def composition_pairs(amounts: dict[str, float]) -> tuple[tuple[str, str], ...]:
    """Element -> amount (any scale, insertion order kept) to rounded atomic fractions."""
    total = float(sum(amounts.values()))
    if total <= 0:
        raise ValueError("empty composition")
    return tuple((el, format_fraction(amt / total)) for el, amt in amounts.items())
