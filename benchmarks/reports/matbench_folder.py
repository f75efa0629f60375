"""A MatBench leaderboard submission folder, laid out as the leaderboard's CI checks it.

``scripts/test_submission.py`` of materialsproject/matbench requires, in every
``benchmarks/matbench_v0.1_<name>/``: ``info.json`` with ``notes`` and non-empty ``authors``,
``algorithm``, ``algorithm_long``, ``bibtex_refs``, ``requirements``; a ``results.json.gz``
that its ``MatbenchBenchmark.from_file`` (gzip for ``.gz`` names) loads and finds valid; at
least one ``*.py`` or ``*.ipynb``; no other file over 10 MB; algorithm names unique across the
board. The folders on the board (``benchmarks/reference/leaderboards/``) must not be reused,
by folder or algorithm name (compared without case).
"""

from __future__ import annotations

import csv
import gzip
import os
import warnings
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import metadata as importlib_metadata
from importlib import resources
from pathlib import Path
from typing import Any

from benchmarks.reports.matbench_results import (
    BENCHMARK_NAME,
    MATBENCH_VERSION,
    gzip_bytes,
    read_matbench_results,
)
from cloud.fileio import write_json_atomic, write_text_atomic

PathLike = str | os.PathLike[str]
INFO_FIELDS = ("authors", "algorithm", "algorithm_long", "bibtex_refs", "notes", "requirements")
MAX_FILE_MB = 10
EXISTING = "matbench_existing_submissions.tsv"
CLOUD_BIBTEX = (
    "@article{Xu2025CLOUD,\n"
    "  title = {CLOUD: A Scalable and Physics-Informed Foundation Model for Crystal"
    " Representation Learning},\n"
    "  author = {Xu, Changwen and Zhu, Shang and Viswanathan, Venkatasubramanian},\n"
    "  journal = {arXiv preprint arXiv:2506.17345},\n"
    "  year = {2025},\n"
    "  doi = {10.48550/arXiv.2506.17345}\n"
    "}"
)


@cache
def existing_submissions() -> dict[str, str]:
    """``{folder: algorithm}`` of the submissions on the board (see the vendored file's
    README for the commit)."""
    ref = resources.files("benchmarks.reference") / "leaderboards" / EXISTING
    with ref.open(encoding="utf-8") as fh:
        return {r["folder"]: r["algorithm"] for r in csv.DictReader(fh, delimiter="\t")}


def name_clash(folder: str, algorithm: str) -> str | None:
    """Why ``folder`` / ``algorithm`` cannot be submitted (an existing one's name), or None."""
    for have_folder, have_algo in existing_submissions().items():
        if folder.lower() == have_folder.lower():
            return f"folder {folder} exists on the board ({have_folder}, {have_algo!r})"
        if algorithm.lower() == have_algo.lower():
            return f"algorithm {algorithm!r} exists on the board ({have_folder})"
    return None


def _version(dist: str) -> str | None:
    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        return None


def default_requirements() -> dict[str, list[str]]:
    """``{"python": [...]}`` pinning the installed suite and its main dependencies, plus
    ``matbench==0.6`` (the version whose results format the file follows)."""
    pins = [f"matbench=={MATBENCH_VERSION}"]
    for dist in ("cloud-bench", "torch", "transformers", "numpy", "pandas", "scikit-learn"):
        v = _version(dist)
        if v:
            pins.append(f"{dist}=={v}")
    return {"python": pins}


