"""Encode many structures in parallel; failures become rows of an error table.

``encode_many`` never raises for a bad row: every input id ends up either in ``rows``
(``id, scope``) or in ``errors`` (``id, kind, message``), in input order.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

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


def _encode_range(args) -> list[tuple[str, str | None, str, str]]:
    encoder, start, stop = args
    return [encode_one(encoder, ident, payload) for ident, payload in _SHARED[start:stop]]


def _chunks(items: Iterable, encoder: ScopeEncoder, size: int) -> Iterator:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield encoder, chunk


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
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    result = BatchResult()
    bar = tqdm(total=total, desc=f"SCOPE ({encoder.mode})", unit="struct", disable=not progress)
    global _SHARED
    fork = "fork" in mp.get_all_start_methods()
    pool = None
    if workers == 1:
        outputs = map(_encode_chunk, _chunks(items, encoder, chunksize))
    elif fork and isinstance(items, list):  # workers inherit the list: only ranges travel
        _SHARED = items
        pool = mp.get_context("fork").Pool(workers)
        outputs = pool.imap(_encode_range, ((encoder, i, min(i + chunksize, len(items)))
                                            for i in range(0, len(items), chunksize)))
    else:
        pool = mp.get_context("fork" if fork else "spawn").Pool(workers)
        outputs = pool.imap(_encode_chunk, _chunks(items, encoder, chunksize))
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
        if pool is not None:
            pool.close()
            pool.join()
        _SHARED = None
    return result
