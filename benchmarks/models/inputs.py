"""A model's inputs for a fold's rows, in the type its ``input`` declares.

- ``scope``: the task's SCOPE strings (the SCOPE mode the model asks for);
- ``composition``: pymatgen ``Composition`` with fractional amounts, from the structure when
  the task has structures, else from the SCOPE string's composition part (a composition-only
  task's formulas: only these models run it);
- ``structure``: pymatgen ``Structure``; a task whose inputs are precomputed SCOPE strings
  (no structures) cannot feed it (:func:`input_problem`).
"""

from __future__ import annotations

from benchmarks.tasks.base import TaskData


def input_problem(data: TaskData, kind: str) -> str | None:
    """Why ``data`` cannot feed a model with input ``kind`` (``None``: it can)."""
    if data.inputs == "composition" and kind != "composition":
        return (f"input = {kind!r}, but the task's inputs are compositions only "
                f"({data.source}): models with input = 'composition' run it")
    if kind == "structure" and data.structure_loader is None:
        return f"input = 'structure' needs structures, but the inputs are: {data.source}"
    if kind == "scope" and "compositions" in data.meta:  # a user task of formulas
        return f"input = 'scope' needs structures, but the inputs are: {data.source}"
    return None


def model_inputs(data: TaskData, ids: list[str], kind: str) -> list:
    """The inputs of rows ``ids`` as a list of ``kind``."""
    texts = [data.texts[i] for i in data.rows(ids)]
    if kind == "scope":
        return texts
    if kind == "composition":
        if data.inputs == "composition":
            from pymatgen.core import Composition

            return [Composition(t).fractional_composition for t in texts]
        if "compositions" in data.meta:  # formulas only (a user task's composition column)
            from pymatgen.core import Composition

            return [Composition(data.meta["compositions"][i]).fractional_composition
                    for i in ids]
        if data.structure_loader is not None:
            return [s.composition.fractional_composition for s in structures(data, ids)]
        return [scope_composition(t) for t in texts]
    if kind == "structure":
        if (problem := input_problem(data, kind)) is not None:
            raise ValueError(problem)
        return structures(data, ids)
    raise ValueError(f"unknown input type {kind!r}")


def scope_composition(text: str):
    """The composition part of a SCOPE string as a pymatgen ``Composition``."""
    from pymatgen.core import Composition

    from cloud.scope.format import Scope

    return Composition({el: float(frac) for el, frac in Scope.parse(text).composition})


def structures(data: TaskData, ids: list[str]) -> list:
    """pymatgen ``Structure`` objects of rows ``ids``."""
    from pymatgen.core import Structure

    table = data.structure_table()
    return [s if isinstance(s, Structure) else Structure.from_dict(s)
            for s in (table[i] for i in ids)]


def scope_mode_problem(data: TaskData, mode: str) -> str | None:
    """Why ``data`` cannot feed a model asking for SCOPE ``mode`` (``None``: it can).
    Canonical strings are encoded from structures; a task whose inputs are the paper's
    precomputed strings (e.g. matbench_dielectric offline) has none, so the runner skips a
    canonical model there rather than train it on paper strings under a canonical name."""
    if mode == "canonical" and data.encoded_mode != "canonical":
        return f"scope_mode canonical needs structures, but the inputs are: {data.source}"
    return None
