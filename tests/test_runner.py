"""The benchmark runner end to end on real data (smoke folds, tiny model)."""

from __future__ import annotations

import json

import pytest

from benchmarks.reports.summary import leaderboard_markdown
from benchmarks.run import main
from benchmarks.tasks import select
from benchmarks.tasks.matbench import MatbenchTask
from cloud.data import matbench_folds


def _offline(*args, **kwargs):
    raise OSError("network is unreachable (test)")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, shared_data):
    out = tmp_path_factory.mktemp("smoke")
    mp = pytest.MonkeyPatch()
    mp.setenv("CLOUD_CACHE_DIR", str(out / "cache"))
    mp.setattr("urllib.request.urlopen", _offline)
    code = main(["--task", "matbench_jdft2d,matbench_dielectric,matbench_mp_gap", "--smoke",
                 "--data-dir", str(shared_data), "--out", str(out / "run"), "--no-progress",
                 "--allow-skips"])
    yield code, out / "run", mp
    mp.undo()


def test_smoke_completes_and_skips_missing_data(smoke_run):
    code, out, _ = smoke_run
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    tasks = summary["tasks"]
    assert tasks["matbench_jdft2d"]["status"] == "done"
    assert tasks["matbench_jdft2d"]["coverage"] == "complete: 636 rows"
    assert tasks["matbench_dielectric"]["coverage"] == "partial: 4521 of 4764 rows"
    skipped = tasks["matbench_mp_gap"]
    assert skipped["status"] == "skipped"
    assert "matbench_mp_gap.json.gz" in skipped["reason"] and "https://" in skipped["reason"]
    for name in ("matbench_jdft2d", "matbench_dielectric"):
        for model in ("cloud", "dummy"):
            record = json.loads((out / name / model / "fold_0.json").read_text())
            assert record["n_train"] == 240 and record["n_test"] == 80
            assert set(record["metrics"]) >= {"mae", "rmse", "mape", "max_error"}
        assert (out / name / "parity_cloud.png").stat().st_size > 1000
    board = (out / "leaderboard.md").read_text()
    # a smoke run says so, with its rows and epochs, and sets no paper number beside its own
    assert board.startswith("# Leaderboard — SMOKE RUN, 240 train / 80 test rows, 2 epochs")
    assert "| **cloud** (this run, SMOKE RUN: 240 train / 80 test rows, 2 epochs;" in board
    assert "35.01 ± 11.46" not in board and "(paper)" not in board
    assert summary["run"]["label"].startswith("SMOKE RUN, 240 train / 80 test rows")
    cloud = tasks["matbench_jdft2d"]["models"]["cloud"]
    assert cloud["label"] == "SMOKE RUN: 240 train / 80 test rows, 2 epochs"
    # the same numbers as a full run's summary get the paper's rows beside them
    full = leaderboard_markdown({**summary, "run": {**summary["run"], "smoke": False}},
                                select("matbench_jdft2d,matbench_dielectric,matbench_mp_gap"))
    assert "35.01 ± 11.46" in full and "SMOKE" not in full  # the paper's CLOUD jdft2d row
    assert "partial: 4521 of 4764 rows" in board and "skipped" in board
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["git"]["commit"] and manifest["versions"]["torch"]
    assert any("matbench_jdft2d" in k for k in manifest["data"])
    assert not list(out.rglob("*.tmp"))


def test_finished_folds_are_reused_unless_forced(smoke_run, shared_data):
    _, out, _ = smoke_run
    fold = out / "matbench_jdft2d" / "cloud" / "fold_0.json"
    before = fold.read_text()
    stamp = fold.stat().st_mtime_ns
    args = ["--task", "matbench_jdft2d", "--smoke", "--data-dir", str(shared_data),
            "--out", str(out), "--no-progress", "--allow-skips"]
    assert main(args) == 0
    assert fold.stat().st_mtime_ns == stamp
    assert main([*args, "--force", "--models", "cloud"]) == 0
    assert fold.stat().st_mtime_ns != stamp
    # same seed, same data: the recomputed fold has the same metrics
    assert json.loads(fold.read_text())["metrics"] == json.loads(before)["metrics"]


def test_partial_task_keeps_official_folds(shared_data):
    data = MatbenchTask("dielectric").load(shared_data, progress=False)
    official = matbench_folds("matbench_dielectric")
    for ours, theirs in zip(data.folds, official, strict=True):
        assert set(ours.test) <= set(theirs.test) and set(ours.train) <= set(theirs.train)
        assert not set(ours.train) & set(ours.test)
    assert sum(len(f.test) for f in data.folds) == len(data.ids) == 4521


def test_task_selection():
    assert len(select("matbench")) == 13  # all of MatBench v0.1
    assert [t.name for t in select("matbench_jdft2d")] == ["matbench_jdft2d"]
    assert len(select("all")) >= 13
    with pytest.raises(ValueError, match="unknown task"):
        select("matbench_nope")
