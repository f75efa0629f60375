"""Committed runs keep their summaries in git; their bulk lives in one archive per run.

A run under ``reports/`` (one top-level folder) keeps what a reader needs: ``summary.json``,
``leaderboard.md``, ``manifest.json``, READMEs and other Markdown, config files, small
analysis summaries, the MatBench submission folders (results file and ``info.json``) and
every file a Markdown file of the repository links to or names. Everything else — per-fold
predictions ``fold_<k>.json``, training work folders, learning curves, per-fold figures and
tables — is its *bulk*: ``pack`` writes it to ``<out>/<run>.bulk.tar.gz`` (reproducible: the
same files give the same bytes) and records in ``reports/archives.json`` the archive's name,
sha256, size, file count, where it is published (``url``) and the sha256 of every file in
it. ``prune`` then deletes the bulk from the tree; ``fetch`` brings it back from a folder or
a URL, checks the archive's sha256, unpacks it in place and checks every file; ``verify``
checks archives in a folder, or the unpacked files in the tree, against the index. With a
run's fold files back, ``benchmarks/run.py --report-only --out reports/<run>`` regenerates
its summary.

Example:
  python -m benchmarks.reports.archive pack --out dist/report-archives
  python -m benchmarks.reports.archive fetch --from dist/report-archives --run phonon_cpu
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

from cloud.data import sha256sum
from cloud.fileio import write_json_atomic

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports"
INDEX_NAME = "archives.json"
DEFAULT_OUT = Path("dist/report-archives")
SUFFIX = ".bulk.tar.gz"
NOT_PUBLISHED = "not yet published"

# what a run keeps in git besides its own top-level figures, whatever the Markdown says
KEEP_NAMES = frozenset({
    "summary.json", "leaderboard.md", "manifest.json", "info.json", "results.json.gz",
    "analysis.json", "input_errors.csv", "fit.json", "ensemble.json", "overlap.json",
    "data.json", "element_rarity.csv",
})
KEEP_SUFFIXES = (".md", ".yaml", ".yml", ".sh", ".txt")
# attention reports; a leaderboard submission folder's generated rerun script
KEEP_PATTERNS = (re.compile(r"attention_[\w-]+\.json$"), re.compile(r"^run_[\w.-]+\.py$"))
# fold files a test reads (tests/test_element_rarity.py checks a claim of docs/training.md on
# the 5-fold predictions of these two models)
KEEP_PATHS = tuple(f"phonon_log_cpu/cv/{model}/fold_{k}.json"
                   for model in ("cloud_debye_scratch_log", "debye_rf") for k in range(5))
PATH_TOKEN = re.compile(r"[\w./-]+\.(?:png|csv|json|gz|txt|sh|yaml|yml|md)\b")


def markdown_files(repo: Path = REPO) -> list[Path]:
    """The Markdown files whose links and named files a run keeps."""
    docs = sorted((repo / "docs").glob("*.md")) if (repo / "docs").is_dir() else []
    top = [repo / "README.md"] if (repo / "README.md").exists() else []
    return top + docs + sorted((repo / "reports").rglob("*.md"))


def referenced_files(reports: Path, markdown: Iterable[Path]) -> set[Path]:
    """Files under ``reports`` (relative to it) that a Markdown file links to or names: a
    name is looked up beside the Markdown file, under ``reports/`` and under the repository
    root."""
    found: set[Path] = set()
    reports = reports.resolve()
    for md in markdown:
        text = md.read_text(encoding="utf-8")
        for token in set(PATH_TOKEN.findall(text)):
            for base in (md.parent, reports, reports.parent):
                candidate = (base / token).resolve()
                if candidate.is_file() and candidate.is_relative_to(reports):
                    found.add(candidate.relative_to(reports))
    return found


def is_kept(path: Path, referenced: set[Path]) -> bool:
    """Whether a file (relative to ``reports/``) stays in git."""
    name = path.name
    if path.as_posix() in KEEP_PATHS or (len(path.parts) == 2 and path.suffix == ".png"):
        return True  # a file a test reads; a run's own figures (not a task's or a fold's)
    if path in referenced or name in KEEP_NAMES or name.endswith(KEEP_SUFFIXES):
        return "_train" not in "/".join(path.parts)  # a work folder is bulk, all of it
    return any(p.search(name) for p in KEEP_PATTERNS)


def runs(reports: Path) -> list[str]:
    return sorted(p.name for p in reports.iterdir() if p.is_dir())


def bulk_files(reports: Path, run: str, referenced: set[Path]) -> list[Path]:
    """The files of ``run`` that go into its archive, relative to ``reports``, sorted."""
    root = reports / run
    return sorted(p.relative_to(reports) for p in root.rglob("*")
                  if p.is_file() and not is_kept(p.relative_to(reports), referenced)
                  and not _ignored(p))


def _ignored(path: Path) -> bool:
    """Files git does not carry anyway (saved fold models, caches)."""
    return any(part.endswith("_model") or part == "__pycache__" for part in path.parts)


def write_archive(reports: Path, files: Sequence[Path], dest: Path) -> None:
    """A reproducible ``.tar.gz``: sorted members, no owners, times or gzip time stamp."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in files:
            data = (reports / rel).read_bytes()
            info = tarfile.TarInfo(rel.as_posix())
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                               filename="") as gz:
        gz.write(buffer.getvalue())
    tmp.replace(dest)


