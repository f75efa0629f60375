"""Peak memory of a smoke run of every task, and the ``--task all --smoke`` wall time.

Side by side in one run, each as a child process read with ``os.wait4`` (its own resource
usage, its pool workers included; ``getrusage(RUSAGE_CHILDREN)`` would give the maximum
over all children so far):

1. the bare interpreter importing ``cloud`` and torch: the reference peak RSS;
2. ``benchmarks/run.py --task <t> --smoke`` for every task ``t`` of ``--task all``: wall time
   and peak RSS, and the ratio of that peak to the bare import's;
3. ``benchmarks/run.py --task all --smoke``: its wall time against the sum of the per-task
   times (one process pays start-up, imports and the reference data once);
4. the same ``--task all`` again on the SCOPE cache that run 3 filled (``--no-warm`` skips).

Runs 1-3 encode every structure (SCOPE cache off, or a fresh one for run 3); every run is
offline and sees only the data directory (as the regression stage). Peak RSS is that of
the largest single process (a pool worker shares its parent's pages). The machine's load
(``os.getloadavg``) is printed next to each number.

``python benchmarks/perf/smoke_resources.py [--tasks all] [--data-dir DIR] [--no-warm]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `python benchmarks/perf/...` from a plain checkout
    sys.path.insert(0, str(REPO))


def measure(cmd: list[str], env: dict) -> dict:
    """Wall time, peak RSS (MB) and exit status of one child process."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": time.perf_counter() - start, "peak_mb": usage.ru_maxrss / 1024,
            "cpu_s": usage.ru_utime + usage.ru_stime, "rc": proc.returncode, "load": load}


def statuses(out: Path) -> dict[str, str]:
    path = out / "summary.json"
    if not path.exists():
        return {}
    return {n: e.get("status", "?") for n, e in json.loads(path.read_text())["tasks"].items()}


def main() -> None:
    from benchmarks.regression import default_data_dir, offline_env, run_command
    from benchmarks.tasks import select

    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python benchmarks/perf/smoke_resources.py --tasks "
               "matbench_jdft2d --data-dir ../shared/data",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="all", help="task spec (default: all)")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--no-warm", action="store_true")
    args = parser.parse_args()
    data_dir = args.data_dir or default_data_dir()
    names = [t.name for t in select(args.tasks)]

    with tempfile.TemporaryDirectory(prefix="cloud-perf-") as tmp:
        tmp = Path(tmp)
        env_off = offline_env(tmp / "downloads", scope_cache="off")
        bare = measure([sys.executable, "-c", "import cloud, torch"], env_off)
        print(f"bare interpreter + torch import: peak {bare['peak_mb']:.0f} MB, "
              f"{bare['wall_s']:.1f} s (load {bare['load']:.1f})", flush=True)
        print(f"{'task':24s}{'status':>9s}{'wall s':>9s}{'cpu s':>9s}{'peak MB':>9s}"
              f"{'x bare':>8s}{'load':>6s}", flush=True)
        per_task = {}
        for name in names:
            out = tmp / "tasks" / name
            r = measure(run_command(out, data_dir, name), env_off)
            r["status"] = statuses(out).get(name, f"rc {r['rc']}")
            per_task[name] = r
            print(f"{name:24s}{r['status']:>9s}{r['wall_s']:9.1f}{r['cpu_s']:9.1f}"
                  f"{r['peak_mb']:9.0f}{r['peak_mb'] / bare['peak_mb']:8.2f}{r['load']:6.1f}",
                  flush=True)
        spec = ",".join(names) if args.tasks != "all" else "all"
        env_cache = offline_env(tmp / "downloads", scope_cache=str(tmp / "scope-cache"))
        whole = measure(run_command(tmp / "all", data_dir, spec), env_cache)
        total = sum(r["wall_s"] for r in per_task.values())
        print(f"--task {spec} --smoke: {whole['wall_s']:.1f} s wall, {whole['cpu_s']:.1f} s "
              f"cpu, peak {whole['peak_mb']:.0f} MB, rc {whole['rc']} (load "
              f"{whole['load']:.1f}); sum of the per-task runs {total:.1f} s", flush=True)
        print(f"ratio --task all / sum of per-task (wall): {whole['wall_s'] / total:.2f}")
        worst = max(per_task.values(), key=lambda r: r["peak_mb"])
        print(f"ratio largest per-task peak / bare import (RSS): "
              f"{worst['peak_mb'] / bare['peak_mb']:.2f}")
        if not args.no_warm:
            warm = measure(run_command(tmp / "all-warm", data_dir, spec), env_cache)
            print(f"--task {spec} --smoke on a warm SCOPE cache: {warm['wall_s']:.1f} s wall, "
                  f"{warm['cpu_s']:.1f} s cpu (load {warm['load']:.1f}); ratio cold / warm "
                  f"(wall): {whole['wall_s'] / warm['wall_s']:.2f}")


if __name__ == "__main__":
    main()
