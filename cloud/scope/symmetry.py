"""Symmetry analysis for the encoder: spglib for ``paper`` mode, moyopy for ``canonical``.

``paper`` mode calls spglib exactly as pymatgen's ``SpacegroupAnalyzer`` does (its default
tolerances, one integer type per distinct species in first-appearance order), so the
space group and Wyckoff letters are those of the paper's code without the overhead of
building pymatgen objects.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

# spglib's C core prints "ssm_get_exact_positions failed" and similar to stderr for
# structures it handles anyway; failures reach us as exceptions, so keep stderr clean.
os.environ.setdefault("SPGLIB_WARNING", "OFF")

from cloud.scope.cell import Cell
from cloud.scope.errors import SymmetryError

# moyopy logs a warning per cell whose primitive operations don't fit the input lattice
# ("Omitted N primitive-cell symmetry operations ..."); the Wyckoff letters are unaffected.
logging.getLogger("moyo").setLevel(logging.ERROR)

# pymatgen SpacegroupAnalyzer defaults, used by the paper.
DEFAULT_SYMPREC = 0.01
DEFAULT_ANGLE_TOLERANCE = 5.0  # degrees


def use_spglib_exceptions(spglib) -> None:
    """spglib >= 2.5 warns unless told to raise SpglibError instead of returning None."""
    error = getattr(spglib, "error", None)
    if error is not None and hasattr(error, "OLD_ERROR_HANDLING"):
        error.OLD_ERROR_HANDLING = False


@dataclass(frozen=True)
class SymmetryOptions:
    symprec: float = DEFAULT_SYMPREC
    angle_tolerance: float = DEFAULT_ANGLE_TOLERANCE  # degrees


DEFAULT_OPTIONS = SymmetryOptions()


@dataclass(frozen=True)
class SiteSymmetry:
    """Space group number and, per input site, its Wyckoff letter and orbit id."""

    number: int
    letters: tuple[str, ...]
    orbits: tuple[int, ...]


def spglib_symmetry(cell: Cell, options: SymmetryOptions = DEFAULT_OPTIONS) -> SiteSymmetry:
    """spglib's dataset for the cell, as the paper's pymatgen path obtains it."""
    import spglib

    use_spglib_exceptions(spglib)
    spg_cell = (cell.lattice, cell.frac_coords, cell.type_numbers())
    try:
        ds = spglib.get_symmetry_dataset(
            spg_cell, symprec=options.symprec, angle_tolerance=options.angle_tolerance
        )
    except Exception as exc:  # SpglibError, or a bad cell
        raise SymmetryError(f"spglib found no space group: {exc}") from None
    if ds is None:
        raise SymmetryError("spglib found no space group")
    return SiteSymmetry(int(ds.number), tuple(ds.wyckoffs), tuple(int(i) for i in ds.equivalent_atoms))


def moyo_symmetry(cell: Cell, options: SymmetryOptions = DEFAULT_OPTIONS) -> SiteSymmetry:
    """The same facts as ``spglib_symmetry`` from moyopy (about 3x faster per structure);
    ``paper`` mode with ``symmetry="moyopy"``. Agreement with spglib on the real structures
    is measured by ``benchmarks/perf/scope_encoding.py``."""
    ds = moyo_dataset(cell, options)
    return SiteSymmetry(int(ds.number), tuple(ds.wyckoffs), tuple(int(i) for i in ds.orbits))


def primitive_atom_count(cell: Cell, options: SymmetryOptions = DEFAULT_OPTIONS) -> int:
    """Atoms in spglib's primitive cell of ``cell`` (CLOUD-DEBYE's N, atoms per primitive
    cell, as in the phonon data); ``SymmetryError`` when spglib finds none."""
    import spglib

    use_spglib_exceptions(spglib)
    spg_cell = (cell.lattice, cell.frac_coords, cell.type_numbers())
    try:
        prim = spglib.find_primitive(spg_cell, symprec=options.symprec,
                                     angle_tolerance=options.angle_tolerance)
    except Exception as exc:  # SpglibError, or a bad cell
        raise SymmetryError(f"spglib found no primitive cell: {exc}") from None
    if prim is None:
        raise SymmetryError("spglib found no primitive cell")
    return len(prim[2])


SYMMETRY_BACKENDS = {"spglib": spglib_symmetry, "moyopy": moyo_symmetry}


def moyo_dataset(cell: Cell, options: SymmetryOptions = DEFAULT_OPTIONS):
    """moyopy's dataset in spglib's settings (so Wyckoff letters use the same tables)."""
    import moyopy

    mcell = moyopy.Cell(cell.lattice.tolist(), cell.frac_coords.tolist(), cell.type_numbers())
    try:
        # No angle_tolerance: with one, moyopy 0.21 never returns on some layered cells
        # (e.g. mb-jdft2d-269, CrS2 with 36 A of vacuum); without it moyopy applies its own
        # symprec-derived tolerance. tests/test_scope_symmetry.py keeps that case.
        return moyopy.MoyoDataset(mcell, symprec=options.symprec, setting=moyopy.Setting.spglib())
    except Exception as exc:  # moyopy raises on symmetry search failure
        raise SymmetryError(f"moyopy failed: {exc}") from None
