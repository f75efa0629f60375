"""Encode many structures in parallel; failures become rows of an error table.

``encode_many`` never raises for a bad row: every input id ends up either in ``rows``
(``id, scope``) or in ``errors`` (``id, kind, message``), in input order.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cloud.scope.encoder import ScopeEncoder
from cloud.scope.errors import ScopeError

ERROR_COLUMNS = ("id", "kind", "message")


@dataclass
class BatchResult:
    rows: list[tuple[str, str]] = field(default_factory=list)  # (id, scope)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (id, kind, message)

    def __len__(self) -> int:
        return len(self.rows) + len(self.errors)


def encode_one(encoder: ScopeEncoder, ident: str, payload) -> tuple[str, str | None, str, str]:
    """(id, scope or None, error kind, error message) for one input; never raises."""
    try:
        return ident, encoder.encode(payload), "", ""
    except ScopeError as exc:
        return ident, None, exc.kind, str(exc)
    except Exception as exc:  # a bug or an input we did not foresee: report, don't stop
        return ident, None, "invalid", f"{type(exc).__name__}: {exc}"


def _encode_chunk(args) -> list[tuple[str, str | None, str, str]]:
    encoder, chunk = args
    return [encode_one(encoder, ident, payload) for ident, payload in chunk]


_SHARED: list | None = None  # forked workers read the inputs from here (copy-on-write)
CRASH_MESSAGE = "the process encoding this row died (out of memory or killed by a signal)"


def _encode_range(args) -> list[tuple[str, str | None, str, str]]:
    encoder, start, stop = args
    return [encode_one(encoder, ident, payload) for ident, payload in _SHARED[start:stop]]


def _pool_outputs(items: list, encoder: ScopeEncoder, workers: int, chunksize: int) -> Iterator:
    """Chunk outputs in input order from a process pool. If a worker dies (e.g. killed for
    memory) the pool breaks: the unfinished rows are then redone one at a time in a fresh
    one-worker pool, and a row that kills that worker too becomes a ``crash`` error row."""
    global _SHARED
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    fork = "fork" in mp.get_all_start_methods()
    ctx = mp.get_context("fork" if fork else "spawn")

    def submit(executor, a, b):  # forked workers inherit the list: only ranges travel
        if fork:
            return executor.submit(_encode_range, (encoder, a, b))
        return executor.submit(_encode_chunk, (encoder, items[a:b]))

    _SHARED = items if fork else None
    try:
        ranges = [(a, min(a + chunksize, len(items))) for a in range(0, len(items), chunksize)]
        redo = None
        with ProcessPoolExecutor(workers, mp_context=ctx) as executor:
            futures = [submit(executor, a, b) for a, b in ranges]
            for (a, _), future in zip(ranges, futures, strict=True):
                try:
                    yield future.result()
                except BrokenProcessPool:
                    redo = a
                    break
        if redo is None:
            return
        executor = ProcessPoolExecutor(1, mp_context=ctx)
        for i in range(redo, len(items)):
            try:
                yield submit(executor, i, i + 1).result()
            except BrokenProcessPool:
                yield [(items[i][0], None, "crash", CRASH_MESSAGE)]
                executor.shutdown(wait=False, cancel_futures=True)
                executor = ProcessPoolExecutor(1, mp_context=ctx)
        executor.shutdown()
    finally:
        _SHARED = None


def encode_many(
    items: Iterable[tuple[str, object]],
    encoder: ScopeEncoder | None = None,
    workers: int | None = None,
    chunksize: int = 64,
    progress: bool = True,
    total: int | None = None,
) -> BatchResult:
    """Encode ``(id, structure)`` pairs with ``workers`` processes (default: all cores)."""
    from tqdm.auto import tqdm

    encoder = encoder or ScopeEncoder()
    workers = workers or os.cpu_count() or 1
    items = list(items)
    result = BatchResult()
    bar = tqdm(total=total or len(items), desc=f"SCOPE ({encoder.mode})", unit="struct",
               disable=not progress)
    if workers == 1:
        outputs = (_encode_chunk((encoder, items[a:a + chunksize]))
                   for a in range(0, len(items), chunksize))
    else:
        outputs = _pool_outputs(items, encoder, workers, chunksize)
    try:
        for out in outputs:
            for ident, scope, kind, message in out:
                if scope is None:
                    result.errors.append((ident, kind, message))
                else:
                    result.rows.append((ident, scope))
            bar.update(len(out))
    finally:
        bar.close()
    return result
