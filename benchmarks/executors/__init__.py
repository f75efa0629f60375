"""Executors: they take a list of jobs and hand their records to the driver, whatever runs
them (this process, the processes of ``accelerate launch``, the workers of a Ray cluster).

Every executor has one interface, ``execute(jobs, group, task_for, data_for, force,
progress, on_record) -> records``: one call takes every job of a run, whatever their tasks
(``task_for(job)``: the job's task adapter, ``data_for(job)``: the data its model reads);
the records come back in the jobs' order, and ``on_record(job, record)`` is called on the
driver as each one arrives, so the driver stores finished folds while the others still
run. Only the driver writes results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

EXECUTORS = ("local", "ray")


def check(name: str, address: str | None) -> None:
    """A ValueError for an executor that cannot run: ``ray`` needs Ray, and runs as one
    driver process; ``--ray-address`` needs ``ray``."""
    if name != "ray":
        if address:
            raise ValueError("--ray-address needs --executor ray")
        return
    from benchmarks.distributed import launched_world_size

    if launched_world_size() > 1:
        raise ValueError("--executor ray runs as one process (the driver), not under "
                         "accelerate launch")
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise ValueError('--executor ray needs Ray: pip install -e ".[ray]"') from exc


@contextmanager
def session(name: str, address: str | None = None) -> Iterator[Callable[..., list[dict]]]:
    """The ``execute`` function of executor ``name``, ready for the run's jobs: for ``ray``,
    connected to the cluster at ``address`` (``auto``, ``HOST:PORT``) or to a local cluster
    started here (and shut down on leaving)."""
    if name == "local":
        from benchmarks.executors.local import execute

        yield execute
        return
    if name != "ray":
        raise ValueError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")
    from benchmarks.executors import ray as ray_executor

    with ray_executor.connected(address):
        yield ray_executor.execute
