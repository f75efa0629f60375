"""The CI regression stage: every task family in --smoke mode on real folds against the
committed baseline (benchmarks/regression_baseline.json), plus unit tests of the comparison.

The stage runs after the other tests (marker ``regression``, ordered by conftest). If it
fails, the assertion message is the table of what moved; when the change is intended,
``python benchmarks/regression.py update`` records the new baseline.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from benchmarks.regression import BASELINE, REPO, compare, extract, format_table, main
from benchmarks.tasks import select
from tests.streaming import run_streaming, terminal_line_writer


def _run(args, **kwargs):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=REPO,
                          **kwargs)


@pytest.fixture(scope="module")
def stage(tmp_path_factory, shared_data, request):
    """The stage's run (minutes): its progress lines (stderr) are shown as they come."""
    out = tmp_path_factory.mktemp("regression") / "run"
    show = terminal_line_writer(request.config, prefix="  regression stage | ")
    proc = run_streaming([sys.executable, "benchmarks/regression.py", "check", "--out", str(out),
                          "--data-dir", str(shared_data)], show, timeout=1800, cwd=REPO)
    return proc, out


@pytest.mark.regression
def test_smoke_metrics_match_baseline(stage):
    proc, out = stage
    assert (out / "summary.json").exists(), proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stdout[-6000:] or proc.stderr[-3000:]
    assert "regression stage passed" in proc.stdout


@pytest.mark.regression
def test_baseline_covers_every_task_and_states_tolerance():
    baseline = json.loads(BASELINE.read_text())
    assert set(baseline["tasks"]) == {t.name for t in select("all")}
    assert baseline["tolerance"]["rtol"] > 0 and "rule" in baseline["tolerance"]
    done = [t for t in baseline["tasks"].values() if t["status"] == "done"]
    assert done and all(m for t in done for m in t["models"].values())


@pytest.mark.regression
def test_same_seed_same_metrics_in_a_fresh_process(stage, shared_data, tmp_path):
    """Determinism: a second run in another process gives bit-identical smoke results."""
    _, first = stage
    summary = json.loads((first / "summary.json").read_text())
    done = [n for n, e in summary["tasks"].items() if e["status"] == "done"]
    tasks = [t for t in ("matbench_jdft2d", "cv") if t in done]
    if not tasks:
        pytest.skip("neither matbench_jdft2d nor cv ran in the regression stage")
    second = tmp_path / "again"
    models = ["cloud", "cloud_debye_scratch", "composition_rf"]  # every seeded kind of model
    proc = _run(["benchmarks/run.py", "--task", ",".join(tasks), "--smoke", "--no-progress",
                 "--allow-skips", "--models", ",".join(models), "--data-dir", str(shared_data),
                 "--out", str(second)], timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    compared = 0
    for task in tasks:
        for model in (m for m in models if (second / task / m).is_dir()):
            compared += 1
            a = json.loads((first / task / model / "fold_0.json").read_text())
            b = json.loads((second / task / model / "fold_0.json").read_text())
            assert a["metrics"] == b["metrics"], (task, model)
            assert a["predictions"] == b["predictions"], (task, model)
    assert compared >= 2


# --- the comparison itself, on doctored copies of the baseline (synthetic changes) ---------


@pytest.fixture
def baseline():
    return json.loads(BASELINE.read_text())


def _first_metric(tasks):
    for name, t in tasks.items():
        for model, folds in t.get("models", {}).items():
            for fold, metrics in folds.items():
                return name, model, fold, next(iter(metrics))
    pytest.skip("the baseline has no metric")


def test_identical_run_passes(baseline):
    assert compare(baseline, copy.deepcopy(baseline["tasks"])) == []


def test_moved_metric_fails_with_a_table(baseline):
    """Synthetic: one metric of the baseline pushed just past the tolerance, another just
    inside it."""
    tasks = copy.deepcopy(baseline["tasks"])
    task, model, fold, metric = _first_metric(tasks)
    tol = baseline["tolerance"]
    value = tasks[task]["models"][model][fold][metric]
    step = tol["atol"] + tol["rtol"] * abs(value)
    tasks[task]["models"][model][fold][metric] = value + 0.5 * step
    assert compare(baseline, tasks) == []
    tasks[task]["models"][model][fold][metric] = value + 1.5 * step
    rows = compare(baseline, tasks)
    assert [(r["task"], r["model"], r["fold"], r["what"]) for r in rows] == [
        (task, model, fold, metric)]
    table = format_table(rows, tol)
    assert task in table and metric in table and "regression.py update" in table


def test_status_change_is_a_regression(baseline):
    """Synthetic: a done task reported skipped, a skipped one done, a task gone, one new."""
    tasks = copy.deepcopy(baseline["tasks"])
    done = [n for n, t in tasks.items() if t["status"] == "done"]
    skipped = [n for n, t in tasks.items() if t["status"] == "skipped"]
    assert done
    tasks[done[0]] = {"status": "skipped"}
    expected = {(done[0], "status")}
    if skipped:
        tasks[skipped[0]] = copy.deepcopy(baseline["tasks"][done[0]])
        expected.add((skipped[0], "status"))
    tasks["brand_new_task"] = {"status": "done", "models": {}}
    expected.add(("brand_new_task", "task"))
    if len(done) > 1:
        del tasks[done[1]]
        expected.add((done[1], "task"))
    assert {(r["task"], r["what"]) for r in compare(baseline, tasks)} == expected


def test_other_rows_models_or_data_are_regressions(baseline):
    """Synthetic: a model dropped, a row lost to an input error, another input checksum."""
    tasks = copy.deepcopy(baseline["tasks"])
    name = next(n for n, t in tasks.items() if t["status"] == "done")
    t = tasks[name]
    model = next(iter(t["models"]))
    del t["models"][model]
    t["n_rows"] -= 1
    t["n_input_errors"] += 1
    f = next(iter(t["checksums"]))
    t["checksums"][f] = "0" * 64
    got = {(r["what"], r["model"]) for r in compare(baseline, tasks)}
    assert got == {("model", model), ("n_rows", ""), ("n_input_errors", ""), (f"input {f}", "")}


@pytest.mark.regression
def test_check_and_update_from_a_summary(stage, tmp_path, capsys):
    """``update`` from a run's summary.json, then ``check`` of the same summary passes and of
    a doctored one fails with exit status 1."""
    _, out = stage
    summary = out / "summary.json"
    if not summary.exists():
        pytest.skip("the regression stage did not run")
    path = tmp_path / "baseline.json"
    assert main(["update", "--summary", str(summary), "--baseline", str(path)]) == 0
    assert json.loads(path.read_text())["tasks"] == extract(json.loads(summary.read_text()))
    assert main(["check", "--summary", str(summary), "--baseline", str(path)]) == 0
    doc = json.loads(summary.read_text())
    name = next(n for n, e in doc["tasks"].items() if e["status"] == "done")
    doc["tasks"][name]["status"] = "skipped"
    doctored = tmp_path / "summary.json"
    doctored.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["check", "--summary", str(doctored), "--baseline", str(path)]) == 1
    assert name in capsys.readouterr().out


