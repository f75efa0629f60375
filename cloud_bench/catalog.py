"""What can be benchmarked here: every task (family, rows, metric, folds, where its data
are) and every model (configured, built-in, installed plug-ins), as tables.

A task's data state: ``here`` (in the data folder: ``--data-dir`` or ``$CLOUD_DATA_DIR``),
``in cache`` (downloaded before, under ``$CLOUD_CACHE_DIR``), ``here: offline stand-in``
(a partial stand-in is local, the canonical file is not), ``online only`` (a run downloads
it, checksum checked) or ``not obtainable`` (no URL, not local).
"""

from __future__ import annotations

from pathlib import Path

STATES = ("here", "in cache", "here: offline stand-in", "online only", "not obtainable")


def file_state(key: str, data_dir=None) -> str:
    """``here``, ``in cache``, ``online`` or ``none`` for one registry key."""
    from cloud.data import cache_dir, get_entry, locate

    found = locate(key, data_dir)
    if found is not None:
        return "in cache" if Path(found[0]) == cache_dir() else "here"
    try:
        entry = get_entry(key)
        return "online" if entry.urls or entry.figshare else "none"
    except KeyError:
        return "none"


def task_state(task, data_dir=None) -> str:
    """The data state of a task (module docstring) from the files it declares."""
    states = []
    for canonical, *standins in task.data_files():
        state = file_state(canonical, data_dir)
        if state in ("online", "none") and any(
                file_state(s, data_dir) in ("here", "in cache") for s in standins):
            state = "stand-in"
        states.append(state)
    if not states:
        return "here" if getattr(task, "data_paths", None) else "not declared"
    for state, words in (("none", "not obtainable"), ("online", "online only"),
                         ("stand-in", "here: offline stand-in"), ("in cache", "in cache")):
        if state in states:
            return words
    return "here"


def task_rows(task) -> int | None:
    """Rows of the complete benchmark: the task's ``n_total``, else the registry's count of
    its one data file (None: not known before loading)."""
    from cloud.data import get_entry

    if getattr(task, "n_total", None):
        return int(task.n_total)
    files = task.data_files()
    if len(files) != 1:
        return None
    try:
        return get_entry(files[0][0]).n_rows
    except KeyError:
        return None


def task_table(tasks, data_dir=None, layers=None) -> list[dict]:
    """One row per task: name, family, rows, metric, folds, data state."""
    from benchmarks.config import load_layers, task_config

    layers = layers or load_layers()
    rows = []
    for t in tasks:
        folds = task_config(layers, t.name, t.family)["folds"]
        rows.append({"task": t.name, "family": t.family, "rows": task_rows(t),
                     "metric": t.primary_metric, "folds": len(folds),
                     "data": task_state(t, data_dir)})
    return rows


def model_table(layers=None) -> list[dict]:
    """One row per model: configured (per task count), built-in types, installed plug-ins."""
    from benchmarks.config import load_layers, task_config
    from benchmarks.models.registry import BUILTIN, entry_points
    from benchmarks.models.spec import is_model_entry
    from benchmarks.tasks import all_tasks

    layers = layers or load_layers()
    configured: dict[str, dict] = {}
    for t in all_tasks():
        for name, entry in task_config(layers, t.name, t.family)["models"].items():
            if is_model_entry(entry):
                row = configured.setdefault(name, {"model": name, "kind": "configured",
                                                   "is": entry.get("type") or entry["class"],
                                                   "tasks": 0})
                row["tasks"] += 1
    rows = list(configured.values())
    rows += [{"model": n, "kind": "built-in type", "is": p, "tasks": None}
             for n, p in BUILTIN.items()]
    rows += [{"model": n, "kind": "installed plug-in", "is": p, "tasks": None}
             for n, p in entry_points().items()]
    return rows


def markdown(rows: list[dict]) -> str:
    if not rows:
        return "(none)"
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join("" if r[k] is None else str(r[k]) for k in head) + " |"
              for r in rows]
    return "\n".join(lines)
