"""Run jobs as tasks on a Ray cluster: one Ray task per (task, fold, model) job.

- **Resources**: each job asks for its model's ``resources`` setting (``num_cpus``,
  ``num_gpus``, ``memory``; default ``{num_cpus: 1}``), so small encoders share a GPU
  (``num_gpus: 0.25``: four fine-tunes a GPU). On a cluster without GPUs, ``num_gpus`` is
  dropped and the job trains on its CPUs. A worker sets torch's threads to its ``num_cpus``.
- **Data**: the driver loads and encodes a task's data once (per SCOPE mode) and puts it in
  the object store; every worker reads it from there, so no node needs the data files, the
  SCOPE cache or a shared data directory, and no two workers encode the same structures.
- **Results**: a worker returns its job's record and writes nothing but the job's own work
  folder (checkpoints; the kept model with ``--save-models``). The driver gathers the records
  as they finish (``ray.wait``) and stores each at once through ``on_record``, so finished
  folds are on disk when a run is interrupted, in the layout of the local executor.
- **Faults**: a job whose worker dies (killed, out of memory) is retried up to
  ``max_retries`` times (``resources: {max_retries: N}``; default :data:`MAX_RETRIES`), and
  resumes from its last checkpoint; after that, or when the model raises (never retried:
  the same inputs fail again), the job is a failure record with the error and traceback,
  and the other jobs go on.
- **Ctrl-C**: while jobs are in flight, SIGINT only sets a flag (:class:`Interruption`), so
  it never lands inside a Ray call; the driver then stops submitting, cancels the jobs still
  queued or running, waits (at most :data:`DRAIN_SECONDS`) until Ray has answered for every
  one of them — storing a fold that finished meanwhile — says so in one line and raises
  ``KeyboardInterrupt`` (exit status non-zero). Ray is shut down only with no reply in
  flight: a reply arriving during shutdown crashed the driver with a native stack.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks.executors.progress import TaskProgress
from benchmarks.jobs import Job, failure_record, prepare_work_dir, run_job

MAX_RETRIES = 2  # new attempts for a job whose worker process died
DEFAULT_RESOURCES = {"num_cpus": 1}
RESOURCE_KEYS = ("num_cpus", "num_gpus", "memory", "max_retries")
# object store of a local cluster started by the runner (a task's encoded data is small next
# to a model; Ray spills to disk beyond it)
LOCAL_OBJECT_STORE_BYTES = 500_000_000
WAIT_SECONDS = 0.25  # the longest the driver waits for a result before looking at Ctrl-C
DRAIN_SECONDS = 60.0  # after Ctrl-C: the longest it waits for Ray to answer for cancelled jobs


class Interruption:
    """While active (in the main thread), SIGINT sets :attr:`requested` instead of raising
    ``KeyboardInterrupt`` wherever the driver is; the previous handler comes back on exit.
    In another thread (no signal can be delivered there) it does nothing."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame) -> None:
        self.requested = True

    def __enter__(self) -> Interruption:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


@contextmanager
def connected(address: str | None) -> Iterator[None]:
    """Join the cluster at ``address`` (``auto``: the one ``ray start`` runs on this node),
    or start a local one on this machine's cores and GPUs; shut down what was started here.
    A Ray session already open in this process (a notebook, a test) is used as it is."""
    import ray

    if ray.is_initialized():
        yield
        return
    options = {"include_dashboard": False, "logging_level": "WARNING"}
    if address:
        ray.init(address=address, **options)
    else:
        ray.init(object_store_memory=LOCAL_OBJECT_STORE_BYTES, **options)
    try:
        yield
    finally:
        ray.shutdown()


def job_options(spec: dict, cluster_gpus: float) -> dict:
    """The Ray task options of a job from its model's ``resources``."""
    resources = {**DEFAULT_RESOURCES, **(spec.get("resources") or {})}
    unknown = sorted(set(resources) - set(RESOURCE_KEYS))
    if unknown:
        raise ValueError(f"resources: unknown keys {unknown}; known: {list(RESOURCE_KEYS)}")
    options = {"num_cpus": float(resources["num_cpus"]),
               "max_retries": int(resources.get("max_retries", MAX_RETRIES)),
               "retry_exceptions": False}
    if cluster_gpus > 0 and resources.get("num_gpus"):
        options["num_gpus"] = float(resources["num_gpus"])
    if resources.get("memory"):
        options["memory"] = int(resources["memory"])
    return options


