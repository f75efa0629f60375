"""Task registry: families register their adapters here; the runner selects from it."""

from __future__ import annotations

from benchmarks.tasks.base import Fold, TaskAdapter, TaskData


def all_tasks() -> list[TaskAdapter]:
    from benchmarks.tasks import discovery, matbench, phonon, unconvbench

    return [*matbench.ADAPTERS, *phonon.ADAPTERS, *discovery.ADAPTERS, *unconvbench.ADAPTERS]


def families() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for task in all_tasks():
        out.setdefault(task.family, []).append(task.name)
    return out


def select(spec: str) -> list[TaskAdapter]:
    """``all``, a family name, a task name, or a comma-separated list of those."""
    tasks = all_tasks()
    by_name = {t.name: t for t in tasks}
    chosen: list[TaskAdapter] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part == "all":
            picked = tasks
        elif part in families():
            picked = [t for t in tasks if t.family == part]
        elif part in by_name:
            picked = [by_name[part]]
        else:
            known = ", ".join(["all", *families(), *by_name])
            raise ValueError(f"unknown task {part!r}; choose from: {known}")
        chosen += [t for t in picked if t not in chosen]
    return chosen


__all__ = ["Fold", "TaskAdapter", "TaskData", "all_tasks", "families", "select"]
