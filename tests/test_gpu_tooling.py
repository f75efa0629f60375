"""Tooling for full runs on GPUs: the planned wall time on a node of several
(benchmarks/perf/cluster_plan.py; the runs themselves: --executor ray, tests/test_ray_*.py),
CLOUD_GIT_COMMIT in run manifests, the runner's --report-only and extra (original-split)
folds, and the scaling sweep's --no-fit."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
from itertools import islice

import pytest

from tests.conftest import REPO, shared_file


def _offline(*args, **kwargs):
    raise OSError("network is unreachable (test)")


# --- benchmarks/perf/cluster_plan.py: the planned wall time on a node of GPUs ------------

LANES_TABLE = """job                                      status         rc   start   time_s
cv.cloud_debye.f0                        ok              0     0.0    100.0
cv.cloud_debye.f1                        ok              0     0.0    300.0
cv.cloud.f0                              ok              0     5.5    200.0
u.cloud.f0                               killed        -15   331.8    133.8
u.cloud.f1                               not_started                         (--stop-at)
"""


def test_cluster_plan_from_job_tables():
    from benchmarks.perf.cluster_plan import job_durations, plan_table, task_wall

    durations = job_durations([LANES_TABLE])
    assert durations == {"cv": [100.0, 300.0, 200.0]}  # finished jobs only
    # 12 jobs of median 200 s on 1 GPU x 4 slots: 600 s; on 8 GPUs the longest job bounds it
    assert task_wall(12, durations["cv"], 1, 4) == 600.0
    assert task_wall(12, durations["cv"], 8, 4) == 300.0
    table, totals = plan_table({"cv": 12, "u": 6}, durations, [1, 8], 4)
    assert totals == {1: 600.0, 8: 300.0}
    lines = table.splitlines()
    assert lines[2] == "| cv | 12 | 200 | 300 | 10.0 | 5.0 |"
    assert lines[3].startswith("| u | 6 | not measured |")


def test_cluster_plan_across_tasks_fills_the_slots_at_task_boundaries():
    from benchmarks.perf.cluster_plan import plan_table, run_wall

    durations = {"cv": [100.0, 300.0, 200.0], "u": [100.0, 300.0, 200.0]}
    jobs = {"cv": 12, "u": 12}
    _, totals = plan_table(jobs, durations, [8], 4)
    assert totals == {8: 600.0}  # task after task: each waits for its longest job
    assert run_wall(jobs, durations, 8, 4) == 300.0  # one call: the longest job bounds it
    assert run_wall(jobs, durations, 1, 4) == 1200.0 == plan_table(jobs, durations, [1], 4)[1][1]


def test_cluster_plan_counts_the_configured_cloud_jobs():
    from benchmarks.perf.cluster_plan import planned_jobs

    jobs = planned_jobs()
    assert jobs["matbench_jdft2d"] == 5 * 5  # cloud and its 4 input ablations, 5 folds
    assert jobs["cv"] == 7 * 6  # 3 CLOUD(-DEBYE) models + 4 ablations, 6 folds
    assert jobs["discovery_wbm"] == 5 * 1


# --- cloud/manifest.py ----------------------------------------------------------------------


def test_git_state_from_env(monkeypatch):
    from cloud.manifest import ENV_COMMIT, build_manifest, git_state

    assert ENV_COMMIT == "CLOUD_GIT_COMMIT"
    monkeypatch.setenv("CLOUD_GIT_COMMIT", "0123456789abcdef")
    state = git_state()
    assert state == {"commit": "0123456789abcdef", "dirty": None, "source": "CLOUD_GIT_COMMIT"}
    assert build_manifest()["git"]["commit"] == "0123456789abcdef"


def test_git_state_from_repo(monkeypatch):
    from cloud.manifest import git_state

    monkeypatch.delenv("CLOUD_GIT_COMMIT", raising=False)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                          text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    state = git_state()
    assert state["commit"] == head.stdout.strip() and len(state["commit"]) == 40
    assert isinstance(state["dirty"], bool) and "source" not in state
    monkeypatch.setenv("CLOUD_GIT_COMMIT", "")  # empty: not set
    assert git_state()["commit"] == head.stdout.strip()


# --- benchmarks/run.py: extra folds and --report-only ---------------------------------------

EXTRA = "original train/test split (fold 5)"


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory, shared_data):
    from benchmarks.run import main

    root = tmp_path_factory.mktemp("cv_report")
    mp = pytest.MonkeyPatch()
    mp.setenv("CLOUD_CACHE_DIR", str(root / "cache"))
    mp.setattr("urllib.request.urlopen", _offline)
    out = root / "run"
    argv = ["--task", "cv", "--smoke", "--data-dir", str(shared_data), "--models",
            "cloud_debye,dummy", "--folds", "0,5", "--out", str(out), "--no-progress"]
    code = main(argv)
    yield code, out, argv, main
    mp.undo()


def test_extra_fold_is_reported_apart(cv_run):
    from benchmarks.tasks import select

    assert select("cv")[0].extra_folds == {5: "original train/test split"}
    assert select("matbench_jdft2d")[0].extra_folds == {}
    code, out, _, _ = cv_run
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    import torch

    here = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    for k in (0, 5):  # each fold names what it trained on (reports may be written elsewhere)
        assert json.loads((out / "cv" / "cloud_debye" / f"fold_{k}.json").read_text())[
            "device"] == here
    assert summary["tasks"]["cv"]["models"]["cloud_debye"]["trained_on"] == [here]
    for name in ("cloud_debye", "dummy"):
        entry = summary["tasks"]["cv"]["models"][name]
        assert entry["n_folds"] == 1 and list(entry["folds"]) == ["0"], name
        fold0 = json.loads((out / "cv" / name / "fold_0.json").read_text())["metrics"]
        fold5 = json.loads((out / "cv" / name / "fold_5.json").read_text())["metrics"]
        assert entry["summary"]["mae_over_mad"]["mean"] == pytest.approx(fold0["mae_over_mad"])
        assert entry["extra_folds"] == {EXTRA: fold5}
        assert "missing_folds" not in entry and "only folds" not in entry["description"]
    board = (out / "leaderboard.md").read_text()
    line = next(ln for ln in board.splitlines() if "`cv` cloud_debye," in ln)
    assert EXTRA in line and "not in the mean" in line
    assert "(1 folds)" in board


def test_report_only_trains_nothing(cv_run):
    _, out, argv, main = cv_run
    debye, dummy = out / "cv" / "cloud_debye", out / "cv" / "dummy"
    fold0, fold5 = debye / "fold_0.json", debye / "fold_5.json"
    kept0 = fold0.read_text()
    stamp = fold5.stat().st_mtime_ns
    fold0.unlink()
    (dummy / "fold_0.json").unlink()
    assert main([*argv, "--report-only"]) == 0
    assert not fold0.exists()  # no CLOUD training
    assert fold5.stat().st_mtime_ns == stamp
    assert (dummy / "fold_0.json").exists()  # the baselines still run
    summary = json.loads((out / "summary.json").read_text())
    models = summary["tasks"]["cv"]["models"]
    entry = models["cloud_debye"]
    assert entry["missing_folds"] == [0]
    assert entry["description"].endswith("; only folds [5] of [0, 5] finished")
    # only the extra fold is left: the model is summarised over it, not as an extra fold
    assert entry["n_folds"] == 1 and list(entry["folds"]) == ["5"]
    assert "extra_folds" not in entry
    assert entry["summary"]["mae_over_mad"]["mean"] == pytest.approx(
        json.loads(fold5.read_text())["metrics"]["mae_over_mad"])
    assert "missing_folds" not in models["dummy"] and EXTRA in models["dummy"]["extra_folds"]

    # a missing extra fold alone is not named as unfinished
    fold5.unlink()
    fold0.write_text(kept0)
    assert main([*argv, "--report-only"]) == 0
    entry = json.loads((out / "summary.json").read_text())["tasks"]["cv"]["models"][
        "cloud_debye"]
    assert entry["missing_folds"] == [5] and "only folds" not in entry["description"]
    assert list(entry["folds"]) == ["0"] and "extra_folds" not in entry
    assert not fold5.exists()

    # nothing finished at all: the model is a skipped row, named (exit status 1)
    fold0.unlink()
    assert main([*argv, "--report-only"]) == 1
    task = json.loads((out / "summary.json").read_text())["tasks"]["cv"]
    assert "cloud_debye" not in task["models"]
    assert task["skipped_models"]["cloud_debye"].startswith("--report-only: no finished fold")


# --- cloud/analysis/scaling_sweep.py --no-fit ------------------------------------------------


def test_sweep_no_fit_then_fit_skips_done_points(tmp_path):
    from cloud.analysis.scaling_sweep import run

    source = shared_file("scope_reference/pretrain_optimade_10k.csv.gz")
    with gzip.open(source, "rt", encoding="utf-8") as fh:
        strings = [row["scope"] for row in islice(csv.DictReader(fh), 60)]
    corpus = tmp_path / "corpus.csv"
    with open(corpus, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["scope"], *([s] for s in strings)])
    out = tmp_path / "sweep"
    common = ["--corpus", str(corpus), "--out", str(out), "--sizes", "1/16", "--epochs", "1",
              "--batch-size", "16", "--no-progress", "--val-fraction", "0.2"]
    first = run([*common, "--data-fractions", "0.5,1.0", "--no-fit"])
    names = ["L1-H16-A1_f0.5", "L1-H16-A1_f1"]
    assert first["ran"] == names and first["skipped"] == []
    assert first["fit"]["status"].startswith("not_fitted")
    assert first["fit"]["n_points"] == 2
    assert sorted(p.stem for p in (out / "points").glob("*.json")) == names
    assert not (out / "fit.json").exists() and not (out / "manifest.json").exists()
    points = [json.loads((out / "points" / f"{n}.json").read_text()) for n in names]
    assert [p["n_val_strings"] for p in points] == [12, 12]
    assert [p["n_train_strings"] for p in points] == [24, 48]
    stamps = [(out / "points" / f"{n}.json").stat().st_mtime_ns for n in names]

    second = run([*common, "--data-fractions", "0.25,0.5,1.0", "--n-boot", "2",
                  "--fit-starts", "4"])
    assert second["skipped"] == names and second["ran"] == ["L1-H16-A1_f0.25"]
    assert [(out / "points" / f"{n}.json").stat().st_mtime_ns for n in names] == stamps
    doc = json.loads((out / "fit.json").read_text())
    assert doc["n_points"] == 3 and doc["status"] == second["fit"]["status"]
    assert not doc["status"].startswith("not_fitted")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["skipped"] == names


def test_leaderboard_names_a_models_own_coverage_and_training_device():
    """A model trained on fewer rows than the task (a canonical ablation on the structures
    only) says so in its cell; the devices its folds trained on are named when they differ
    from the report pass's."""
    from benchmarks.reports.summary import leaderboard_markdown
    from benchmarks.tasks import select

    stats = {"mae_over_mad": {"mean": 0.07, "std": 0.01}}
    summary = {"run": {"created": "now", "device": "CPU", "commit": "abc"},
               "tasks": {"cv": {"status": "done", "coverage": "complete: 1512 rows", "models": {
                   "cloud_debye": {"summary": stats, "n_folds": 5, "description": "d",
                                   "coverage": "complete: 1512 rows",
                                   "trained_on": ["NVIDIA H100 80GB HBM3"]},
                   "cloud_debye_canonical": {"summary": stats, "n_folds": 5, "description": "c",
                                             "coverage": "partial: 1289 of 1512 rows",
                                             "trained_on": ["CPU"]}}}}}
    board = leaderboard_markdown(summary, select("cv"))
    assert "0.0700 ± 0.0100 (5 folds; partial: 1289 of 1512 rows)" in board
    assert "0.0700 ± 0.0100 (5 folds) |" in board  # the task's own coverage is not repeated
    assert "Folds trained on: CPU, NVIDIA H100 80GB HBM3" in board
    summary["tasks"]["cv"]["models"]["cloud_debye"]["trained_on"] = ["CPU"]
    assert "Folds trained on" not in leaderboard_markdown(summary, select("cv"))