def info_json(
    *,
    authors: str,
    algorithm: str = "CLOUD",
    algorithm_long: str = (
        "CLOUD: a BERT-style transformer pre-trained (masked language modelling) on SCOPE "
        "strings -- space-group generators, Wyckoff letters and compositions of ~6.3M OPTIMADE "
        "crystals -- and fine-tuned per task with an MLP head (arXiv 2506.17345)."
    ),
    bibtex_refs: str = CLOUD_BIBTEX,
    notes: str = "",
    requirements: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The ``info.json`` of a MatBench leaderboard submission (the six fields it requires)."""
    info = {
        "authors": authors,
        "algorithm": algorithm,
        "algorithm_long": algorithm_long,
        "bibtex_refs": bibtex_refs,
        "notes": notes,
        "requirements": dict(requirements) if requirements else default_requirements(),
    }
    empty = [k for k in INFO_FIELDS if k != "notes" and not info[k]]
    if empty:
        raise ValueError(f"info.json fields must not be empty: {empty}")
    if not 5 <= len(algorithm) <= 15:
        warnings.warn("matbench asks for a 5-15 character 'algorithm' name", stacklevel=2)
    return info


def submission_readme(name: str, commit: str, sources: Sequence[str]) -> str:
    """The README of a submission folder: which source files, at which commit, made it."""
    files = "\n".join(f"- `{s}`" for s in sources)
    shows = " && ".join(f"git show {commit}:{s} > {Path(s).name}" for s in sources)
    return (f"# {name}\n\n`results.json.gz` and `info.json` of a MatBench leaderboard "
            f"submission, made at commit `{commit}` of this repository by:\n\n{files}\n\n"
            f"To add those source files from that commit as well:\n\n```\n{shows}\n```\n")


def write_submission_folder(
    out_dir: PathLike,
    results_path: PathLike,
    info: Mapping[str, Any],
    commit: str,
    sources: Sequence[str] = ("benchmarks/run.py",),
    script: PathLike | None = None,
) -> Path:
    """Lay out ``matbench_v0.1_<name>/`` as the leaderboard's CI checks it: ``results.json.gz``
    (gzip of the bytes matbench's ``to_file`` writes; a plain source is gzipped, a gzip one
    copied), ``info.json``, ``script`` (the ``.py`` the CI requires: a small file that reruns
    the command) and a ``README.md`` naming the source files (repository paths) at
    ``commit``. The results are hash-checked first; returns ``out_dir``."""
    out = Path(out_dir)
    if not out.name.startswith(f"{BENCHMARK_NAME}_"):
        warnings.warn(f"matbench names folders {BENCHMARK_NAME}_<algorithm>", stacklevel=2)
    missing = [k for k in INFO_FIELDS if k not in info or (k != "notes" and not info[k])]
    if missing:
        raise ValueError(f"info is missing required fields: {missing}")
    read_matbench_results(results_path)
    bad = [s for s in sources if Path(s).suffix not in (".py", ".ipynb")]
    if not sources or bad or not commit:
        raise ValueError(f"need a commit and at least one .py or .ipynb source file "
                         f"(got {commit!r}, {list(sources)})")
    if script is None or Path(script).suffix not in (".py", ".ipynb"):
        raise ValueError(f"the leaderboard requires a .py or .ipynb in the folder (got {script})")
    out.mkdir(parents=True, exist_ok=True)
    raw = Path(results_path).read_bytes()
    (out / "results.json.gz").write_bytes(raw if raw[:2] == b"\x1f\x8b" else gzip_bytes(raw))
    write_json_atomic(out / "info.json", dict(info), indent=2, default=None, newline=True)
    write_text_atomic(out / "README.md", submission_readme(out.name, commit, sources))
    write_text_atomic(out / Path(script).name, Path(script).read_text())
    return out


def folder_problems(folder: PathLike) -> list[str]:
    """The leaderboard CI's checks of one folder, in the suite's own code (for machines that
    lack the CI's ``matbench``; :mod:`benchmarks.leaderboards.matbench_check` runs the real
    one): empty list when it would pass."""
    import json

    out = Path(folder)
    problems = []
    try:
        info = json.loads((out / "info.json").read_text())
    except (OSError, ValueError) as exc:
        return [f"info.json: {exc}"]
    problems += [f"info.json: {k} missing" for k in ("notes",) if k not in info]
    problems += [f"info.json: {k} empty" for k in INFO_FIELDS if k != "notes" and not info.get(k)]
    raw = (out / "results.json.gz").read_bytes() if (out / "results.json.gz").is_file() else b""
    if raw[:2] != b"\x1f\x8b":
        problems.append("results.json.gz: not gzip (gzip.open fails)")
    else:
        try:
            read_matbench_results(out / "results.json.gz")
            json.loads(gzip.decompress(raw))
        except ValueError as exc:
            problems.append(f"results.json.gz: {exc}")
    if not list(out.glob("*.py")) + list(out.glob("*.ipynb")):
        problems.append("no .py or .ipynb file")
    problems += [f"{p.name}: over {MAX_FILE_MB} MB" for p in out.iterdir()
                 if p.name != "results.json.gz" and p.stat().st_size / 1e6 > MAX_FILE_MB]
    if clash := name_clash(out.name, str(info.get("algorithm", ""))):
        problems.append(clash)
    return problems
