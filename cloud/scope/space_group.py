"""Generator string -> space-group number, for reading SCOPE strings (ours and the paper's).

The project's strings are computed in ``cloud.scope.degraef`` (no table copied there); the
paper's table writes three groups differently, so reading the paper's SCOPE strings needs
those three as known variants (test oracle: scope_reference/generator_strings.json; why they
differ: tests/test_generators.py — its strings for 39 and 131 actually generate 21 and 130).
"""

from __future__ import annotations

from functools import cache

from cloud.scope.degraef import generator_table

# The paper's variants, with the space group the paper meant.
PAPER_GENERATOR_STRINGS = {
    "03aODDbOOOcODO0": 39,
    "13bDDOgDOOcODD0": 131,
    "14bDDOcDODdOOOeOOD1YYY": 222,
}


@cache
def _space_group_numbers() -> dict[str, int]:
    numbers = {s: n for n, s in generator_table().items()}
    if len(numbers) != 230:
        raise RuntimeError("generator strings are not unique per space group")
    return {**PAPER_GENERATOR_STRINGS, **numbers}


def space_group_number(generator: str) -> int:
    """Space-group number (1-230) of a generator string (no spaces): this project's strings
    and the paper's three variants (as the group the paper meant)."""
    try:
        return _space_group_numbers()[generator]
    except KeyError:
        raise ValueError(f"unknown generator string {generator!r}") from None

