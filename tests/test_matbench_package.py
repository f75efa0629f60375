"""The committed MatBench results files, loaded the way users of the real PyPI matbench 0.6
package load them (gzip files by the documented one-liner: 0.6's ``from_file`` reads plain
text only)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from benchmarks.reports.matbench_results import read_matbench_results, task_scores
from tests.matbench_package import matbench_load

REPO = Path(__file__).resolve().parents[1]


def committed_results() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "reports"], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout.split()
    return [REPO / f for f in out if Path(f).name.startswith("results")
            and f.endswith(".json.gz")]


def test_committed_results_load_in_matbench(tmp_path):
    paths = committed_results()
    # the submission folders of matbench_cpu (CLOUD) and matbench_gpu (CLOUD + 4 ablations);
    # gzip, loaded by the line the suite documents for matbench 0.6
    assert len(paths) >= 6
    for path, res in zip(paths, matbench_load(paths, tmp_path), strict=True):
        assert res["is_valid"] and res["is_recorded"], path
        ours = read_matbench_results(path)
        assert sorted(res["tasks"]) == sorted(ours["tasks"]), path
        scores = task_scores(ours)
        for task, got in res["tasks"].items():
            assert got["folds"] == [f"fold_{k}" for k in range(5)], (path, task)
            assert got["scores"].keys() == scores[task].keys()
            for metric, stats in got["scores"].items():
                assert stats == pytest.approx(scores[task][metric], rel=1e-12), (path, task)


def test_matbench_scores_are_the_leaderboards(tmp_path):
    """The MAE matbench computes from a run's results file is the run's summary.json MAE."""
    def run_summary(path: Path) -> Path | None:  # the run folder above a results file
        return next((p / "summary.json" for p in path.parents
                     if (p / "summary.json").exists()), None)

    checked = 0
    paths = [p for p in committed_results() if run_summary(p) is not None]
    for path, res in zip(paths, matbench_load(paths, tmp_path), strict=True):
        summary = json.loads(run_summary(path).read_text())
        model = read_matbench_results(path)["user_metadata"]["model"]
        for task, got in res["tasks"].items():
            ours = summary["tasks"][task]["models"][model]["summary"]["mae"]
            assert got["scores"]["mae"]["mean"] == pytest.approx(ours["mean"], rel=1e-12)
            assert got["scores"]["mae"]["std"] == pytest.approx(ours["std"], rel=1e-12)
            checked += 1
    assert checked >= 12
