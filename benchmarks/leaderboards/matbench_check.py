"""Run MatBench's own CI check (``scripts/test_submission.py``) on submission folders.

The leaderboard's pull-request check runs ``scripts/test_submission.py`` of
materialsproject/matbench with the ``matbench`` package of the same checkout. This module
builds a temporary tree laid out like that repository -- ``scripts/test_submission.py``,
``benchmarks/<each folder>`` (copies) and the ``matbench`` package on the import path -- and
runs the script there in a subprocess, so the folders are judged by the leaderboard's code,
not the suite's idea of it.

``checker`` is a clone of materialsproject/matbench (``scripts/test_submission.py``,
``matbench/``) or a folder holding ``test_submission.py`` and ``upstream/matbench/``. The
package needs ``matbench_v0.1_validation.json`` (44 MB, not in every copy; byte-identical in
the PyPI 0.6 wheel): it is taken from ``validation_json`` or from a ``matbench`` package on
``extra_path``. ``extra_path`` also provides what the package imports and the running Python
may lack (``matminer`` 0.7.4 works, installed with ``--no-deps``)::

    pip install --no-deps --target DIR matbench==0.6 matminer==0.7.4 six
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

VALIDATION = "matbench_v0.1_validation.json"
INSTALL_HINT = ("pip install --no-deps --target DIR matbench==0.6 matminer==0.7.4 six, then "
                "pass --check-path DIR")


class CheckerMissing(FileNotFoundError):
    """The leaderboard's check script, its package or its validation file is not at hand."""


@dataclass(frozen=True)
class CheckResult:
    """What the leaderboard's check said: ``passed`` and its full output."""

    passed: bool
    returncode: int
    output: str
    command: str


def find_checker(checker: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``(test_submission.py, matbench package dir)`` of a matbench clone or reference copy."""
    root = Path(checker)
    scripts = [root / "scripts" / "test_submission.py", root / "test_submission.py"]
    packages = [root / "matbench", root / "upstream" / "matbench"]
    script = next((p for p in scripts if p.is_file()), None)
    package = next((p for p in packages if (p / "bench.py").is_file()), None)
    if script is None or package is None:
        raise CheckerMissing(f"{root}: no scripts/test_submission.py and matbench/ package "
                             f"(clone https://github.com/materialsproject/matbench)")
    return script, package


def find_validation(package: Path, extra_path: Sequence[str | os.PathLike[str]],
                    validation_json: str | os.PathLike[str] | None) -> Path:
    candidates = [Path(validation_json)] if validation_json else []
    candidates += [package / VALIDATION] + [Path(p) / "matbench" / VALIDATION for p in extra_path]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise CheckerMissing(f"{VALIDATION} not found (looked in: "
                             f"{', '.join(map(str, candidates))}); {INSTALL_HINT}")
    return found


def run_upstream_check(
    folders: Sequence[str | os.PathLike[str]],
    checker: str | os.PathLike[str],
    *,
    extra_path: Sequence[str | os.PathLike[str]] = (),
    validation_json: str | os.PathLike[str] | None = None,
    timeout: float = 900,
) -> CheckResult:
    """Copy ``folders`` into ``benchmarks/`` of a temporary matbench-like tree and run the
    leaderboard's ``test_submission.py`` there (see the module docstring)."""
    script, package = find_checker(checker)
    validation = find_validation(package, extra_path, validation_json)
    with tempfile.TemporaryDirectory(prefix="matbench-check.") as tmp:
        root = Path(tmp)
        (root / "scripts").mkdir()
        shutil.copy2(script, root / "scripts" / "test_submission.py")
        site = root / "site"
        shutil.copytree(package, site / "matbench",
                        ignore=shutil.ignore_patterns("__pycache__", "tests"))
        if not (site / "matbench" / VALIDATION).exists():
            os.symlink(validation.resolve(), site / "matbench" / VALIDATION)
        for folder in folders:
            shutil.copytree(folder, root / "benchmarks" / Path(folder).name)
        path = [str(site), *map(str, extra_path)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "MPLBACKEND": "Agg",
               "PYTHONDONTWRITEBYTECODE": "1"}
        cmd = [sys.executable, "scripts/test_submission.py", "-v"]
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout)
    output = (proc.stdout + proc.stderr).replace(tmp, "<tmp>")
    return CheckResult(proc.returncode == 0, proc.returncode, output,
                       f"python scripts/test_submission.py -v  # {script}")