def load_index(reports: Path) -> dict:
    import json

    path = reports / INDEX_NAME
    if not path.exists():
        return {"about": ABOUT, "runs": {}}
    return json.loads(path.read_text())


ABOUT = ("The bulk of each committed run (per-fold predictions, training work folders, "
         "curves, per-fold figures) lives outside git in <run>.bulk.tar.gz; "
         "`python -m benchmarks.reports.archive fetch --from DIR_OR_URL` brings it back "
         "and checks every file against the sha256 listed here.")


def pack(reports: Path, out: Path, only: Sequence[str] | None = None,
         markdown: Iterable[Path] | None = None) -> dict:
    """Archive the bulk of each run (all, or ``only``) into ``out`` and index it."""
    referenced = referenced_files(reports, markdown if markdown is not None
                                  else markdown_files(reports.parent))
    index = load_index(reports)
    for run in only or runs(reports):
        files = bulk_files(reports, run, referenced)
        if not files:
            continue
        name = f"{run}{SUFFIX}"
        write_archive(reports, files, out / name)
        previous = index["runs"].get(run, {})
        entry = {"archive": name, "sha256": sha256sum(out / name),
                 "size": (out / name).stat().st_size, "n_files": len(files),
                 "url": None, "published": NOT_PUBLISHED,
                 "files": {rel.relative_to(run).as_posix(): sha256sum(reports / rel)
                           for rel in files}}
        if previous.get("sha256") == entry["sha256"] and previous.get("url"):
            entry.update(url=previous["url"], published=previous["published"])
        index["runs"][run] = entry
    index["runs"] = dict(sorted(index["runs"].items()))
    write_json_atomic(reports / INDEX_NAME, index, newline=True)
    return index