# --- the stage catches a real regression: models trained on shuffled targets ---------------

def _trained_on_shuffled_targets(fit_predict, model: str):
    """A deliberately worse ``model``: the same model, its training fold's targets permuted."""
    import numpy as np

    def worse(task, data, job, progress=True):
        if job.model != model:
            return fit_predict(task, data, job, progress)
        bad = copy.copy(data)
        bad.targets = data.targets.copy()
        rows = data.rows(job.fold.train)
        bad.targets[rows] = data.targets[np.random.default_rng(0).permutation(rows)]
        return fit_predict(task, bad, job, progress)

    return worse


@pytest.mark.regression
@pytest.mark.parametrize("model", ["composition_rf", "cloud"])
def test_a_worse_model_fails_the_stage(model, shared_data, tmp_path, monkeypatch):
    """The same smoke fold with and without shuffled training targets: the honest run agrees
    with the baseline within the tolerances, the worse one does not."""
    import benchmarks.models.fold as fold
    from benchmarks.regression import load_tolerances
    from benchmarks.run import main as run

    baseline = json.loads(BASELINE.read_text())
    tolerances = load_tolerances()
    args = ["--task", "matbench_jdft2d", "--smoke", "--models", model, "--no-progress",
            "--data-dir", str(shared_data)]

    def moved(out):
        tasks = extract(json.loads((out / "summary.json").read_text()))
        return [r for r in compare(baseline, tasks, tolerances)
                if r["task"] == "matbench_jdft2d" and r["model"] == model]

    assert run([*args, "--out", str(tmp_path / "honest")]) == 0
    assert moved(tmp_path / "honest") == []
    monkeypatch.setattr(fold, "fit_predict", _trained_on_shuffled_targets(fold.fit_predict, model))
    assert run([*args, "--out", str(tmp_path / "worse")]) == 0
    rows = moved(tmp_path / "worse")
    assert {r["what"] for r in rows} >= {"mae", "rmse"}, rows


def test_update_of_named_models_keeps_every_other_entry(baseline):
    """Synthetic: a run where two models moved; ``update --models`` takes one of them."""
    from benchmarks.regression import update_models

    tasks = copy.deepcopy(baseline["tasks"])
    task, model, fold, metric = _first_metric(tasks)
    other = next(m for m in tasks[task]["models"] if m != model)
    tasks[task]["models"][model][fold][metric] += 1.0
    tasks[task]["models"][other][fold] = {k: v + 1.0 for k, v in
                                          tasks[task]["models"][other][fold].items()}
    updated, n = update_models(baseline, tasks, [model])
    assert n >= 1
    assert [(r["model"], r["what"]) for r in compare(updated, tasks)] == [
        (other, m) for m in sorted(tasks[task]["models"][other][fold])]
    assert updated["tasks"][task]["models"][model][fold][metric] == (
        baseline["tasks"][task]["models"][model][fold][metric] + 1.0)
    with pytest.raises(SystemExit, match="none of the models"):
        update_models(baseline, tasks, ["no_such_model"])


def test_update_of_named_tasks_adds_a_task_and_keeps_every_other_entry(baseline):
    """Synthetic: a run with a task new to the suite and another task moved; ``update
    --tasks`` records the new one alone."""
    from benchmarks.regression import update_tasks

    tasks = copy.deepcopy(baseline["tasks"])
    task, model, fold, metric = _first_metric(tasks)
    tasks[task]["models"][model][fold][metric] += 1.0
    tasks["new_task"] = {"status": "skipped"}
    updated = update_tasks(baseline, tasks, ["new_task"])
    assert updated["tasks"]["new_task"] == {"status": "skipped"}
    assert [(r["task"], r["what"]) for r in compare(updated, tasks)] == [(task, metric)]
    with pytest.raises(SystemExit, match="none of the tasks"):
        update_tasks(baseline, tasks, ["no_such_task"])
