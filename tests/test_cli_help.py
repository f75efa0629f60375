"""Every command-line entry point answers ``--help`` with a one-line purpose and an example.

``ENTRY_POINTS`` is the one list of them; ``test_every_entry_point_is_listed`` finds the
entry points in the tree (files with a ``__main__`` guard, ``__main__.py`` files, shell
scripts, ``[project.scripts]``) so that a new command without help text fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("cloud", "benchmarks", "baselines", "scripts", "cloud_bench")

# file -> (how to run it, without --help; the invocation its example must show)
ENTRY_POINTS: dict[str, tuple[list[str], str]] = {
    "cloud/scope/__main__.py": (["-m", "cloud.scope"], "python -m cloud.scope"),
    "cloud/scope/cli.py": (["-m", "cloud.scope.cli"], "python -m cloud.scope"),
    "cloud/scope/wyckoff.py": (["-m", "cloud.scope.wyckoff"], "python -m cloud.scope.wyckoff"),
    "cloud/train/pretrain.py": (["-m", "cloud.train.pretrain"], "python -m cloud.train.pretrain"),
    "cloud/train/corpus.py": (["-m", "cloud.train.corpus"], "python -m cloud.train.corpus"),
    "cloud/analysis/attention.py": (["-m", "cloud.analysis.attention"],
                                    "python -m cloud.analysis.attention"),
    "cloud/analysis/scaling_sweep.py": (["-m", "cloud.analysis.scaling_sweep"],
                                        "python -m cloud.analysis.scaling_sweep"),
    "benchmarks/regression.py": (["benchmarks/regression.py"],
                                 "python benchmarks/regression.py"),
    **{f"benchmarks/perf/{name}.py": ([f"benchmarks/perf/{name}.py"],
                                      f"python benchmarks/perf/{name}.py")
       for name in ("cluster_plan", "distributed_modes", "inference", "pymatgen_scope_loop", "scope_encoding", "smoke_resources",
                    "spglib_floor", "tokenize_collate", "train_throughput",
                    "pretrain_memory", "paper_projection")},
    "scripts/package_pretrained.py": (["scripts/package_pretrained.py"],
                                      "python scripts/package_pretrained.py"),
    "scripts/paper_size_run.py": (["scripts/paper_size_run.py"],
                                  "python scripts/paper_size_run.py"),
    "benchmarks/run.py": (["benchmarks/run.py"], "python benchmarks/run.py"),
    "cloud_bench/cli.py": (["-m", "cloud_bench.cli"], "cloud-bench run"),
    "benchmarks/score.py": (["benchmarks/score.py"], "python benchmarks/score.py"),
    "benchmarks/submit.py": (["benchmarks/submit.py"], "python benchmarks/submit.py"),
    "benchmarks/regression_spread.py": (["benchmarks/regression_spread.py"],
                                        "python benchmarks/regression_spread.py"),
    "cloud/debye/__main__.py": (["-m", "cloud.debye"], "python -m cloud.debye"),
    "cloud/predict.py": (["-m", "cloud.predict"], "python -m cloud.predict"),
    "cloud/embeddings/__main__.py": (["-m", "cloud.embeddings"], "python -m cloud.embeddings"),
    "cloud/embeddings/cli.py": (["-m", "cloud.embeddings.cli"], "python -m cloud.embeddings"),
    "benchmarks/run_probes.py": (["-m", "benchmarks.run_probes"],
                                 "python -m benchmarks.run_probes"),
    "benchmarks/reports/pretraining_value.py": (["-m", "benchmarks.reports.pretraining_value"],
                                                "python -m benchmarks.reports.pretraining_value"),
    "benchmarks/reports/compare.py": (["-m", "benchmarks.reports.compare"],
                                      "python -m benchmarks.reports.compare"),
    "benchmarks/reports/fold_devices.py": (["-m", "benchmarks.reports.fold_devices"],
                                           "python -m benchmarks.reports.fold_devices"),
    "benchmarks/reports/leaderboard_page.py": (["-m", "benchmarks.reports.leaderboard_page"],
                                               "python -m benchmarks.reports.leaderboard_page"),
    "cloud/train/corpus_fingerprint.py": (["-m", "cloud.train.corpus_fingerprint"],
                                          "python -m cloud.train.corpus_fingerprint"),
    "benchmarks/reports/archive.py": (["-m", "benchmarks.reports.archive"],
                                      "python -m benchmarks.reports.archive"),
    "benchmarks/reports/numbers.py": (["-m", "benchmarks.reports.numbers"],
                                      "python -m benchmarks.reports.numbers"),
    # not Python: run with bash
    "scripts/collect_run.sh": (["bash", "scripts/collect_run.sh"], "scripts/collect_run.sh"),
}

EXCLUDED: set[str] = set()  # entry points deliberately without a help check

MAIN_GUARD = re.compile(r"""^if __name__ == ["']__main__["']:""", re.M)


def find_entry_points(root: Path = REPO) -> set[str]:
    """Every file under SOURCE_DIRS that runs as a command."""
    found = set()
    for top in SOURCE_DIRS:
        for path in (root / top).rglob("*"):
            if not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            if path.suffix == ".py" and (path.name == "__main__.py"
                                         or MAIN_GUARD.search(path.read_text(encoding="utf-8"))):
                found.add(rel)
            elif path.suffix == ".sh":
                found.add(rel)
    return found


def project_scripts() -> dict[str, str]:
    """``[project.scripts]`` of pyproject.toml (name -> ``module:function``)."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    section = re.search(r"^\[project\.scripts\]\s*\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    lines = section.group(1) if section else ""
    return dict(re.findall(r'^([\w.-]+)\s*=\s*"([\w.]+:\w+)"', lines, re.M))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "100"
    return env


def _command(argv: list[str]) -> list[str]:
    return argv if argv[0] == "bash" else [sys.executable, *argv]


@cache
def help_outputs() -> dict[str, subprocess.CompletedProcess]:
    """``--help`` of every entry point, run a few at a time (each is a fresh interpreter)."""
    commands = {name: _command(argv) + ["--help"] for name, (argv, _) in ENTRY_POINTS.items()}
    for name, target in project_scripts().items():
        module, func = target.split(":")
        commands[f"[project.scripts] {name}"] = [
            sys.executable, "-c", f"import sys; from {module} import {func}; sys.exit({func}())",
            "--help"]

    def run(cmd):
        return subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True,
                              timeout=300)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(commands, pool.map(run, commands.values()), strict=True))


def check_help(text: str, invocation: str) -> list[str]:
    """What is wrong with a help text: [] when it starts with a usage line, then a one-line
    purpose, and has an ``Example`` section showing ``invocation``."""
    problems = []
    lines = text.splitlines()
    if not lines or not lines[0].startswith("usage:"):
        return [f"does not start with a usage line: {text[:200]!r}"]
    body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
    first = body.lstrip("\n").split("\n", 1)[0].strip()
    if (not first or first.startswith(("-", "positional arguments", "options", "``", "python"))
            or len(first) > 100 or not re.search(r"[a-z]{3,} [a-z]{2,}", first)):
        problems.append(f"no one-line purpose after the usage: {first!r}")
    example = re.search(r"^Examples?:\s*\n(.+)", text, re.M | re.S)
    if example is None:
        problems.append("no 'Example:' section")
    elif invocation not in example.group(1):
        problems.append(f"the example does not show {invocation!r}")
    return problems


def test_every_entry_point_is_listed():
    found = find_entry_points()
    missing = sorted(found - set(ENTRY_POINTS) - EXCLUDED)
    assert not missing, f"entry points without a help check (add them to ENTRY_POINTS): {missing}"
    gone = sorted(set(ENTRY_POINTS) - found)
    assert not gone, f"listed entry points not found in the tree: {gone}"


def test_entry_point_discovery_sees_a_new_command(tmp_path):
    """The finder picks up a script with a ``__main__`` guard, a package ``__main__`` and a
    shell script, and ignores a plain module."""
    (tmp_path / "cloud" / "pkg").mkdir(parents=True)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "cloud" / "tool.py").write_text('if __name__ == "__main__":\n    pass\n')
    (tmp_path / "cloud" / "plain.py").write_text("X = 1\n")
    (tmp_path / "cloud" / "pkg" / "__main__.py").write_text("print()\n")
    (tmp_path / "scripts" / "go.sh").write_text("echo\n")
    assert find_entry_points(tmp_path) == {"cloud/tool.py", "cloud/pkg/__main__.py",
                                           "scripts/go.sh"}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_help_has_purpose_and_example(name):
    proc = help_outputs()[name]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not check_help(proc.stdout, ENTRY_POINTS[name][1]), proc.stdout


def test_project_scripts_have_help():
    scripts = project_scripts()
    assert scripts, "pyproject.toml declares no [project.scripts]"
    for name, target in scripts.items():
        proc = help_outputs()[f"[project.scripts] {name}"]
        assert proc.returncode == 0, (name, target, proc.stderr[-2000:])
        # the console script runs the same parser; its example shows the module invocation
        problems = check_help(proc.stdout, "python -m")
        assert not problems, (name, problems, proc.stdout)


def test_check_help_rejects_bare_help():
    bare = "usage: tool.py [-h] --out OUT\n\noptions:\n  -h, --help  show this help message\n"
    assert len(check_help(bare, "python tool.py")) == 2
    good = ("usage: tool.py [-h]\n\nEncode crystal structures as strings.\n\noptions:\n"
            "  -h, --help\n\nExample:\n  python tool.py --out x.csv\n")
    assert check_help(good, "python tool.py") == []
    assert check_help(good, "python other.py") != []
