"""Planned wall time of the CLOUD fine-tunings of ``--task all`` on one GPU and on a node of
several, from the job durations of the committed GPU runs.

Reads the job tables of ``reports/gpu_runs/lanes_call*.txt`` (one ``benchmarks/run.py``
process per task x model x fold, 15 at a time on one H100; finished jobs only), and counts
the CLOUD jobs a full run plans per task (configured models x folds, ablations included).
A task's planned wall time on ``G`` GPUs with ``S`` jobs sharing each GPU is
``max(jobs x median / (G x S), longest job)``: its jobs spread over the slots, but the task
ends no sooner than its longest job. Run task after task (the runner before it planned a
run once), the wall time is the sum over tasks; with every task's jobs in one executor call
(Ray schedules across tasks) it is ``max(sum of jobs x median / (G x S), longest job)``
over all measured tasks together: no slot idles at a task boundary. Durations were measured with 15 jobs sharing the GPU, so at fewer jobs a GPU
(``num_gpus: 0.25`` is 4) they are an upper bound. Tasks without a measured job are listed
and left out of the totals.

``python benchmarks/perf/cluster_plan.py [--gpus 1,8] [--per-gpu 4] [--lanes FILES]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `python benchmarks/perf/...` from a plain checkout
    sys.path.insert(0, str(REPO))

LANES = sorted((REPO / "reports" / "gpu_runs").glob("lanes_call*.txt"))


def job_durations(texts: list[str]) -> dict[str, list[float]]:
    """Seconds of each finished job, per task (job names ``<task>.<model>.f<k>...``)."""
    out: dict[str, list[float]] = {}
    for text in texts:
        for line in text.splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 5 and parts[1] == "ok" and "." in parts[0]:
                out.setdefault(parts[0].split(".")[0], []).append(float(parts[4]))
    return out


def planned_jobs() -> dict[str, int]:
    """CLOUD jobs of a full ``--task all`` run, per task."""
    from benchmarks.config import load_layers, task_config, task_models
    from benchmarks.tasks import select

    layers = load_layers()
    jobs = {}
    for task in select("all"):
        cfg = task_config(layers, task.name, task.family)
        models = [m for m, s in task_models(cfg, task.name, task.kind).specs.items()
                  if s.declarations.trains_network]
        jobs[task.name] = len(models) * len(cfg["folds"])
    return jobs


def task_wall(jobs: int, durations: list[float], gpus: int, per_gpu: int) -> float:
    return max(jobs * statistics.median(durations) / (gpus * per_gpu), max(durations))


def run_wall(jobs: dict[str, int], durations: dict[str, list[float]], gpus: int,
             per_gpu: int) -> float:
    """Wall time of the measured tasks' jobs in one executor call, scheduled across tasks."""
    measured = [t for t in jobs if t in durations]
    if not measured:
        return 0.0
    work = sum(jobs[t] * statistics.median(durations[t]) for t in measured)
    return max(work / (gpus * per_gpu), max(max(durations[t]) for t in measured))


def plan_table(jobs: dict[str, int], durations: dict[str, list[float]], gpus: list[int],
               per_gpu: int) -> tuple[str, dict[int, float]]:
    """A markdown table (task, jobs, median and longest job, wall per GPU count) and the
    total wall per GPU count over the measured tasks."""
    head = ["task", "CLOUD jobs", "median job s", "longest job s",
            *(f"wall on {g} GPU{'s' if g > 1 else ''} (min)" for g in gpus)]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    totals = dict.fromkeys(gpus, 0.0)
    for task, n in jobs.items():
        if task not in durations:
            rows.append(f"| {task} | {n} | not measured | | " + " | " * (len(gpus) - 1) + "|")
            continue
        walls = {g: task_wall(n, durations[task], g, per_gpu) for g in gpus}
        for g in gpus:
            totals[g] += walls[g]
        rows.append(f"| {task} | {n} | {statistics.median(durations[task]):.0f} | "
                    f"{max(durations[task]):.0f} | "
                    + " | ".join(f"{walls[g] / 60:.1f}" for g in gpus) + " |")
    rows.append("| **measured tasks, task after task** | | | | "
                + " | ".join(f"**{totals[g] / 60:.1f}**" for g in gpus) + " |")
    rows.append("| **measured tasks, scheduled across tasks** | | | | "
                + " | ".join(f"**{run_wall(jobs, durations, g, per_gpu) / 60:.1f}**"
                             for g in gpus) + " |")
    return "\n".join(rows), totals


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python benchmarks/perf/cluster_plan.py --gpus 1,8 --per-gpu 4",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gpus", default="1,8", help="comma list of GPU counts")
    p.add_argument("--per-gpu", type=int, default=4,
                   help="jobs sharing one GPU (1 / the models' num_gpus; default 4)")
    p.add_argument("--lanes", nargs="*", type=Path, default=LANES,
                   help="job tables of GPU runs (default: reports/gpu_runs/lanes_call*.txt)")
    args = p.parse_args(argv)
    gpus = [int(g) for g in args.gpus.split(",")]
    durations = job_durations([f.read_text() for f in args.lanes])
    table, totals = plan_table(planned_jobs(), durations, gpus, args.per_gpu)
    print(table)
    jobs = planned_jobs()
    across = {g: run_wall(jobs, durations, g, args.per_gpu) for g in gpus}
    print(f"\n{args.per_gpu} jobs a GPU; speed-up of {gpus[-1]} GPUs over {gpus[0]}: "
          f"{totals[gpus[0]] / totals[gpus[-1]]:.1f}x task after task, "
          f"{across[gpus[0]] / across[gpus[-1]]:.1f}x scheduled across tasks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
