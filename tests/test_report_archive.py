"""The bulk of committed runs moves to one archive per run and comes back intact
(``benchmarks.reports.archive``). The runs here are synthetic: small folders written by the
tests, shaped like a real run (summary, leaderboard, manifest, fold files, a training work
folder, a figure a Markdown file shows and one it does not)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from benchmarks.reports import archive
from cloud.data import sha256sum

REPO = Path(__file__).resolve().parents[1]

BULK = ["cv/cloud/fold_0.json", "cv/cloud/fold_1.json", "cv/cloud/fold_0_train/metrics.csv",
        "cv/cloud/fold_0_train/trainer_state.json", "cv/parity_cloud.png",
        "cv/analysis/curves.csv"]
KEPT = ["summary.json", "leaderboard.md", "manifest.json", "README.md", "cv/analysis/fig.png",
        "cv/analysis/analysis.json", "matbench/matbench_v0.1_CLOUD/info.json",
        "matbench/matbench_v0.1_CLOUD/results.json.gz"]


def synthetic_repo(root: Path) -> Path:
    """A repository with one synthetic run ``toy`` under ``reports/``; returns ``reports``."""
    reports = root / "reports"
    for i, rel in enumerate(BULK + KEPT):
        path = reports / "toy" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"synthetic {rel} {i}\n".encode() * (i + 1))
    (reports / "toy" / "README.md").write_text("A toy run: ![fig](cv/analysis/fig.png)\n")
    (root / "docs").mkdir()
    (root / "docs" / "results.md").write_text("See `reports/toy/summary.json`.\n")
    return reports


def tree(reports: Path) -> dict[str, str]:
    return {p.relative_to(reports).as_posix(): sha256sum(p)
            for p in sorted(reports.rglob("*")) if p.is_file()}


def test_pack_prune_fetch_gives_back_every_file(tmp_path):
    reports = synthetic_repo(tmp_path)
    before = tree(reports)
    out = tmp_path / "archives"
    index = archive.pack(reports, out)
    entry = index["runs"]["toy"]
    assert sorted(entry["files"]) == sorted(BULK)
    assert entry["n_files"] == len(BULK) and entry["url"] is None
    assert entry["published"] == archive.NOT_PUBLISHED
    assert entry["sha256"] == sha256sum(out / "toy.bulk.tar.gz")
    assert entry["size"] == (out / "toy.bulk.tar.gz").stat().st_size

    archive.prune(reports)
    left = tree(reports)
    assert sorted(left) == sorted(["archives.json", *(f"toy/{k}" for k in KEPT)])
    assert not (reports / "toy" / "cv" / "cloud").exists()  # emptied folders go too
    assert archive.verify(reports) == [f"toy/{rel}: missing" for rel in entry["files"]]

    assert archive.fetch(reports, str(out)) == ["toy"]
    assert tree(reports) == {**before, "archives.json": left["archives.json"]}
    assert archive.verify(reports) == [] and archive.verify(reports, str(out)) == []


def test_packing_twice_gives_the_same_bytes(tmp_path):
    reports = synthetic_repo(tmp_path)
    first = archive.pack(reports, tmp_path / "a")["runs"]["toy"]["sha256"]
    assert archive.pack(reports, tmp_path / "b")["runs"]["toy"]["sha256"] == first


def test_a_doctored_archive_is_refused_before_anything_is_unpacked(tmp_path):
    reports = synthetic_repo(tmp_path)
    out = tmp_path / "archives"
    archive.pack(reports, out)
    archive.prune(reports)
    path = out / "toy.bulk.tar.gz"
    with tarfile.open(path, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(path, "w:gz") as tar:  # same names, one file changed
        for member, data in members:
            data = b"doctored\n" if member.name.endswith("fold_0.json") else data
            member.size = len(data)
            tar.addfile(member, __import__("io").BytesIO(data))
    with pytest.raises(ValueError, match="sha256"):
        archive.fetch(reports, str(out))
    assert not (reports / "toy" / "cv" / "cloud" / "fold_0.json").exists()
    assert archive.main(["verify", "--reports", str(reports), "--from", str(out)]) == 1


def test_fetch_without_a_source_says_the_archive_is_not_published(tmp_path, capsys):
    reports = synthetic_repo(tmp_path)
    archive.pack(reports, tmp_path / "archives")
    assert archive.main(["fetch", "--reports", str(reports)]) == 1
    assert "not yet published" in capsys.readouterr().err


def test_a_changed_file_is_not_pruned(tmp_path):
    reports = synthetic_repo(tmp_path)
    archive.pack(reports, tmp_path / "archives")
    changed = reports / "toy" / "cv" / "cloud" / "fold_1.json"
    changed.write_text("rewritten after packing\n")
    archive.prune(reports)
    assert changed.exists() and not (reports / "toy" / "cv" / "cloud" / "fold_0.json").exists()


def test_the_committed_reports_hold_summaries_not_bulk():
    """reports/ in this checkout: under 400 files and 15 MB besides bulk fetched back, and
    every indexed archive lists a run that is here."""
    reports = REPO / "reports"
    index = json.loads((reports / archive.INDEX_NAME).read_text())
    fetched = {reports / run / rel for run, e in index["runs"].items() for rel in e["files"]}
    files = [p for p in reports.rglob("*") if p.is_file() and p not in fetched
             and not archive._ignored(p.relative_to(reports))]
    assert len(files) < 400
    assert sum(p.stat().st_size for p in files) < 15e6
    assert all((reports / run / "manifest.json").exists() or (reports / run).is_dir()
               for run in index["runs"])
    for run, entry in index["runs"].items():
        assert entry["archive"] == f"{run}{archive.SUFFIX}" and len(entry["sha256"]) == 64
        assert entry["n_files"] == len(entry["files"])
        assert entry["url"] is None or entry["url"].startswith("https://")


def test_a_fetched_run_regenerates_its_summary(shared_data, tmp_path):
    """A real (smoke-sized) run of the baselines on jdft2d: packed, pruned to what git keeps,
    fetched back, and ``--report-only`` rebuilds the same scores from the fetched folds."""
    from benchmarks.run import main

    reports = tmp_path / "reports"
    argv = ["--task", "matbench_jdft2d", "--smoke", "--models", "dummy,composition_rf",
            "--data-dir", str(shared_data), "--no-progress", "--out", str(reports / "run")]
    assert main(argv) == 0
    scores = json.loads((reports / "run" / "summary.json").read_text())["tasks"]
    archive.pack(reports, tmp_path / "archives", markdown=[])
    archive.prune(reports)
    assert not list((reports / "run").rglob("fold_*.json"))
    archive.fetch(reports, str(tmp_path / "archives"))
    (reports / "run" / "summary.json").unlink()
    assert main([*argv, "--report-only"]) == 0
    again = json.loads((reports / "run" / "summary.json").read_text())["tasks"]
    for model in ("dummy", "composition_rf"):
        assert (again["matbench_jdft2d"]["models"][model]["summary"]
                == scores["matbench_jdft2d"]["models"][model]["summary"])


def test_the_committed_bulk_comes_back_from_git_history():
    """``fetch --from git``: every file of a committed run's bulk, from the commit the index
    names, each matching its indexed sha256; pruned again afterwards (real repository)."""
    import subprocess

    reports = archive.REPORTS
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=reports,
                             capture_output=True, text=True)
    if shallow.returncode != 0 or shallow.stdout.strip() == "true":
        pytest.skip("needs a git checkout with its history")
    runs = ["gpu_runs", "scaling_gpu"]  # the two smallest committed runs
    index = archive.load_index(reports)
    try:
        assert archive.fetch(reports, "git", runs) == runs
        assert archive.verify(reports, None, runs) == []
        for run in runs:
            for rel, digest in index["runs"][run]["files"].items():
                assert sha256sum(reports / run / rel) == digest
    finally:
        archive.prune(reports, runs)
    assert all(not (reports / run / rel).exists()
               for run in runs for rel in index["runs"][run]["files"])
