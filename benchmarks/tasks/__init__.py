"""Task registry: the benchmark families, installed task plug-ins, and task files.

A task is a :class:`TaskAdapter` (data, folds, target, metric), immutable once constructed.
The registry holds the project's families (:data:`FAMILIES`: each a module's ``ADAPTERS``)
and the tasks installed packages register under the entry-point group
:data:`ENTRY_POINT_GROUP`, e.g. in their ``pyproject.toml``::

    [project.entry-points."cloud_bench.tasks"]
    my_tasks = "mypkg.tasks:ADAPTERS"     # an adapter, a list of them, or a class

:func:`select` picks by ``all``, a family, a task name, a comma list of those, or the path of
a task YAML (:class:`benchmarks.tasks.user.Task`, your own dataset).
"""

from __future__ import annotations

import importlib
from importlib import metadata

from benchmarks.tasks.base import Fold, TaskAdapter, TaskData

ENTRY_POINT_GROUP = "cloud_bench.tasks"
FAMILIES = {  # family -> module whose ADAPTERS are its tasks (read on each call)
    "matbench": "benchmarks.tasks.matbench",
    "phonon": "benchmarks.tasks.phonon",
    "discovery": "benchmarks.tasks.discovery",
    "unconvbench": "benchmarks.tasks.unconvbench",
}
TASK_FILE_SUFFIXES = (".yaml", ".yml")


def _adapters(obj) -> list[TaskAdapter]:
    if isinstance(obj, type):
        obj = obj()
    items = obj if isinstance(obj, list | tuple) else [obj]
    bad = [i for i in items if not isinstance(i, TaskAdapter)]
    if bad:
        raise ValueError(f"not task adapters: {bad!r}")
    return list(items)


def entry_point_tasks() -> list[TaskAdapter]:
    """The tasks installed packages register (entry points of :data:`ENTRY_POINT_GROUP`)."""
    out = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        out += _adapters(ep.load())
    return out


def all_tasks() -> list[TaskAdapter]:
    """Every registered task: the project's families, then installed plug-ins."""
    builtin = [t for module in FAMILIES.values()
               for t in importlib.import_module(module).ADAPTERS]
    return [*builtin, *entry_point_tasks()]


def families() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for task in all_tasks():
        out.setdefault(task.family, []).append(task.name)
    return out


def select(spec: str) -> list[TaskAdapter]:
    """``all``, a family name, a task name, a task YAML path, or a comma list of those."""
    tasks = all_tasks()
    by_name = {t.name: t for t in tasks}
    chosen: list[TaskAdapter] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part == "all":
            picked = tasks
        elif part.endswith(TASK_FILE_SUFFIXES):
            from benchmarks.tasks.user import Task

            picked = [Task.from_file(part)]
        elif part in families():
            picked = [t for t in tasks if t.family == part]
        elif part in by_name:
            picked = [by_name[part]]
        else:
            known = ", ".join(["all", *families(), *by_name])
            raise ValueError(f"unknown task {part!r}; choose from: {known} (or a task "
                             "YAML file: docs/own_task.md)")
        chosen += [t for t in picked if t not in chosen]
    return chosen


__all__ = ["ENTRY_POINT_GROUP", "FAMILIES", "Fold", "TaskAdapter", "TaskData", "all_tasks",
           "entry_point_tasks", "families", "select"]
