"""Run a plan of commands in parallel lanes on one machine, within a time limit.

Made for a rented GPU machine with a hard limit per command: many small fine-tuning jobs
(one task x model x fold each) share one GPU, bigger ones (pretraining) can gate the jobs that
need their output, and the whole plan must end in time to write reports and send results back.

``python scripts/run_lanes.py PLAN --lanes 12 --stop-at 480 --kill-at 540 --log-dir DIR``

PLAN has one job per line (``#`` comments and blank lines are ignored)::

    NAME: COMMAND                  a job with no prerequisite
    NAME <- DEP1,DEP2: COMMAND     starts only after DEP1 and DEP2 succeeded

Jobs start in plan order as lanes free up (put the long ones first). No job starts after
``--stop-at`` (or ``--kill-at``) seconds; jobs still running at ``--kill-at`` are terminated
(SIGTERM to the job's process group, SIGKILL 10 s later; a runner job keeps
the folds it finished: ``benchmarks/run.py`` writes one result file per fold). A job whose
prerequisite failed, was killed or never ran is not started. Each job's output goes to
``DIR/NAME.log``; ``DIR/lanes.json`` records every job's command, status, exit code and
timings, and a table is printed at the end. Exit code: 0 when every job succeeded, else 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

KILL_GRACE_S = 10.0  # after --kill-at: SIGTERM, and SIGKILL for a job still running this long
LINE = re.compile(r"^(?P<name>[\w.-]+)\s*(?:<-\s*(?P<deps>[\w.,-]+))?\s*:\s*(?P<cmd>.+)$")


@dataclass
class Job:
    name: str
    command: str
    deps: list[str] = field(default_factory=list)
    status: str = "waiting"  # waiting, running, ok, failed, killed, not_started
    returncode: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    reason: str = ""


def parse_plan(text: str) -> list[Job]:
    jobs: list[Job] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if m is None:
            raise ValueError(f"plan line {number}: expected 'NAME: COMMAND' or "
                             f"'NAME <- DEPS: COMMAND', got {raw!r}")
        deps = [d for d in (m["deps"] or "").split(",") if d]
        jobs.append(Job(m["name"], m["cmd"].strip(), deps))
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"plan: repeated job names {sorted({n for n in names if names.count(n) > 1})}")
    for job in jobs:
        unknown = [d for d in job.deps if d not in names]
        if unknown:
            raise ValueError(f"plan: job {job.name} waits for unknown jobs {unknown}")
    return jobs


def run_plan(jobs: list[Job], lanes: int, stop_at: float, kill_at: float, log_dir: Path,
             poll_s: float = 0.5) -> list[Job]:
    log_dir.mkdir(parents=True, exist_ok=True)
    by_name = {j.name: j for j in jobs}
    running: dict[str, subprocess.Popen] = {}
    t0 = time.monotonic()

    def now() -> float:
        return time.monotonic() - t0

    while True:
        for name, proc in list(running.items()):
            if proc.poll() is not None:
                job = by_name[name]
                job.returncode, job.end_s = proc.returncode, now()
                job.status = "ok" if proc.returncode == 0 else (
                    "killed" if job.status == "killing" else "failed")
                del running[name]
        if now() >= kill_at:  # SIGTERM, then SIGKILL for a job still there 10 s later
            sig = signal.SIGKILL if now() >= kill_at + KILL_GRACE_S else signal.SIGTERM
            for name, proc in running.items():
                by_name[name].status = "killing"
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)  # the shell and what it started
        for job in jobs:
            if job.status != "waiting":
                continue
            dep_states = [by_name[d].status for d in job.deps]
            if any(s in ("failed", "killed", "not_started") for s in dep_states):
                job.status, job.reason = "not_started", "a prerequisite did not succeed"
            elif now() >= min(stop_at, kill_at):
                job.status, job.reason = "not_started", (
                    f"--stop-at {stop_at:g} s reached" if now() >= stop_at
                    else f"--kill-at {kill_at:g} s reached")
            elif all(s == "ok" for s in dep_states) and len(running) < lanes:
                with open(log_dir / f"{job.name}.log", "w") as log:  # the child has its copy
                    running[job.name] = subprocess.Popen(job.command, shell=True, stdout=log,
                                                         stderr=subprocess.STDOUT,
                                                         start_new_session=True)
                job.status, job.start_s = "running", now()
        if not running and all(j.status not in ("waiting", "running") for j in jobs):
            break
        time.sleep(poll_s)
    (log_dir / "lanes.json").write_text(json.dumps([asdict(j) for j in jobs], indent=1))
    return jobs


def table(jobs: list[Job]) -> str:
    rows = [f"{'job':<40} {'status':<12} {'rc':>4} {'start':>7} {'time_s':>8}"]
    for j in jobs:
        took = f"{j.end_s - j.start_s:8.1f}" if j.end_s is not None else " " * 8
        start = f"{j.start_s:7.1f}" if j.start_s is not None else " " * 7
        rc = "" if j.returncode is None else str(j.returncode)
        rows.append(f"{j.name:<40} {j.status:<12} {rc:>4} {start} {took}"
                    + (f"  ({j.reason})" if j.reason else ""))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python scripts/run_lanes.py plan.txt --lanes 15 --stop-at 400 "
               "--kill-at 470 --log-dir runs/gpu/logs\n\n"
               "PLAN has one job per line: NAME: COMMAND, or NAME <- DEP1,DEP2: COMMAND.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("plan", type=Path)
    p.add_argument("--lanes", type=int, default=4, help="jobs running at once")
    p.add_argument("--stop-at", type=float, default=float("inf"),
                   help="seconds after which no job starts")
    p.add_argument("--kill-at", type=float, default=float("inf"),
                   help="seconds after which running jobs are terminated")
    p.add_argument("--log-dir", type=Path, default=Path("runs/lanes"))
    p.add_argument("--dry-run", action="store_true", help="print the parsed plan and exit")
    args = p.parse_args(argv)
    jobs = parse_plan(args.plan.read_text())
    if args.dry_run:
        for j in jobs:
            print(f"{j.name} <- {','.join(j.deps) or '-'}: {shlex.split(j.command)}")
        return 0
    run_plan(jobs, args.lanes, args.stop_at, args.kill_at, args.log_dir)
    print(table(jobs))
    return 0 if all(j.status == "ok" for j in jobs) else 1


if __name__ == "__main__":
    sys.exit(main())
