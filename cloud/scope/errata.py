"""The paper's printed generator table, errata included, for feeding the authors' checkpoint.

The project writes correct generator strings for every space group; the paper's table
(which the authors' release writes its SCOPE strings from) differs for Aem2 (39), P4₂/mmc
(131) and Pn-3n (222), see ``docs/scope.md``. The authors' checkpoint saw the table's
strings in pretraining, so a model built on it is fed those: :func:`with_table_generators`
rewrites a SCOPE string's generator part for exactly those three groups and leaves every
other string unchanged (strings already written from the table stay as they are).
"""

from __future__ import annotations

from functools import cache

from cloud.scope.space_group import PAPER_GENERATOR_STRINGS

#: ``project`` (correct strings, the default) or ``table`` (the paper's printed table).
GENERATOR_TABLES = ("project", "table")
SEPARATOR = " | "


@cache
def _project_to_table() -> dict[str, str]:
    from cloud.scope.degraef import generator_string

    return {generator_string(number): table for table, number in PAPER_GENERATOR_STRINGS.items()}


def with_table_generators(text: str) -> str:
    """``text`` with the table's generator string where the project's differs from it."""
    head, sep, rest = text.partition(SEPARATOR)
    table = _project_to_table().get(head.replace(" ", ""))
    return " ".join(table) + sep + rest if table is not None else text


def apply_generator_table(texts: list[str], table: str) -> list[str]:
    """``texts`` as the ``table`` (``project`` or ``table``) writes their generator part."""
    if table not in GENERATOR_TABLES:
        raise ValueError(f"generators must be one of {GENERATOR_TABLES}, not {table!r}")
    return list(texts) if table == "project" else [with_table_generators(t) for t in texts]


__all__ = ["GENERATOR_TABLES", "apply_generator_table", "with_table_generators"]