def prune(reports: Path, only: Sequence[str] | None = None) -> list[Path]:
    """Delete from the tree the indexed bulk files whose checksum matches the index (a file
    changed since ``pack`` stays)."""
    removed = []
    for run, entry in load_index(reports)["runs"].items():
        if only and run not in only:
            continue
        for rel, digest in entry["files"].items():
            path = reports / run / rel
            if path.is_file() and sha256sum(path) == digest:
                path.unlink()
                removed.append(path)
        for folder in sorted((reports / run).rglob("*"), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    return removed


def _obtain(source: str | None, entry: dict, cache: Path) -> Path:
    """The archive of an index entry from a folder or a base URL (``source``), else from the
    entry's own ``url``; a download goes into ``cache``."""
    name = entry["archive"]
    url = (f"{source.rstrip('/')}/{name}" if source and re.match(r"^[a-z][a-z0-9+.-]*://",
                                                                   source)
           else entry.get("url") if source is None else None)
    if source is None and url is None:
        raise FileNotFoundError(f"{name}: {entry.get('published', NOT_PUBLISHED)}; "
                                f"give --from DIR_OR_URL")
    if url is not None:
        cache.mkdir(parents=True, exist_ok=True)
        dest = cache / name
        with urllib.request.urlopen(url) as resp, open(dest, "wb") as fh:
            shutil.copyfileobj(resp, fh)
        return dest
    path = Path(source) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such archive")
    return path


def check_archive(path: Path, entry: dict) -> None:
    digest = sha256sum(path)
    if digest != entry["sha256"]:
        raise ValueError(f"{path.name}: sha256 {digest} differs from the index's "
                         f"{entry['sha256']}")


def check_files(reports: Path, run: str, entry: dict) -> list[str]:
    """The indexed files of ``run`` that are missing or differ, as messages."""
    problems = []
    for rel, digest in entry["files"].items():
        path = reports / run / rel
        if not path.is_file():
            problems.append(f"{run}/{rel}: missing")
        elif sha256sum(path) != digest:
            problems.append(f"{run}/{rel}: sha256 differs")
    return problems


def _extract(tar: tarfile.TarFile, members: list, dest: Path) -> None:
    """Members already checked to be plain files of the run; the ``data`` filter where this
    Python has it refuses anything else again."""
    try:
        tar.extractall(dest, members=members, filter="data")
    except TypeError:  # Python without extraction filters
        tar.extractall(dest, members=members)  # noqa: S202


def fetch(reports: Path, source: str | None, only: Sequence[str] | None = None) -> list[str]:
    """Unpack the archives of the indexed runs (all, or ``only``) from ``source`` (a folder
    or a base URL; ``None``: each archive's published ``url``) into ``reports``, each checked
    first as a whole and then file by file. ``git`` or ``git:COMMIT``: restore the files from
    the repository's history instead (:mod:`benchmarks.reports.archive_history`)."""
    index = load_index(reports)
    unknown = sorted(set(only or []) - set(index["runs"]))
    if unknown:
        raise KeyError(f"no archive indexed for {unknown}; indexed: {sorted(index['runs'])}")
    if source is not None and (source == "git" or source.startswith("git:")):
        from benchmarks.reports.archive_history import restore

        return restore(reports, index, source.partition(":")[2] or None, only)
    done = []
    with tempfile.TemporaryDirectory() as cache:
        for run, entry in index["runs"].items():
            if only and run not in only:
                continue
            path = _obtain(source, entry, Path(cache))
            check_archive(path, entry)
            expected = {f"{run}/{rel}" for rel in entry["files"]}
            with tarfile.open(path, "r:gz") as tar:
                members = tar.getmembers()
                bad = [m.name for m in members if not m.isfile() or m.name not in expected]
                if bad:
                    raise ValueError(f"{path.name}: unexpected members {bad[:5]}")
                _extract(tar, members, reports)
            problems = check_files(reports, run, entry)
            if problems:
                raise ValueError("; ".join(problems[:5]))
            done.append(run)
    return done


def verify(reports: Path, source: str | None = None, only: Sequence[str] | None = None
           ) -> list[str]:
    """Problems found: with ``source`` (a folder or base URL), its archives against the
    index; without, the unpacked files in ``reports`` against it."""
    problems = []
    for run, entry in load_index(reports)["runs"].items():
        if only and run not in only:
            continue
        if source is None:
            problems += check_files(reports, run, entry)
            continue
        try:
            with tempfile.TemporaryDirectory() as cache:
                check_archive(_obtain(source, entry, Path(cache)), entry)
        except (OSError, ValueError) as exc:
            problems.append(str(exc))
    return problems


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.reports.archive",
        description="Keep the bulk of committed runs outside git: pack, prune, fetch, verify.",
        epilog="Example:\n"
               "  python -m benchmarks.reports.archive pack --out dist/report-archives\n"
               "  python -m benchmarks.reports.archive prune\n"
               "  python -m benchmarks.reports.archive fetch --from dist/report-archives "
               "--run phonon_cpu\n"
               "  python -m benchmarks.reports.archive fetch --from git --run phonon_cpu\n"
               "  python -m benchmarks.reports.archive verify --from dist/report-archives",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=("pack", "prune", "fetch", "verify"))
    p.add_argument("--reports", type=Path, default=REPORTS, help="the reports folder")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"pack: where archives are written (default: {DEFAULT_OUT})")
    p.add_argument("--from", dest="source", default=None,
                   help="fetch/verify: a folder or URL holding <run>.bulk.tar.gz; fetch "
                        "also takes 'git' (the index's git_commit) or git:COMMIT: the files "
                        "from the repository's history")
    p.add_argument("--run", action="append", default=None,
                   help="only this run (a folder of reports/); repeat for several")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "pack":
        index = pack(args.reports, args.out, args.run)
        for run, e in index["runs"].items():
            if args.run and run not in args.run:
                continue
            print(f"{run}: {e['n_files']} files -> {args.out / e['archive']} "
                  f"({e['size'] / 1e6:.1f} MB, sha256 {e['sha256'][:12]})")
        return 0
    if args.command == "prune":
        print(f"removed {len(prune(args.reports, args.run))} bulk files")
        return 0
    if args.command == "fetch":
        print(f"unpacked and checked: {', '.join(fetch(args.reports, args.source, args.run))}")
        return 0
    problems = verify(args.reports, args.source, args.run)
    for line in problems:
        print(line, file=sys.stderr)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
