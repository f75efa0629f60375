"""Which device trained each fold of a run, from the job tables of the machine that ran it.

Fold records written before they carried their ``device`` say nothing about where they were
trained; the runs that were trained elsewhere (the ``*_gpu`` runs: one job per task, model
and fold on a rented GPU, ``reports/gpu_runs/``) have their plans (``plan_*.txt``: each job's
``benchmarks/run.py`` command line) and job tables (``lanes_*.txt``: each job's status).
This module reads them and writes ``fold_devices.json`` into the committed run: every fold
of a job that finished (``ok``) and wrote into one of the given ``--out`` folders.

``python -m benchmarks.reports.fold_devices --job-tables reports/gpu_runs \\
  --outs runs/gpu/matbench,runs/gpu/matbench2,runs/gpu/matbench3 \\
  --device "NVIDIA H100 80GB HBM3" --run reports/matbench_gpu``
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

from benchmarks.reports.cost import DEVICES_FILE
from cloud.fileio import write_json_atomic

_PLAN = re.compile(r"^(?P<job>[^\s:<]+)(?:\s*<-\s*\S+)?:\s*(?P<cmd>.*)$")


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def finished_jobs(tables: Path) -> set[str]:
    """Names of the jobs whose status is ``ok`` in any ``lanes_*.txt``."""
    done = set()
    for path in sorted(tables.glob("lanes_*.txt")):
        for line in path.read_text().splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 2 and parts[1] == "ok":
                done.add(parts[0])
    return done


def trained_folds(tables: Path, outs: set[str]) -> dict[str, str]:
    """``"task/model/fold" -> "job (plan file)"`` for the finished runner jobs writing into
    one of ``outs``."""
    done = finished_jobs(tables)
    folds = {}
    for plan in sorted(tables.glob("plan_*.txt")):
        for line in plan.read_text().splitlines():
            m = _PLAN.match(line.strip())
            if not m or m["job"] not in done or "benchmarks/run.py" not in m["cmd"]:
                continue
            argv = shlex.split(m["cmd"])
            if _option(argv, "--out") not in outs:
                continue
            for model in (_option(argv, "--models") or "").split(","):
                for fold in (_option(argv, "--folds") or "").split(","):
                    folds[f"{_option(argv, '--task')}/{model}/{fold}"] = (
                        f"{m['job']} ({plan.name})")
    return folds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.reports.fold_devices",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Example:\n  python -m benchmarks.reports.fold_devices --job-tables reports/gpu_runs --outs runs/a,runs/b --device \"NVIDIA H100 80GB HBM3\"")
    p.add_argument("--job-tables", type=Path, required=True)
    p.add_argument("--outs", required=True, help="comma list of the jobs' --out folders")
    p.add_argument("--device", required=True)
    p.add_argument("--run", type=Path, required=True, help="the committed run folder")
    args = p.parse_args(argv)
    folds = trained_folds(args.job_tables, set(args.outs.split(",")))
    write_json_atomic(args.run / DEVICES_FILE, {
        "about": f"folds trained on {args.device}: jobs with status ok in "
                 f"{args.job_tables}/lanes_*.txt writing to {args.outs} "
                 f"(python -m benchmarks.reports.fold_devices)",
        "folds": dict.fromkeys(sorted(folds), args.device),
        "jobs": dict(sorted(folds.items()))})
    print(f"{len(folds)} folds -> {args.run / DEVICES_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
