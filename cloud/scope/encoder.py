"""Structure -> SCOPE string, in ``paper`` or ``canonical`` mode.

``paper`` reproduces the paper's encoder (``structure_to_str.py`` of the CLOUD code):
spglib with pymatgen's default tolerances; Wyckoff symbols ``<multiplicity><letter>``, each
listed once, in the order the sites first appear; elements with atomic fractions rounded
to two decimals, in the order they first appear.

``canonical`` makes the string a function of the crystal alone: see ``cloud.scope.canonical``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloud.scope.cell import Cell, element_amounts, to_cell
from cloud.scope.format import Scope, composition_pairs
from cloud.scope.symmetry import DEFAULT_OPTIONS, SYMMETRY_BACKENDS, SymmetryOptions

MODES = ("paper", "canonical")


def _unique(items) -> tuple:
    return tuple(dict.fromkeys(items))


def encode_paper(cell: Cell, options: SymmetryOptions = DEFAULT_OPTIONS,
                 symmetry: str = "spglib") -> Scope:
    """``symmetry``: ``spglib`` (the paper's path, through pymatgen) or ``moyopy``."""
    from cloud.scope.degraef import generator_string
    from cloud.scope.wyckoff import wyckoff_symbol

    sym = SYMMETRY_BACKENDS[symmetry](cell, options)
    wyckoff = _unique(wyckoff_symbol(sym.number, letter) for letter in sym.letters)
    return Scope(generator_string(sym.number), wyckoff, composition_pairs(element_amounts(cell)))


@dataclass(frozen=True)
class ScopeEncoder:
    """Configured encoder: ``ScopeEncoder(mode="canonical", symprec=0.1).encode(structure)``."""

    mode: str = "paper"
    symprec: float = SymmetryOptions.symprec
    angle_tolerance: float = SymmetryOptions.angle_tolerance
    symmetry: str = "spglib"  # paper mode's symmetry search: spglib (as the paper) or moyopy
    # "table": the paper's printed generator strings for 39, 131, 222 (cloud.scope.errata),
    # what the authors' checkpoint saw; "project": the correct ones (default)
    generators: str = "project"

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.symmetry not in SYMMETRY_BACKENDS:
            raise ValueError(f"symmetry must be one of {sorted(SYMMETRY_BACKENDS)}, "
                             f"not {self.symmetry!r}")
        if self.generators not in ("project", "table"):
            raise ValueError(f"generators must be 'project' or 'table', not {self.generators!r}")

    @property
    def options(self) -> SymmetryOptions:
        return SymmetryOptions(self.symprec, self.angle_tolerance)

    def encode_scope(self, structure) -> Scope:
        """Any structure input (see ``cloud.scope.cell.to_cell``) -> ``Scope``."""
        cell = to_cell(structure)
        if self.mode == "paper":
            return encode_paper(cell, self.options, self.symmetry)
        from cloud.scope.canonical import encode_canonical

        return encode_canonical(cell, self.options)

    def encode(self, structure) -> str:
        text = str(self.encode_scope(structure))
        if self.generators == "project":
            return text
        from cloud.scope.errata import apply_generator_table

        return apply_generator_table([text], self.generators)[0]


def encode(structure, mode: str = "paper", **options) -> str:
    """One structure -> SCOPE string (``mode`` paper|canonical; symprec, angle_tolerance)."""
    return ScopeEncoder(mode=mode, **options).encode(structure)
