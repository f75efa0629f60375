"""The runner under ``accelerate launch --multi_gpu --num_processes 2`` on CPU (two processes
of one launch) against one process: same rows, same metrics (the baselines
exactly, CLOUD within the regression stage's tolerance), on real smoke folds of a MatBench
task and a phonon task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.regression import REPO, load_tolerances

TASKS = {"matbench_jdft2d": ["cloud", "cloud_no_wyckoff", "composition_rf", "dummy"],
         "cv": ["cloud_debye_scratch", "debye_rf", "dummy"]}


def _launch(out: Path, data_dir: Path, task: str, models: list[str], processes: int,
            *extra: str) -> subprocess.CompletedProcess:
    runner = [str(REPO / "benchmarks" / "run.py"), "--task", task, "--smoke", "--no-progress",
              "--models", ",".join(models), "--data-dir", str(data_dir), "--out", str(out),
              *extra]
    if processes == 1:
        cmd = [sys.executable, *runner]
    else:  # on CPU, --multi_gpu selects accelerate's torchrun launcher
        accelerate = Path(sys.executable).with_name("accelerate")
        cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", str(processes),
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               *runner]
    env = {**os.environ, "CLOUD_CACHE_DIR": str(out.parent / "cache")}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=REPO, env=env)


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module", params=sorted(TASKS))
def runs(request, tmp_path_factory, shared_data):
    task = request.param
    root = tmp_path_factory.mktemp(f"processes-{task}")
    one = _launch(root / "one", shared_data, task, TASKS[task], 1)
    assert one.returncode == 0, one.stderr[-3000:]
    two = _launch(root / "two", shared_data, task, TASKS[task], 2)
    assert two.returncode == 0, two.stderr[-3000:]
    return task, root, two


def test_two_processes_split_the_jobs_and_match_one(runs):
    task, root, two = runs
    assert "(process 0)" in two.stderr and "(process 1)" in two.stderr
    a, b = _summary(root / "one"), _summary(root / "two")
    assert b["run"]["processes"] == 2 and a["run"]["processes"] == 1
    assert a["account"] == b["account"]
    ma, mb = a["tasks"][task]["models"], b["tasks"][task]["models"]
    assert sorted(ma) == sorted(mb) == sorted(TASKS[task])
    tolerances = load_tolerances()
    for model in ma:
        fa, fb = ma[model]["folds"], mb[model]["folds"]
        assert fa.keys() == fb.keys()
        network = model.startswith("cloud")
        for fold in fa:
            for metric, x in fa[fold].items():
                y = fb[fold][metric]
                if not network:  # the baselines are deterministic: bit for bit
                    assert x == y, (model, metric)
                    continue
                tol = tolerances.get("network", {}).get(metric, {"rtol": 1e-4, "atol": 1e-6})
                assert abs(x - y) <= tol["atol"] + tol["rtol"] * abs(x), (model, metric, x, y)
        pa = json.loads((root / "one" / task / model / "fold_0.json").read_text())
        pb = json.loads((root / "two" / task / model / "fold_0.json").read_text())
        assert pa["predictions"].keys() == pb["predictions"].keys()
        assert pa["job_key"] == pb["job_key"]


def test_only_the_main_process_writes_shared_files(runs):
    _, root, _ = runs
    two = root / "two"
    assert (two / "summary.json").exists() and (two / "leaderboard.md").exists()
    assert not list(two.rglob("*.tmp"))
    manifest = json.loads((two / "manifest.json").read_text())
    assert manifest["processes"] == {"world_size": 2, "distribute": "jobs"}


@pytest.mark.parametrize("runs", ["matbench_jdft2d"], indirect=True)
def test_two_process_run_resumes_from_one_process_folds(runs, shared_data):
    """Fold files are the same whoever wrote them: a two-process run over the one-process
    run's folder trains nothing again."""
    task, root, _ = runs
    again = _launch(root / "one", shared_data, task, TASKS[task], 2)
    assert again.returncode == 0, again.stderr[-3000:]
    assert " train, " not in again.stderr and "recomputing" not in again.stderr


def test_data_parallel_mode_completes_with_the_same_rows(tmp_path, shared_data):
    """``--distribute data``: every job trains data-parallel on both processes (the global
    batch split between them); dropout differs per process, so only rows are compared."""
    models = ["cloud", "dummy"]
    proc = _launch(tmp_path / "data", shared_data, "matbench_jdft2d", models, 2,
                   "--distribute", "data")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = _summary(tmp_path / "data")
    assert sorted(summary["tasks"]["matbench_jdft2d"]["models"]) == models
    state = json.loads((tmp_path / "data" / "matbench_jdft2d" / "cloud" / "fold_0_train"
                        / "trainer_state.json").read_text())
    assert state["finished"] and len(state["history"]) == 2
