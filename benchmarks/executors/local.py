"""Run jobs in this process, or across the processes of ``accelerate launch``.

- one process: the jobs in order;
- ``--distribute jobs``: each process runs the jobs :func:`benchmarks.distributed.assign`
  gives it (longest first to the least-loaded process), then sends its records to the main
  process;
- ``--distribute data``: every process runs every job, each training data-parallel.

Either way the main process gets every record, in the jobs' order, and alone writes them:
``on_record(job, record)`` is called on the main process as soon as it has a record (after
each job in one process; after the gather when the jobs are split).
"""

from __future__ import annotations

import sys

from benchmarks.distributed import ProcessGroup, assign
from benchmarks.jobs import Job, prepare_work_dir, run_job


def execute(jobs: list[Job], group: ProcessGroup, task_for, data_for, force: bool,
            progress: bool, on_record=None) -> list[dict]:
    """Records of ``jobs`` (of any tasks) in their order on the main process (``[]`` on the
    others). ``task_for(job)`` is the job's task adapter, ``data_for(job)`` the task data
    its model reads."""
    if not jobs:
        return []
    on_record = on_record or (lambda job, record: None)
    if group.splits_jobs:
        owner = assign([j.cost for j in jobs], group.world_size)
        mine = {i: _run(task_for(job), data_for, job, force, progress, group)
                for i, job in enumerate(jobs) if owner[i] == group.rank}
        gathered = group.gather(mine)
        if not group.is_main:
            return []
        merged = {i: r for part in gathered for i, r in part.items()}
        for i, job in enumerate(jobs):
            on_record(job, merged[i])
        return [merged[i] for i in range(len(jobs))]
    records = []
    for job in jobs:
        if group.world_size > 1:  # data-parallel: the main process clears, the others wait
            if group.is_main:
                prepare_work_dir(job, force)
            group.barrier()
        records.append(_run(task_for(job), data_for, job, force, progress, group,
                            prepared=group.world_size > 1))
        if group.is_main:
            on_record(job, records[-1])
    group.barrier()
    return records if group.is_main else []


def _run(task, data_for, job: Job, force: bool, progress: bool, group: ProcessGroup,
         prepared: bool = False) -> dict:
    where = f" (process {group.rank})" if group.splits_jobs else ""
    if group.is_main or group.splits_jobs:
        print(f"[{job.task}] {job.model} fold {job.fold_index}: {len(job.fold.train)} train, "
              f"{len(job.fold.test)} test{where}", file=sys.stderr, flush=True)
    if not prepared:
        prepare_work_dir(job, force)
    record = run_job(task, data_for(job), job, progress and group.is_main)
    if record["status"] == "failed":
        print(f"[{job.task}] {job.model} fold {job.fold_index} FAILED{where}: "
              f"{record['error']}", file=sys.stderr, flush=True)
    return record
