"""The bulk of committed runs, restored from the repository's own history.

Nothing is rewritten in git: every file an archive holds is still in the commits before the
bulk left the tree (``reports/archives.json``: ``git_commit``). ``restore`` writes each
indexed file back from that commit (``git show``) and checks it against its sha256 in the
index, so a clone with its history needs no file host to get a run's per-fold results back
(and ``archive pack`` can then rebuild the archives to publish).
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Sequence
from pathlib import Path

from cloud.fileio import write_bytes_atomic


def restore(reports: Path, index: dict, commit: str | None = None,
            only: Sequence[str] | None = None) -> list[str]:
    """Write every indexed file of the runs (all, or ``only``) from ``commit`` (default: the
    run's own ``git_commit``, else the index's) into ``reports``; the runs restored. ``ValueError`` when a file
    differs from its indexed sha256, ``OSError`` when git cannot show it."""
    repo = _toplevel(reports)
    prefix = reports.resolve().relative_to(repo).as_posix()
    done = []
    for run, entry in index["runs"].items():
        if only and run not in only:
            continue
        # a run packed later names its own commit; the others share the index's
        run_commit = commit or entry.get("git_commit") or index.get("git_commit")
        if not run_commit:
            raise ValueError("the index names no git_commit holding the bulk; give git:COMMIT")
        renames = entry.get("git_renames", {})  # folders renamed since that commit
        for rel, digest in entry["files"].items():
            old = next((o + rel[len(n):] for n, o in renames.items() if rel.startswith(n)), rel)
            data = _show(repo, f"{run_commit}:{prefix}/{run}/{old}")
            if hashlib.sha256(data).hexdigest() != digest:
                raise ValueError(f"{run}/{rel} at {run_commit[:12]}: sha256 differs from the "
                                 "index")
            write_bytes_atomic(reports / run / rel, data)
        done.append(run)
    return done


def _toplevel(path: Path) -> Path:
    out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise OSError(f"{path} is not in a git checkout: {out.stderr.strip()}")
    return Path(out.stdout.strip()).resolve()


def _show(repo: Path, spec: str) -> bytes:
    out = subprocess.run(["git", "show", spec], cwd=repo, capture_output=True)
    if out.returncode != 0:
        raise OSError(f"git show {spec}: {out.stderr.decode().strip()} (a shallow clone lacks "
                      "the history: git fetch --unshallow)")
    return out.stdout
