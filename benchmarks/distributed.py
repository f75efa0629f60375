"""How the processes of one run share its work: one process, or ``accelerate launch -n K``.

Two ways to use K processes (``benchmarks/run.py --distribute jobs|data``):

- ``jobs`` (default): the run's independent (task, model, fold) jobs are split across the
  processes; each job trains in one process exactly as in a single-process run, on that
  process's device. The benchmark datasets are small (hundreds to a few thousand rows a
  fold), so a data-parallel fine-tune spends much of each step synchronising gradients,
  while independent jobs never wait for each other (docs/distributed.md has the measured
  comparison).
- ``data``: every job trains data-parallel across all processes (the paper's way: one
  fine-tune, gradients all-reduced by Accelerate). Worth it for the large tasks
  (mp_e_form's 106k training rows) on a multi-GPU node.

In ``jobs`` mode the launcher's variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ...) are
read here and then removed from the environment, so that Accelerate and transformers in
each process see a single process (they train without gradient synchronisation and save
checkpoints from every process); the processes meet through the launcher's key-value store
(``torch.distributed`` rendezvous, no process group) for barriers and for sending results
to the main process. Only the main process writes shared files; the others wait at a
barrier.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from datetime import timedelta

MODES = ("jobs", "data")
LAUNCH_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK",
               "ROLE_RANK", "ROLE_WORLD_SIZE", "GROUP_WORLD_SIZE", "PMI_SIZE",
               "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
# a process that finished its jobs waits for the slowest one: long trainings must not time out
BARRIER_TIMEOUT = timedelta(days=7)


def launched_world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


@dataclass
class ProcessGroup:
    """This process's place in the run: ``rank`` of ``world_size``, and the mode."""

    mode: str = "jobs"
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    _store: object = field(default=None, repr=False)
    _calls: int = field(default=0, repr=False)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def splits_jobs(self) -> bool:
        return self.mode == "jobs" and self.world_size > 1

    def _next(self, kind: str) -> str:
        self._calls += 1
        return f"{kind}/{self._calls}"

    def barrier(self) -> None:
        if self.world_size == 1:
            return
        if self._store is None:  # data-parallel: Accelerate's process group
            from accelerate import PartialState

            PartialState().wait_for_everyone()
            return
        key = self._next("barrier")
        if self._store.add(key, 1) == self.world_size:
            self._store.set(key + "/open", b"1")
        self._store.wait([key + "/open"])

    def gather(self, obj) -> list | None:
        """Every process's ``obj``, in rank order, on the main process (None elsewhere)."""
        if self.world_size == 1:
            return [obj]
        if self._store is None:
            import torch.distributed as dist

            out = [None] * self.world_size if self.is_main else None
            dist.gather_object(obj, out, dst=0)
            return out
        key = self._next("gather")
        self._store.set(f"{key}/{self.rank}", pickle.dumps(obj))
        if not self.is_main:
            return None
        keys = [f"{key}/{r}" for r in range(self.world_size)]
        self._store.wait(keys)
        return [pickle.loads(self._store.get(k)) for k in keys]

    def main_first(self, fn):
        """``fn()`` on the main process, then on the others (e.g. they read what it cached).
        An exception is raised on every process that raises it, after the barrier."""
        if self.world_size == 1:
            return fn()
        result, error = None, None
        if self.is_main:
            try:
                result = fn()
            except Exception as exc:  # re-raised below, once the others may go on
                error = exc
        self.barrier()
        if not self.is_main:
            try:
                result = fn()
            except Exception as exc:
                error = exc
        if error is not None:
            raise error
        return result


def setup(mode: str = "jobs") -> ProcessGroup:
    """The process group of this run, started from the launcher's environment."""
    if mode not in MODES:
        raise ValueError(f"--distribute must be one of {MODES}, got {mode!r}")
    world = launched_world_size()
    if world == 1:
        return ProcessGroup(mode)
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    if mode == "data":  # Accelerate forms the group (gloo on CPU, NCCL on GPUs)
        from accelerate import PartialState

        state = PartialState(cpu=not _has_gpu())
        return ProcessGroup(mode, state.process_index, state.num_processes,
                            state.local_process_index, local_world)
    import torch
    import torch.distributed as dist

    store, rank, world = next(dist.rendezvous("env://", timeout=BARRIER_TIMEOUT))
    store = dist.PrefixStore("cloud-bench-run/", store)
    store.set_timeout(BARRIER_TIMEOUT)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    for name in LAUNCH_VARS:  # Accelerate now sees one process: no gradient all-reduce
        os.environ.pop(name, None)
    if _has_gpu():
        torch.cuda.set_device(local % torch.cuda.device_count())
    elif "OMP_NUM_THREADS" not in os.environ:  # share the cores between the processes
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    return ProcessGroup(mode, rank, world, local, local_world, store)


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def assign(costs: list[float], world_size: int) -> list[int]:
    """The process of each job: longest first to the least-loaded process (ties: lowest
    rank). Deterministic, so every process computes the same assignment."""
    load = [0.0] * world_size
    owner = [0] * len(costs)
    for i in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        r = min(range(world_size), key=lambda r: (load[r], r))
        owner[i] = r
        load[r] += costs[i]
    return owner
