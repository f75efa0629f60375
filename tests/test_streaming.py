"""tests.streaming.run_streaming: stderr lines reach the terminal while the child runs."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.conftest import REPO
from tests.streaming import run_streaming

pytest_plugins = ["pytester"]

CHILD = """
import sys, time
print("result on stdout")
for i in range(3):
    print(f"task {i} done", file=sys.stderr, flush=True)
    time.sleep(0.3)
sys.exit(3)
"""


def test_lines_arrive_while_the_child_runs_and_are_captured():
    seen = []
    proc = run_streaming([sys.executable, "-c", CHILD],
                         lambda line: seen.append((line, time.monotonic())), timeout=60)
    end = time.monotonic()
    assert [line for line, _ in seen] == ["task 0 done", "task 1 done", "task 2 done"]
    assert end - seen[0][1] > 0.4  # the first line was shown before the child finished
    assert proc.returncode == 3
    assert proc.stdout == "result on stdout\n"
    assert proc.stderr == "task 0 done\ntask 1 done\ntask 2 done\n"


def test_timeout_kills_the_child():
    seen = []
    child = "import sys, time\nprint('started', file=sys.stderr, flush=True)\ntime.sleep(60)"
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as info:
        run_streaming([sys.executable, "-c", child], seen.append, timeout=2)
    assert time.monotonic() - start < 30
    assert seen == ["started"]
    assert info.value.stderr == "started\n"


def test_keyword_arguments_reach_the_child(tmp_path):
    proc = run_streaming([sys.executable, "-c", "import os; print(os.getcwd())"],
                         lambda line: None, timeout=60, cwd=tmp_path)
    assert proc.stdout.strip() == str(tmp_path)


def test_lines_reach_the_terminal_of_a_captured_test_run(pytester):
    """In a pytest run with output capture on (the default), the lines are shown."""
    pytester.makepyfile(test_inner=f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})  # the project's tests package, wherever pytest runs
        from tests.streaming import run_streaming, terminal_line_writer

        def test_stage(request):
            child = "import sys; print('[cv] fold 0 done', file=sys.stderr)"
            write = terminal_line_writer(request.config, prefix="stage | ")
            assert run_streaming([sys.executable, "-c", child], write, timeout=60).returncode == 0
        """)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*stage | [[]cv[]] fold 0 done*"])
