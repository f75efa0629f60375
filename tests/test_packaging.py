"""``pip install -e ".[test]"`` installs what the tests and tox need."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"cloud", "benchmarks", "baselines", "cloud_bench", "tests"}
# import name -> distribution name, where they differ
DISTRIBUTIONS = {"sklearn": "scikit-learn", "yaml": "pyyaml"}
# installed by the tests themselves (``pip install --no-deps --target``, see conftest.pip_target)
FETCHED_BY_TESTS = {"matbench", "matbench_discovery"}


def _names(requirements: str) -> set[str]:
    """Distribution names of a TOML list of requirement strings."""
    specs = re.findall(r'"([^"]+)"', re.sub(r"#[^\n]*", "", requirements))
    return {re.split(r"[<>=!~\[; ]", s, maxsplit=1)[0].lower() for s in specs}


def declared() -> tuple[set[str], set[str]]:
    """(runtime dependencies, the ``test`` extra) of pyproject.toml."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    runtime = re.search(r"^dependencies = \[(.*?)^\]", text, re.M | re.S)
    test = re.search(r"^test = \[(.*?)\]", text, re.M | re.S)
    assert runtime and test, "pyproject.toml: dependencies or the test extra not found"
    return _names(runtime.group(1)), _names(test.group(1))


def imported_by(paths) -> set[str]:
    """Top-level names of the modules imported anywhere in ``paths`` (absolute imports)."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def undeclared(imports: set[str], installed: set[str]) -> set[str]:
    third_party = imports - FIRST_PARTY - FETCHED_BY_TESTS - set(sys.stdlib_module_names)
    return {DISTRIBUTIONS.get(n, n).lower() for n in third_party} - installed


def test_test_imports_are_installed_by_the_test_extra():
    runtime, test = declared()
    missing = undeclared(imported_by(sorted((REPO / "tests").glob("*.py"))), runtime | test)
    assert not missing, f"imported by tests, not in dependencies or the test extra: {missing}"


def test_test_extra_has_the_tools():
    """pytest runs the tests, tox the environments of tox.ini, ruff its lint environment."""
    _, test = declared()
    assert {"pytest", "tox", "ruff"} <= test
    assert "matbench" not in test  # needs --no-deps: the tests fetch it themselves


def test_undeclared_finds_a_missing_package():
    assert undeclared({"os", "numpy", "sklearn", "cloud", "tomli"},
                      {"numpy", "scikit-learn"}) == {"tomli"}


def test_ray_is_an_optional_extra_that_the_tests_install():
    """``pip install -e ".[ray]"`` adds the ray executor; the test extra has it, so CI runs
    its tests; a plain install does not need it."""
    runtime, test = declared()
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    extra = re.search(r"^ray = \[(.*?)\]", text, re.M | re.S)
    assert extra and _names(extra.group(1)) == {"ray"}
    assert "ray" in test and "ray" not in runtime
