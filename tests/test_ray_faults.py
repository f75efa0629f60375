"""Faults under ``--executor ray`` on a local 2-CPU cluster: a worker killed mid-job is
retried and the run ends with the local executor's numbers (or, with no retry left, the job
is a failed row and the others finish); Ctrl-C keeps the finished folds, with either
executor, and the other one resumes from them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from benchmarks.regression import REPO
from benchmarks.run import main
from tests.test_ray_executor import assert_same_results

psutil = pytest.importorskip("psutil")
TASK = "matbench_jdft2d"


def _args(data_dir, out, *extra: str, models: str = "cloud,dummy") -> list[str]:
    return ["--task", TASK, "--smoke", "--no-progress", "--models", models,
            "--data-dir", str(data_dir), "--out", str(out), *extra]


def _worker_of(job_name: str):
    """The Ray worker process running the job (Ray titles it ``ray::<job name>``)."""
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if " ".join(proc.info["cmdline"] or []).strip() == f"ray::{job_name}":
            return proc
    return None


def _run_killing_one_worker(argv: list[str], job_name: str, work_dir: Path) -> tuple[int, int]:
    """Run the runner in a thread; kill the job's worker as soon as the job has started
    (its work folder is prepared). The exit code and the killed process id."""
    result: dict = {}
    thread = threading.Thread(target=lambda: result.setdefault("code", main(argv)))
    thread.start()
    killed, deadline = None, time.monotonic() + 300
    while killed is None and time.monotonic() < deadline and thread.is_alive():
        proc = _worker_of(job_name)
        if proc is not None and (work_dir / "job_key.txt").exists():
            proc.send_signal(signal.SIGKILL)
            killed = proc.pid
        time.sleep(0.05)
    thread.join(600)
    assert killed is not None, "the job's worker was never seen running"
    return result["code"], killed


def test_a_killed_worker_is_retried_and_the_numbers_match(shared_data, tmp_path, ray_cluster):
    assert main(_args(shared_data, tmp_path / "local")) == 0
    out = tmp_path / "ray"
    code, pid = _run_killing_one_worker(_args(shared_data, out, "--executor", "ray"),
                                        f"{TASK} cloud fold 0",
                                        out / TASK / "cloud" / "fold_0_train")
    assert code == 0 and not psutil.pid_exists(pid)
    summary = json.loads((out / "summary.json").read_text())
    assert_same_results(json.loads((tmp_path / "local" / "summary.json").read_text()),
                        summary, TASK)
    assert not (out / TASK / "cloud" / "fold_0.error.json").exists()


def test_a_worker_killed_with_no_retry_left_fails_its_row_only(shared_data, tmp_path,
                                                               ray_cluster, capsys):
    config = tmp_path / "no-retry.yaml"
    config.write_text("smoke:\n  models:\n    cloud: {resources: {max_retries: 0}}\n")
    out = tmp_path / "ray"
    code, _ = _run_killing_one_worker(
        _args(shared_data, out, "--executor", "ray", "--config", str(config)),
        f"{TASK} cloud fold 0", out / TASK / "cloud" / "fold_0_train")
    assert code == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("rows: 1 done, 1 failed, 0 skipped"), line
    error = json.loads((out / TASK / "cloud" / "fold_0.error.json").read_text())
    assert error["status"] == "failed" and "Worker" in error["error"], error["error"]
    assert (out / TASK / "dummy" / "fold_0.json").exists()


CLOUD_MODELS = ["cloud", "cloud_sg_number", "cloud_no_wyckoff", "cloud_no_composition",
                "cloud_canonical"]


@pytest.mark.parametrize("first,second", [("ray", "local"), ("local", "ray")])
def test_ctrl_c_keeps_finished_folds_and_the_other_executor_resumes(first, second, shared_data,
                                                                    tmp_path, ray_cluster):
    """A run (its own process; a ray run joins the session's cluster) interrupted once its
    first CLOUD fold is stored; the other executor then trains only the jobs still missing."""
    out = tmp_path / "run"
    runner = [sys.executable, str(REPO / "benchmarks" / "run.py"),
              *_args(shared_data, out, models=",".join(CLOUD_MODELS))]
    executor = {"ray": ["--executor", "ray", "--ray-address", ray_cluster], "local": []}
    proc = subprocess.Popen([*runner, *executor[first]], cwd=REPO, stderr=subprocess.PIPE,
                            text=True, env=os.environ.copy())

    def stored() -> list[str]:
        return [m for m in CLOUD_MODELS if (out / TASK / m / "fold_0.json").exists()]

    deadline = time.monotonic() + 300
    while not stored() and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, err[-2000:]
    assert first != "ray" or "interrupted: " in err
    kept = stored()
    assert 1 <= len(kept) < len(CLOUD_MODELS) and not list(out.rglob("*.tmp")), kept
    assert not list(out.rglob("*.error.json")) and not (out / "summary.json").exists()
    for model in kept:
        assert json.loads((out / TASK / model / "fold_0.json").read_text())["job_key"]
    again = subprocess.run([*runner, *executor[second]], cwd=REPO, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    ran = [m for m in CLOUD_MODELS  # the local executor's job line, the ray executor's
           if f"] {m} fold 0: 240 train" in again.stderr or f"| {m} fold 0 done" in again.stderr]
    assert ran == [m for m in CLOUD_MODELS if m not in kept], again.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["tasks"][TASK]["models"]) == sorted(CLOUD_MODELS)


# The driver interrupted at a chosen moment: the runner in its own process, SIGINT sent to
# itself right after the first job's options are made (while submitting) or right after the
# first record is fetched (while results arrive); "running": sent by the test once the CLOUD
# job's work folder exists and no fold is stored.
_INTERRUPTING_DRIVER = """
import os, signal, sys
import benchmarks.executors.ray as executor

def interrupt_after(fn, at):
    calls = []
    def wrapped(*args, **kwargs):
        out = fn(*args, **kwargs)
        calls.append(1)
        if len(calls) == at:
            os.kill(os.getpid(), signal.SIGINT)
        return out
    return wrapped

moment = sys.argv[1]
if moment == "submitting":
    executor.job_options = interrupt_after(executor.job_options, 1)
elif moment == "arriving":
    executor._record = interrupt_after(executor._record, 1)
from benchmarks.run import main
sys.exit(main(sys.argv[2:]))
"""
NATIVE_CRASH = ("*** SIG", "Stack trace", "ray::core::", "Fatal Python error", "core dumped",
                "terminate called")


@pytest.mark.parametrize("moment", ["submitting", "running", "arriving"])
def test_ctrl_c_on_a_ray_run_stops_cleanly_at_any_moment(moment, shared_data, tmp_path,
                                                         ray_cluster):
    out = tmp_path / "run"
    models = ["dummy", "cloud"]
    proc = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTING_DRIVER, moment,
         *_args(shared_data, out, "--executor", "ray", "--ray-address", ray_cluster,
                models=",".join(models))],
        cwd=REPO, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    if moment == "running":
        started = out / TASK / "cloud" / "fold_0_train" / "job_key.txt"
        deadline = time.monotonic() + 300
        while not started.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert started.exists() and not (out / TASK / "cloud" / "fold_0.json").exists()
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode not in (0, -6, -11, 134, 139), (proc.returncode, err[-3000:])
    assert not [m for m in NATIVE_CRASH if m in err], err[-3000:]
    line = [x for x in err.splitlines() if "interrupted: " in x]
    assert len(line) == 1 and "finished folds are stored" in line[0], err[-3000:]
    assert not list(out.rglob("*.error.json")) and not list(out.rglob("*.tmp"))
    assert not (out / "summary.json").exists()
    kept = [m for m in models if (out / TASK / m / "fold_0.json").exists()]
    if moment == "submitting":
        assert "never submitted" in line[0] and "2 jobs submitted" not in err, line
    if moment == "arriving":  # the record fetched when the signal came is stored all the same
        assert kept and "0 finished folds" not in line[0], (kept, line)
    if moment == "running":
        assert "cloud" not in kept
    for model in kept:
        assert json.loads((out / TASK / model / "fold_0.json").read_text())["job_key"]


def test_the_test_cluster_listens_on_loopback_only(ray_cluster):
    """Every listening socket of the tests' Ray cluster (this process and what it started:
    GCS, raylet, agents, workers; not other Ray clusters on the machine) is on 127.0.0.1 (or
    its IPv6 mapping), none on the machine's network address."""
    listening = []
    this = psutil.Process()
    for proc in [this, *this.children(recursive=True)]:
        try:
            conns = proc.net_connections(kind="inet")
            name = proc.name()
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
        listening += [(name, c.laddr.ip) for c in conns if c.status == psutil.CONN_LISTEN]
    assert listening, "no listening Ray process found"
    assert all(ip in ("127.0.0.1", "::ffff:127.0.0.1", "::1") for _, ip in listening), listening
