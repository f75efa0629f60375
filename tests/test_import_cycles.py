"""No import cycle among the project's modules (``cloud``, ``benchmarks``, ``baselines``,
``scripts``, ``tests``).

The graph is read with ``ast`` from every ``import``/``from ... import`` in a module, at any
depth (imports inside functions count: a cycle through a lazy import is still a cycle a
reader has to untangle). An import of ``a.b.c`` is an edge to the deepest project module it
names; a package's own ``__init__`` is not implied by importing one of its submodules (Python
runs it, but a package that lists its submodules is not a cycle to fix).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("cloud", "benchmarks", "baselines", "scripts", "tests")


def project_modules(root: Path, packages=PACKAGES) -> dict[str, Path]:
    mods = {}
    for top in packages:
        for path in sorted((root / top).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = path
    return mods


def _owner(name: str, mods: dict) -> str | None:
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                owner = _owner(target, mods)
                if owner and owner != mod:
                    graph[mod].add(owner)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_among_project_modules():
    mods = project_modules(REPO)
    assert "benchmarks.run" in mods and "cloud.scope.encoder" in mods
    assert cycles(import_graph(mods)) == []


def test_a_cycle_through_a_lazy_import_is_found(tmp_path):
    # synthetic package: a imports b at module level, b imports a inside a function
    pkg = tmp_path / "cloud"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cloud.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n    return a\n")
    (pkg / "c.py").write_text("import cloud.a\n")
    graph = import_graph(project_modules(tmp_path, ("cloud",)))
    assert graph["cloud.c"] == {"cloud.a"}
    assert cycles(graph) == [["cloud.a", "cloud.b"]]
