"""``--executor ray`` on a local 2-CPU Ray cluster against the local executor: the same
summaries (the baselines exactly, CLOUD within the regression stage's tolerance) on real
smoke folds of a MatBench task and a phonon task; fold files either executor reuses; a
model that raises is a failed row while the others finish; resources and usage errors."""

from __future__ import annotations

import json

import pytest

from benchmarks.executors.progress import TaskProgress
from benchmarks.regression import load_tolerances
from benchmarks.run import main

TASKS = {"matbench_jdft2d": ["cloud", "cloud_no_wyckoff", "composition_rf", "dummy"],
         "cv": ["cloud_debye_scratch", "debye_rf", "dummy"]}


def _args(task: str, models: list[str], data_dir, out, *extra: str) -> list[str]:
    return ["--task", task, "--smoke", "--no-progress", "--models", ",".join(models),
            "--data-dir", str(data_dir), "--out", str(out), *extra]


def _summary(out) -> dict:
    return json.loads((out / "summary.json").read_text())


def assert_same_results(a: dict, b: dict, task: str) -> None:
    """Two summaries' rows and metrics: baselines bit for bit, networks within tolerance."""
    assert a["account"] == b["account"]
    ma, mb = a["tasks"][task]["models"], b["tasks"][task]["models"]
    assert sorted(ma) == sorted(mb)
    tolerances = load_tolerances()
    for model in ma:
        assert ma[model]["folds"].keys() == mb[model]["folds"].keys()
        for fold, metrics in ma[model]["folds"].items():
            for metric, x in metrics.items():
                y = mb[model]["folds"][fold][metric]
                if not model.startswith("cloud"):
                    assert x == y, (model, metric)
                    continue
                tol = tolerances.get("network", {}).get(metric, {"rtol": 1e-4, "atol": 1e-6})
                assert abs(x - y) <= tol["atol"] + tol["rtol"] * abs(x), (model, metric, x, y)


@pytest.fixture(scope="module", params=sorted(TASKS))
def both(request, tmp_path_factory, shared_data, ray_cluster):
    """One task's smoke run with each executor (the ray one on the session's cluster)."""
    task = request.param
    root = tmp_path_factory.mktemp(f"executors-{task}")
    assert main(_args(task, TASKS[task], shared_data, root / "local")) == 0
    assert main(_args(task, TASKS[task], shared_data, root / "ray", "--executor", "ray")) == 0
    return task, root


def test_ray_matches_the_local_executor(both):
    task, root = both
    local, ray = _summary(root / "local"), _summary(root / "ray")
    assert sorted(local["tasks"][task]["models"]) == sorted(TASKS[task])
    assert_same_results(local, ray, task)
    for model in TASKS[task]:  # same layout, same job keys
        a = json.loads((root / "local" / task / model / "fold_0.json").read_text())
        b = json.loads((root / "ray" / task / model / "fold_0.json").read_text())
        assert a["job_key"] == b["job_key"] and a["predictions"].keys() == b["predictions"].keys()
    assert (root / "ray" / "leaderboard.md").exists() and not list(root.rglob("*.tmp"))


def test_either_executor_reuses_the_others_folds(both, shared_data, capsys):
    task, root = both
    capsys.readouterr()
    assert main(_args(task, TASKS[task], shared_data, root / "local", "--executor", "ray")) == 0
    assert main(_args(task, TASKS[task], shared_data, root / "ray")) == 0
    err = capsys.readouterr().err
    assert "jobs submitted" not in err and " train, " not in err, err[-2000:]
    assert "recomputing" not in err


def test_a_model_that_raises_fails_its_row_and_the_others_finish(shared_data, tmp_path,
                                                                ray_cluster, capsys):
    out = tmp_path / "run"
    code = main(_args("matbench_jdft2d", ["cloud", "dummy"], shared_data, out,
                      "--executor", "ray", "--pretrained", str(tmp_path / "no-such-encoder")))
    assert code == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("rows: 1 done, 1 failed, 0 skipped")
    assert "matbench_jdft2d cloud: fold 0: FileNotFoundError" in line
    assert (out / "matbench_jdft2d" / "dummy" / "fold_0.json").exists()
    error = json.loads((out / "matbench_jdft2d" / "cloud" / "fold_0.error.json").read_text())
    assert error["status"] == "failed" and "Traceback" in error["traceback"]
    assert [r[1] for r in _summary(out)["account"]["failed"]] == ["cloud"]


def test_job_options_follow_the_models_resources():
    from benchmarks.executors.ray import MAX_RETRIES, job_options

    small = {"type": "cloud", "resources": {"num_cpus": 1, "num_gpus": 0.25}}
    assert job_options(small, cluster_gpus=8) == {
        "num_cpus": 1.0, "num_gpus": 0.25, "max_retries": MAX_RETRIES, "retry_exceptions": False}
    assert "num_gpus" not in job_options(small, cluster_gpus=0)  # CPU cluster: CPUs only
    assert job_options({"type": "dummy"}, 8)["num_cpus"] == 1.0  # default
    spec = {"resources": {"num_cpus": 2, "memory": 4e9, "max_retries": 0}}
    assert job_options(spec, 0) == {"num_cpus": 2.0, "memory": 4_000_000_000,
                                    "max_retries": 0, "retry_exceptions": False}
    with pytest.raises(ValueError, match="unknown keys \\['gpus'\\]"):
        job_options({"resources": {"gpus": 1}}, 1)


def test_configured_resources_and_the_job_key(shared_data):
    """Every configured model of every task has resources; they are no part of the key."""
    from benchmarks.config import load_layers, task_config
    from benchmarks.jobs import job_key
    from benchmarks.tasks import Fold, select

    layers = load_layers()
    for task in select("all"):
        for name, spec in task_config(layers, task.name, task.family)["models"].items():
            if "type" in spec:
                assert spec["resources"]["num_cpus"] >= 1, (task.name, name)
                if spec["type"].startswith("cloud"):
                    assert 0 < spec["resources"]["num_gpus"] <= 1, (task.name, name)
    task = select("matbench_jdft2d")[0]
    data = task.load(shared_data, "paper", False)
    fold = Fold(data.ids[:4], data.ids[4:6])
    spec = {"type": "dummy", "resources": {"num_cpus": 1}}
    assert job_key(task, data, spec, 0, fold, True)[0] == job_key(
        task, data, {**spec, "resources": {"num_cpus": 4}}, 0, fold, True)[0]
    assert job_key(task, data, spec, 0, fold, True)[0] != job_key(
        task, data, {**spec, "seed": 1}, 0, fold, True)[0]


def test_executor_usage_errors(monkeypatch, capsys):
    assert main(["--task", "matbench_jdft2d", "--ray-address", "auto"]) == 2
    assert "--ray-address needs --executor ray" in capsys.readouterr().err
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["--task", "matbench_jdft2d", "--executor", "ray"]) == 2
    assert "not under accelerate launch" in capsys.readouterr().err


def test_progress_view_counts_per_task(capsys):
    view = TaskProgress("cv", 3)
    view.started()
    view.finished({"status": "done", "model": "dummy", "fold": 0, "time_s": 0.5})
    view.finished({"status": "failed", "model": "cloud", "fold": 1, "error": "ValueError: x"})
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["[cv] 3 jobs submitted",
                     "[cv] 1/3 done, 0 failed, 2 running or queued | dummy fold 0 done in 0.5 s",
                     "[cv] 1/3 done, 1 failed, 1 running or queued | cloud fold 1 FAILED: "
                     "ValueError: x"]