def run_in_worker(task, data, job: Job, force: bool, threads: int) -> dict:
    """One job in a Ray worker: its threads, its work folder, its record."""
    import torch

    torch.set_num_threads(threads)
    prepare_work_dir(job, force)
    return run_job(task, data, job, progress=False)


def execute(jobs: list[Job], group, task_for, data_for, force: bool, progress: bool,
            on_record=None) -> list[dict]:
    """Records of ``jobs`` in their order; each stored through ``on_record`` as it arrives.
    The jobs of every task are submitted together, costliest first, so the cluster runs
    jobs of different tasks at the same time and never waits at a task boundary."""
    import ray

    if not jobs:
        return []
    on_record = on_record or (lambda job, record: None)
    remote = ray.remote(run_in_worker)
    gpus = ray.cluster_resources().get("GPU", 0)
    task_refs, data_refs = {}, {}
    pending: dict = {}
    views = {}
    for job in jobs:
        views.setdefault(job.task, TaskProgress(job.task, 0)).total += 1
    records: list[dict | None] = [None] * len(jobs)
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].cost)

    def store(ref) -> None:
        i, submitted = pending.pop(ref)
        records[i] = _record(ray, ref, jobs[i], submitted)
        on_record(jobs[i], records[i])
        views[jobs[i].task].finished(records[i])

    with Interruption() as stop:
        try:
            for i in order:
                if stop.requested:
                    break
                job = jobs[i]
                if job.task not in task_refs:
                    task_refs[job.task] = ray.put(task_for(job))
                if (job.task, job.scope_mode) not in data_refs:  # encoded once on the driver
                    data_refs[job.task, job.scope_mode] = ray.put(data_for(job))
                options = job_options(job.spec, gpus)
                ref = remote.options(name=job.name, **options).remote(
                    task_refs[job.task], data_refs[job.task, job.scope_mode], job, force,
                    max(1, int(options["num_cpus"])))
                pending[ref] = (i, time.perf_counter())
            if not stop.requested:
                for view in views.values():
                    view.started()
            while pending and not stop.requested:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_SECONDS)
                for ref in ready:
                    store(ref)
        except KeyboardInterrupt:  # SIGINT outside the main thread's handler (a thread)
            stop.requested = True
        if stop.requested:
            done = sum(v.done for v in views.values())
            failed = sum(v.failed for v in views.values())
            n_queued = len(jobs) - len(pending) - done - failed
            cancelled = _cancel_and_drain(ray, pending, store)
            done = sum(v.done for v in views.values())
            print(f"interrupted: {cancelled} jobs cancelled"
                  + (f" ({n_queued} never submitted)" if n_queued > 0 else "")
                  + f"; {done} finished folds are stored (a new run reuses them)",
                  file=sys.stderr, flush=True)
            raise KeyboardInterrupt
    return records


def _cancel_and_drain(ray, pending: dict, store) -> int:
    """Cancel every job in ``pending`` and wait until Ray has answered for each: a job that
    finished before its cancel arrived is stored (``store``), a cancelled one is dropped
    (not a failure: a new run redoes it). The number cancelled."""
    for ref in pending:
        ray.cancel(ref, force=True)
    cancelled, deadline = 0, time.monotonic() + DRAIN_SECONDS
    while pending and time.monotonic() < deadline:
        ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=WAIT_SECONDS)
        for ref in ready:
            try:
                ray.get(ref, timeout=0)
            except ray.exceptions.RayError:  # cancelled, or its worker killed by the cancel (a
                pending.pop(ref)  # model's own error is a record: jobs.run_job catches it)
                cancelled += 1
                continue
            store(ref)
    return cancelled + len(pending)


def _record(ray, ref, job: Job, submitted: float) -> dict:
    """The job's record, or a failure record when its worker died past its retries."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else ""
        return failure_record(job, f"{type(exc).__name__}: {first}", text,
                              time.perf_counter() - submitted)
