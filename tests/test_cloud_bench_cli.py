"""``cloud-bench``: one command whose subcommands are the suite's entry points; ``tasks``
lists every task with its data state on this machine; ``run`` is ``benchmarks/run.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cloud_bench.catalog import task_state
from cloud_bench.cli import COMMANDS, main

REPO = Path(__file__).resolve().parents[1]


def test_every_subcommand_answers_help_with_an_example(capsys):
    for name in COMMANDS:
        with pytest.raises(SystemExit) as done:
            main([name, "--help"])
        assert done.value.code == 0, name
        text = capsys.readouterr().out
        assert text.startswith("usage:") and "Example" in text, (name, text[:300])


def test_the_command_table_is_module_function_strings():
    assert all(isinstance(v, str) and v.count(":") == 1 for v in COMMANDS.values())
    assert {"run", "tasks", "models", "score", "predict", "scope"} <= set(COMMANDS)


def test_unknown_command_exits_2(capsys):
    assert main(["nope"]) == 2 and "unknown command" in capsys.readouterr().err


def test_tasks_lists_every_task_with_its_data_state(shared_data, capsys):
    from benchmarks.tasks import all_tasks

    assert main(["tasks", "--json", "--data-dir", str(shared_data)]) == 0
    rows = {r["task"]: r for r in json.loads(capsys.readouterr().out)}
    assert sorted(rows) == sorted(t.name for t in all_tasks())
    assert rows["matbench_jdft2d"]["data"] == "here" and rows["matbench_jdft2d"]["rows"] == 636
    assert rows["matbench_dielectric"]["data"] == "here: offline stand-in"
    assert rows["cv"]["metric"] == "mae_over_mad" and rows["cv"]["folds"] == 6
    assert rows["discovery_wbm"]["data"] == "online only"  # not in ../shared/data


def test_data_state_follows_the_files(tmp_path, monkeypatch):
    from benchmarks.tasks.matbench import MatbenchTask

    monkeypatch.setenv("CLOUD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CLOUD_DATA_DIR", raising=False)
    task = MatbenchTask("jdft2d")
    assert task_state(task, tmp_path / "data") == "online only"
    (tmp_path / "cache" / "matbench").mkdir(parents=True)
    (tmp_path / "cache" / "matbench" / "matbench_jdft2d.json.gz").write_bytes(b"x")
    assert task_state(task, tmp_path / "data") == "in cache"
    (tmp_path / "data" / "matbench").mkdir(parents=True)
    (tmp_path / "data" / "matbench" / "matbench_jdft2d.json.gz").write_bytes(b"x")
    assert task_state(task, tmp_path / "data") == "here"


def test_run_equals_the_runner_script(tmp_path, shared_data):
    argv = ["--task", "matbench_jdft2d", "--smoke", "--models", "dummy,composition_rf",
            "--data-dir", str(shared_data), "--no-progress"]
    a = main(["run", *argv, "--out", str(tmp_path / "a")])
    b = subprocess.run([sys.executable, "benchmarks/run.py", *argv, "--out",
                        str(tmp_path / "b")], cwd=REPO, capture_output=True, text=True,
                       timeout=600)
    assert a == b.returncode == 0, b.stderr[-2000:]
    sa, sb = (json.loads((tmp_path / x / "summary.json").read_text()) for x in "ab")
    ma, mb = (s["tasks"]["matbench_jdft2d"]["models"] for s in (sa, sb))
    for m in (*ma.values(), *mb.values()):  # seconds differ between two runs; the rest may not
        for key in ("train_s", "predict_s", "total_s"):
            m.get("cost", {}).pop(key, None)
    assert ma == mb


def test_runner_help_from_a_checkout_without_installing(tmp_path):
    """``python benchmarks/run.py --help`` with nothing of the suite importable."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    script = REPO / "benchmarks" / "run.py"
    # -S: no site hooks, so no editable install; the site-packages folders for the libraries
    import sysconfig

    libraries = sysconfig.get_paths()["purelib"]  # the environment's, without its .pth hooks
    code = (f"import sys, runpy; sys.path[1:1] = [{libraries!r}]\n"
            "try:\n    import cloud\nexcept ImportError:\n    pass\n"
            "else:\n    raise SystemExit('cloud importable: not an uninstalled checkout')\n"
            f"sys.argv = [{str(script)!r}, '--help']\n"
            f"runpy.run_path({str(script)!r}, run_name='__main__')")
    proc = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-500:]
    assert proc.stdout.startswith("usage:")
