"""Elemental properties from pymatgen, one table for every user (baselines, element features).

:func:`element_property_table` reads the named ``pymatgen.core.Element`` attributes of the
118 elements (order of :data:`cloud.scope.elements.SYMBOLS`) into a float array, NaN where
pymatgen has no value (e.g. the atomic radius of the noble gases). pymatgen is imported on
first use only.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from cloud.scope.elements import SYMBOLS


@cache
def _table(properties: tuple[str, ...]) -> np.ndarray:
    import warnings

    from pymatgen.core.periodic_table import Element

    table = np.full((len(SYMBOLS), len(properties)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, sym in enumerate(SYMBOLS):
            el = Element(sym)
            for j, prop in enumerate(properties):
                try:
                    value = getattr(el, prop)
                    table[i, j] = float(value) if value is not None else np.nan
                except (AttributeError, TypeError, ValueError):
                    pass
    unknown = [p for j, p in enumerate(properties) if np.isnan(table[:, j]).all()]
    if unknown:
        raise ValueError(f"pymatgen Element has no property {', '.join(map(repr, unknown))}")
    table.setflags(write=False)
    return table


def element_property_table(properties) -> np.ndarray:
    """[118, len(properties)] array of pymatgen ``Element`` attributes; NaN where missing.

    Raises ``ValueError`` for a name that is not an ``Element`` attribute. The result is
    cached and read-only.
    """
    return _table(tuple(properties))


__all__ = ["element_property_table"]
