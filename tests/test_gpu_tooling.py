"""Tooling for full runs on one GPU: scripts/run_lanes.py, scripts/gpu/make_plan.py,
CLOUD_GIT_COMMIT in run manifests, the runner's --report-only and extra (original-split)
folds, and the scaling sweep's --no-fit."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import shlex
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_file


def _load_script(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lanes():
    return _load_script("run_lanes", REPO / "scripts" / "run_lanes.py")


@pytest.fixture(scope="module")
def make_plan():
    return _load_script("make_plan", REPO / "scripts" / "gpu" / "make_plan.py")


def _offline(*args, **kwargs):
    raise OSError("network is unreachable (test)")


# --- scripts/run_lanes.py: parse_plan -------------------------------------------------------


def test_parse_plan_jobs_deps_and_comments(lanes):
    jobs = lanes.parse_plan("""
        # a comment

        warm: python3 -c 'print(1)'   # not a comment: part of the command
        a.b-c_1 <- warm: echo a: b
        last <- warm,a.b-c_1 : true
    """)
    assert [j.name for j in jobs] == ["warm", "a.b-c_1", "last"]
    assert jobs[0].command == "python3 -c 'print(1)'   # not a comment: part of the command"
    assert jobs[0].deps == []
    assert jobs[1].command == "echo a: b" and jobs[1].deps == ["warm"]
    assert jobs[2].deps == ["warm", "a.b-c_1"] and jobs[2].command == "true"
    assert all(j.status == "waiting" and j.returncode is None for j in jobs)


@pytest.mark.parametrize("text, message", [
    ("no colon here", "plan line 1"),
    ("ok: true\n\nbad name!: true", "plan line 3"),
    ("a <- : true", "plan line 1"),
    ("a:", "plan line 1"),
    ("a: true\nb: true\na: false", "repeated job names ['a']"),
    ("a <- b: true", "unknown jobs ['b']"),
    ("a: true\nb <- a,c: true", "unknown jobs ['c']"),
])
def test_parse_plan_rejects(lanes, text, message):
    with pytest.raises(ValueError) as err:
        lanes.parse_plan(text)
    assert message in str(err.value)


# --- scripts/run_lanes.py: run_plan ---------------------------------------------------------


def _run(lanes, plan: str, tmp_path: Path, n_lanes: int = 4, stop_at: float = float("inf"),
         kill_at: float = float("inf")):
    jobs = lanes.parse_plan(plan)
    start = time.monotonic()
    lanes.run_plan(jobs, n_lanes, stop_at, kill_at, tmp_path / "logs", poll_s=0.05)
    return {j.name: j for j in jobs}, time.monotonic() - start


def test_run_plan_statuses_logs_and_record(lanes, tmp_path):
    jobs, _ = _run(lanes, """
        good: echo hello from good
        bad: echo oops; exit 3
        after_good <- good: true
        after_bad <- bad: true
        after_after <- after_bad: true
    """, tmp_path)
    assert jobs["good"].status == "ok" and jobs["good"].returncode == 0
    assert jobs["bad"].status == "failed" and jobs["bad"].returncode == 3
    assert jobs["after_good"].status == "ok"
    for name in ("after_bad", "after_after"):  # a failed prerequisite, directly or not
        assert jobs[name].status == "not_started" and jobs[name].returncode is None
        assert jobs[name].start_s is None and "prerequisite" in jobs[name].reason
    logs = tmp_path / "logs"
    assert (logs / "good.log").read_text() == "hello from good\n"
    assert (logs / "bad.log").read_text() == "oops\n"
    assert sorted(p.name for p in logs.glob("*.log")) == ["after_good.log", "bad.log",
                                                          "good.log"]
    record = {r["name"]: r for r in json.loads((logs / "lanes.json").read_text())}
    assert list(record) == ["good", "bad", "after_good", "after_bad", "after_after"]
    assert record["bad"]["status"] == "failed" and record["bad"]["returncode"] == 3
    assert record["bad"]["command"] == "echo oops; exit 3"
    assert record["after_bad"]["status"] == "not_started"
    assert record["after_good"]["deps"] == ["good"]
    assert record["good"]["end_s"] >= record["good"]["start_s"] >= 0
    assert jobs["after_good"].start_s >= jobs["good"].end_s  # waited for its prerequisite
    table = lanes.table(list(jobs.values()))
    assert "failed" in table and "a prerequisite did not succeed" in table


def test_kill_at_terminates_a_long_job(lanes, tmp_path):
    marker = tmp_path / "never"
    jobs, took = _run(lanes, f"""
        long: sleep 30; touch {marker}
        after <- long: true
    """, tmp_path, kill_at=0.5, stop_at=0.5)
    assert took < 10
    assert jobs["long"].status == "killed" and jobs["long"].returncode != 0
    assert jobs["after"].status == "not_started"
    time.sleep(0.2)
    assert not marker.exists()  # the whole process group went: `touch` never ran
    record = json.loads((tmp_path / "logs" / "lanes.json").read_text())
    assert [r["status"] for r in record] == ["killed", "not_started"]


def test_no_job_starts_after_kill_at_and_sigterm_is_escalated(lanes, tmp_path):
    """--kill-at alone also stops new starts; a job that ignores SIGTERM gets SIGKILL."""
    jobs, took = _run(lanes, """
    a: sleep 30
    b: sleep 30
    """, tmp_path, n_lanes=1, kill_at=0.5)
    assert jobs["a"].status == "killed"
    assert jobs["b"].status == "not_started" and "--kill-at" in jobs["b"].reason
    assert took < 10
    lanes.KILL_GRACE_S = 1.0
    try:
        jobs, took = _run(lanes, "stubborn: trap '' TERM; sleep 30", tmp_path, kill_at=0.2)
    finally:
        lanes.KILL_GRACE_S = 10.0
    assert jobs["stubborn"].status == "killed" and took < 10


def test_stop_at_prevents_starting(lanes, tmp_path):
    jobs, took = _run(lanes, "a: true\nb <- a: true", tmp_path, stop_at=0)
    assert took < 5
    assert jobs["a"].status == "not_started" and "--stop-at 0 s reached" in jobs["a"].reason
    assert jobs["b"].status == "not_started"
    assert not list((tmp_path / "logs").glob("*.log"))
    assert (tmp_path / "logs" / "lanes.json").exists()


def test_lanes_limit_is_respected(lanes, tmp_path):
    jobs, took = _run(lanes, "a: sleep 1\nb: sleep 1\nc: sleep 1", tmp_path, n_lanes=2)
    assert all(j.status == "ok" for j in jobs.values())
    assert took >= 2.0
    # plan order: a and b start together, c only after one of them ended
    assert jobs["c"].start_s >= min(jobs["a"].end_s, jobs["b"].end_s)
    assert jobs["b"].start_s < jobs["a"].end_s


def test_main_exit_code_and_dry_run(lanes, tmp_path, capsys):
    plan = tmp_path / "plan.txt"
    plan.write_text("a: true\nb <- a: exit 1\n")
    assert lanes.main([str(plan), "--dry-run"]) == 0
    assert "b <- a: ['exit', '1']" in capsys.readouterr().out
    assert not (tmp_path / "logs").exists()
    assert lanes.main([str(plan), "--log-dir", str(tmp_path / "logs")]) == 1
    plan.write_text("a: true\n")
    assert lanes.main([str(plan), "--log-dir", str(tmp_path / "logs2")]) == 0


# --- scripts/gpu/make_plan.py ---------------------------------------------------------------

JDFT_MODELS = ["cloud", "cloud_sg_number", "cloud_no_wyckoff", "cloud_no_composition",
               "cloud_canonical"]


def test_plan_lines_jdft2d(make_plan, lanes):
    config = Path("benchmarks/configs/gpu.yaml")
    lines = make_plan.plan_lines("matbench_jdft2d", config, Path("runs/x"), None, ["cloud"])
    assert lines[0].startswith("warm_x: python3 scripts/gpu/make_plan.py --warm ")
    assert shlex.split(lines[0].split(": ", 1)[1])[-1] == (
        "matbench_jdft2d:canonical,matbench_jdft2d:paper")
    jobs = lanes.parse_plan("\n".join(lines))
    assert len(jobs) == 1 + 5 * 5
    warm, rest = jobs[0], jobs[1:]
    assert warm.name == "warm_x" and warm.deps == []
    assert all(j.deps == ["warm_x"] for j in rest)
    expected = [f"matbench_jdft2d.cloud.f{k}" for k in range(5)] + [
        f"matbench_jdft2d.{m}.f{k}" for k in range(5) for m in JDFT_MODELS[1:]]
    assert [j.name for j in rest] == expected
    for job in rest:
        _, model, fold = job.name.split(".")
        argv = shlex.split(job.command)
        assert argv[:2] == ["python3", "benchmarks/run.py"]
        opt = {o: argv[argv.index(o) + 1] for o in ("--task", "--models", "--folds", "--out",
                                                     "--config")}
        assert opt["--task"] == "matbench_jdft2d" and opt["--models"] == model
        assert opt["--folds"] == fold.removeprefix("f") and opt["--out"] == "runs/x"
        assert opt["--config"] == str(config) and "--no-progress" in argv
    assert not [j for j in jobs if "dummy" in j.name or "composition_rf" in j.name]


def test_plan_lines_phonon_and_options(make_plan, lanes):
    lines = make_plan.plan_lines("cv", None, Path("runs/ph"), None, [], python="py")
    jobs = lanes.parse_plan("\n".join(lines))
    names = [j.name for j in jobs[1:]]
    models = {n.split(".")[1] for n in names}
    assert models == {"cloud", "cloud_debye", "cloud_debye_scratch", "cloud_debye_log",
                      "cloud_debye_scratch_log", "cloud_debye_scratch_ens",
                      "cloud_debye_scratch_elem", "cloud_debye_elem",
                      "cloud_debye_scratch_elem_ens",
                      *(f"cloud_debye_{i}" for i in ("sg_number", "no_wyckoff",
                                                      "no_composition", "canonical"))}
    assert len(names) == 13 * 6 and "cv.cloud_debye.f5" in names
    assert names[:13] == [f"cv.{m}.f0" for m in (
        "cloud", "cloud_debye_scratch", "cloud_debye", "cloud_debye_scratch_log",
        "cloud_debye_log", "cloud_debye_scratch_ens", "cloud_debye_scratch_elem",
        "cloud_debye_elem", "cloud_debye_scratch_elem_ens", "cloud_debye_sg_number",
        "cloud_debye_no_wyckoff", "cloud_debye_no_composition", "cloud_debye_canonical")]
    assert all(n.endswith(".f5") for n in names[-13:])  # fold by fold: the original split last
    assert "--config" not in jobs[1].command and jobs[1].command.startswith("py ")
    assert "cv:canonical,cv:paper_strings" in jobs[0].command
    # --models restricts; a model the task lacks (or a baseline) is dropped
    only = make_plan.plan_lines("cv", None, Path("runs/ph"), ["cloud_debye", "dummy", "nope"],
                                ["cloud_debye"])
    assert [line.split(" ")[0] for line in only[1:]] == [f"cv.cloud_debye.f{k}"
                                                         for k in range(6)]
    assert only[0].endswith("--warm cv:paper_strings")
    # a CLOUD-DEBYE model is no job of a task that is not CLOUD-DEBYE capable
    # (and a plan without a job has no warm job either: it would be `--warm ''`)
    assert make_plan.plan_lines("matbench_jdft2d", None, Path("o"), ["cloud_debye"], []) == []


def test_warm_reports_missing_data(make_plan, monkeypatch, tmp_path, capsys, shared_data):
    import cloud.data.fetch

    def no_download(entry, dest, **kwargs):
        raise cloud.data.fetch.DataMissingError(f"{entry.key}: download refused (test)")

    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("CLOUD_DATA_DIR", str(empty))
    monkeypatch.setenv("CLOUD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cloud.data.fetch, "download", no_download)
    monkeypatch.setattr("urllib.request.urlopen", _offline)
    start = time.monotonic()
    assert make_plan.warm("matbench_jdft2d:paper,cv:paper_strings") == 0
    assert time.monotonic() - start < 10
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0].startswith("matbench_jdft2d (paper): not loaded: ")
    assert out[1].startswith("cv (paper_strings): not loaded: ")
    # with the data: rows and input errors
    monkeypatch.setenv("CLOUD_DATA_DIR", str(shared_data))
    assert make_plan.warm("cv:paper_strings") == 0
    assert capsys.readouterr().out.strip() == "cv (paper_strings): 1512 rows, 0 input errors"


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
