"""Load MatBench results files with the real ``matbench`` 0.6 package, as its users do.

matbench 0.6 pins old scikit-learn and matminer, so it is installed with ``--no-deps`` into
the test cache (``conftest.pip_target``) and run in a subprocess: ``MatbenchBenchmark
.from_file(path)`` on each file, then its validity, the folds it holds and the scores it
computes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import pip_target

MB_REQUIREMENTS = ["matbench==0.6", "matminer==0.7.4", "six==1.17.0"]

LOAD_SCRIPT = r"""
import gzip, json, sys
from matbench.bench import MatbenchBenchmark
out = []
for path in json.load(open(sys.argv[1])):
    if open(path, "rb").read(2) == b"\x1f\x8b":  # gzip: the line the suite documents for 0.6
        scope = {}
        exec(sys.argv[2].replace('"results.json.gz"', repr(path)), scope)
        mb = scope["mb"]
    else:
        mb = MatbenchBenchmark.from_file(path)
    tasks = {}
    for name, task in mb.tasks_map.items():
        tasks[name] = {"folds": sorted(k for k, v in task.results.items() if v.get("data")),
                       "n_predictions": sum(len(v["data"]) for v in task.results.values()),
                       "scores": {m: {k: float(v) for k, v in s.items()}
                                  for m, s in task.scores.items()}}
    out.append({"path": path, "is_valid": bool(mb.is_valid),
                "is_recorded": bool(mb.is_recorded), "tasks": tasks})
print(json.dumps(out))
"""


def matbench_load(paths: list[Path], tmp_path: Path) -> list[dict]:
    """For each file: ``is_valid``, ``is_recorded`` and per task the recorded folds, the
    number of predictions and matbench's scores (skips when matbench cannot be installed).
    A gzipped file is loaded by the line the suite documents for 0.6 users
    (``LOAD_WITH_MATBENCH_06``: 0.6's ``from_file`` reads plain text only)."""
    target = pip_target("matbench-0.6", MB_REQUIREMENTS)
    args = tmp_path / "matbench_paths.json"
    args.write_text(json.dumps([str(p) for p in paths]))
    env = {**os.environ, "PYTHONPATH": str(target), "MPLBACKEND": "Agg"}
    from benchmarks.reports.matbench_results import LOAD_WITH_MATBENCH_06

    proc = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, str(args), LOAD_WITH_MATBENCH_06],
                          capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
