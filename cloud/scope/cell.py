"""Crystal inputs -> a light ``Cell`` (lattice, fractional coordinates, species).

The encoder works on plain arrays so that the hot path needs neither pymatgen objects nor
torch: a matbench-format structure dict (``Structure.as_dict()``) is read directly. CIF text,
POSCAR files and pymatgen ``Structure`` objects are accepted too (pymatgen is imported only
for CIF and POSCAR).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cloud.scope.elements import element_of
from cloud.scope.errors import (
    DisorderedSiteError,
    EmptyStructureError,
    ParseError,
    UnknownElementError,
)

OCCUPANCY_TOL = 1e-6


@dataclass(frozen=True)
class Cell:
    """An ordered crystal: lattice rows (Å), fractional coordinates, one species per site.

    ``species`` keeps oxidation states (``"Fe2+"``) because, as in pymatgen's
    ``SpacegroupAnalyzer``, sites of different species are never symmetry-equivalent;
    ``elements`` holds the bare element symbols used for the composition.
    """

    lattice: np.ndarray
    frac_coords: np.ndarray
    species: tuple[str, ...]
    elements: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.species)

    def type_numbers(self) -> list[int]:
        """Integer types for spglib/moyopy: one per distinct species, first-appearance order."""
        index: dict[str, int] = {}
        return [index.setdefault(s, len(index) + 1) for s in self.species]

    def permuted(self, order: np.ndarray | list[int]) -> Cell:
        order = list(order)
        return Cell(
            self.lattice,
            self.frac_coords[order],
            tuple(self.species[i] for i in order),
            tuple(self.elements[i] for i in order),
        )

    def shifted(self, shift: np.ndarray | list[float]) -> Cell:
        return Cell(self.lattice, self.frac_coords + np.asarray(shift), self.species, self.elements)


def element_amounts(cell: Cell) -> dict[str, float]:
    """Atoms per element in first-appearance order (pymatgen ``get_el_amt_dict`` order)."""
    amounts: dict[str, float] = {}
    for el in cell.elements:
        amounts[el] = amounts.get(el, 0.0) + 1.0
    return amounts


def _species_label(entry: Mapping) -> str:
    sym = entry.get("element")
    if not isinstance(sym, str):
        raise ParseError(f"site species without an element: {entry!r}")
    ox = entry.get("oxidation_state")
    if ox in (None, 0) or (isinstance(ox, float) and math.isnan(ox)):
        return sym
    sign = "+" if ox > 0 else "-"
    return f"{sym}{abs(ox):g}{sign}"


def _site_species(index: int, species: list) -> tuple[str, str]:
    if len(species) != 1:
        names = ", ".join(f"{s.get('element')}:{s.get('occu')}" for s in species)
        raise DisorderedSiteError(f"site {index} is disordered (mixed occupancy {names})")
    entry = species[0]
    occu = float(entry.get("occu", 1.0))
    if abs(occu - 1.0) > OCCUPANCY_TOL:
        raise DisorderedSiteError(f"site {index} is partially occupied ({entry.get('element')}: {occu:g})")
    label = _species_label(entry)
    try:
        return label, element_of(entry["element"])
    except ValueError as exc:
        raise UnknownElementError(f"site {index}: {exc}") from None


def _finish(lattice, frac, species, elements) -> Cell:
    if not species:
        raise EmptyStructureError("structure has no sites")
    lattice = np.asarray(lattice, dtype=float).reshape(3, 3)
    frac = np.asarray(frac, dtype=float).reshape(-1, 3)
    if not (np.isfinite(lattice).all() and np.isfinite(frac).all()):
        raise ParseError("lattice or coordinates are not finite")
    if abs(np.linalg.det(lattice)) < 1e-6:
        raise ParseError("lattice is singular (zero cell volume)")
    return Cell(lattice, frac, tuple(species), tuple(elements))


def cell_from_dict(d: Mapping) -> Cell:
    """A pymatgen ``Structure.as_dict()`` mapping -> Cell (no pymatgen import)."""
    try:
        lattice = d["lattice"]["matrix"]
        sites = d["sites"]
    except (KeyError, TypeError) as exc:
        raise ParseError(f"not a pymatgen Structure dict (missing {exc})") from None
    species, elements, frac = [], [], []
    for i, site in enumerate(sites):
        label, el = _site_species(i, site["species"])
        species.append(label)
        elements.append(el)
        frac.append(site["abc"])
    return _finish(lattice, frac, species, elements)


def cell_from_pymatgen(structure) -> Cell:
    """A pymatgen ``Structure`` -> Cell."""
    return cell_from_dict(structure.as_dict())


def cell_from_cif(text: str) -> Cell:
    """CIF text -> Cell, through pymatgen's CIF parser (as the paper's ``Structure.from_file``)."""
    def parse(t):
        from pymatgen.core import Structure

        return Structure.from_str(t, fmt="cif")

    return _parsed_cell(text, "CIF", parse)


def is_poscar_name(path: Path) -> bool:
    """VASP structure file names: ``POSCAR``, ``CONTCAR`` (any suffix), ``*.vasp``, ``*.poscar``."""
    name = path.name.lower()
    return name.startswith(("poscar", "contcar")) or name.endswith((".vasp", ".poscar"))


def cell_from_poscar(text: str) -> Cell:
    """POSCAR/CONTCAR text (element names on line 6, VASP 5 style) -> Cell, through pymatgen."""
    def parse(t):
        from pymatgen.io.vasp import Poscar

        return Poscar.from_str(t).structure

    return _parsed_cell(text, "POSCAR", parse)


def _parsed_cell(text: str, kind: str, parse) -> Cell:
    """``parse(text)`` (a pymatgen Structure) -> Cell; an empty text or any parser error is
    one clear ``EmptyStructureError`` / ``ParseError`` naming the file kind."""
    if not text or not text.strip():
        raise EmptyStructureError(f"empty {kind}")
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            structure = parse(text)
    except Exception as exc:  # pymatgen raises many types for bad files
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ParseError(f"unparsable {kind}: {msg}") from None
    return cell_from_pymatgen(structure)


def to_cell(obj) -> Cell:
    """Any supported input -> Cell: Cell, Structure dict, pymatgen Structure, CIF text, or the
    path of a CIF or POSCAR file (POSCAR by name: see ``is_poscar_name``)."""
    if isinstance(obj, Cell):
        return obj
    if isinstance(obj, Mapping):
        return cell_from_dict(obj)
    if isinstance(obj, Path):
        text = obj.read_text(errors="replace")
        return cell_from_poscar(text) if is_poscar_name(obj) else cell_from_cif(text)
    if isinstance(obj, str):
        return cell_from_cif(obj)
    if hasattr(obj, "as_dict") and hasattr(obj, "lattice"):
        return cell_from_pymatgen(obj)
    if obj is None or (isinstance(obj, float) and math.isnan(obj)):
        raise EmptyStructureError("no structure given")
    raise ParseError(f"cannot read a structure from {type(obj).__name__}")
