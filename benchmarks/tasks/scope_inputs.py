"""Shared input step of the adapters: structures -> SCOPE strings, with a per-row error table.

Encodings are cached on disk (``$CLOUD_SCOPE_CACHE``, default ``<download cache>/scope``;
``CLOUD_SCOPE_CACHE=off`` disables it). An entry's key is the sha256 of everything that
decides the strings: the input rows (ids and structure content, so a changed file never hits
an old entry), every setting of the encoder (mode, symmetry tolerances, ...), the source of ``cloud/scope`` and the
versions of spglib, moyopy and pymatgen. Each entry carries the sha256 of its payload; an
entry that fails it (or is unreadable) is refused with a warning and encoded afresh.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from cloud.scope.batch import BatchResult, encode_many
from cloud.scope.encoder import ScopeEncoder

ENV_SCOPE_CACHE = "CLOUD_SCOPE_CACHE"
CACHE_FORMAT = "cloud-scope-cache v1"
SCOPE_SOURCE = Path(__file__).resolve().parents[2] / "cloud" / "scope"


def encode_structures(ids, structures, targets, mode: str = "paper", progress: bool = True):
    """Encode; drop (and report) rows whose structure fails or whose target is not finite.

    Returns (ids, texts, targets, kept row positions, errors) with errors as (id, kind, message).
    """
    targets = np.asarray(targets, dtype=float)
    errors = [(str(i), "nan_target", "target is NaN or infinite")
              for i, t in zip(ids, targets, strict=True) if not np.isfinite(t)]
    finite = {str(i) for i, t in zip(ids, targets, strict=True) if np.isfinite(t)}
    items = [(str(i), s) for i, s in zip(ids, structures, strict=True) if str(i) in finite]
    result = cached_encode(items, ScopeEncoder(mode), progress=progress)
    errors += result.errors
    scopes = dict(result.rows)
    pos = [k for k, i in enumerate(ids) if str(i) in scopes]
    kept_ids = [str(ids[k]) for k in pos]
    return kept_ids, [scopes[i] for i in kept_ids], targets[pos], np.array(pos, int), errors


def scope_cache_dir() -> Path | None:
    """The SCOPE cache directory, or None when ``$CLOUD_SCOPE_CACHE`` is ``off``."""
    env = os.environ.get(ENV_SCOPE_CACHE)
    if env and env.strip().lower() in ("off", "0", "no", "false"):
        return None
    if env:
        return Path(env).expanduser()
    from cloud.data import cache_dir

    return cache_dir() / "scope"


def cached_encode(items: list[tuple[str, object]], encoder: ScopeEncoder,
                  progress: bool = True) -> BatchResult:
    """``encode_many`` through the on-disk cache (a miss encodes and stores the result)."""
    root = scope_cache_dir()
    key = cache_key(items, encoder) if root is not None else None
    if key is None:
        return encode_many(items, encoder, progress=progress)
    path = root / f"{key}.json"
    hit = read_entry(path, key, [i for i, _ in items])
    if hit is not None:
        return hit
    result = encode_many(items, encoder, progress=progress)
    write_entry(path, key, result)
    return result


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 of the encoder's source and data files and of the symmetry libraries' versions."""
    from importlib import metadata

    h = hashlib.sha256()
    for p in sorted(SCOPE_SOURCE.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(p.relative_to(SCOPE_SOURCE).as_posix().encode() + b"\0" + p.read_bytes())
    for dist in ("spglib", "moyopy", "pymatgen"):
        try:
            h.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist}=absent".encode())
    return h.hexdigest()


def _content(obj) -> bytes | None:
    """Bytes that identify one structure input, or None for an input we cannot hash."""
    from cloud.scope.cell import Cell

    if isinstance(obj, Mapping):
        return b"dict\0" + json.dumps(obj, sort_keys=True, default=repr).encode()
    if isinstance(obj, str):
        return b"text\0" + obj.encode("utf-8", "surrogatepass")
    if isinstance(obj, Path):
        try:
            return b"file\0" + obj.read_bytes()
        except OSError:
            return None
    if obj is None or (isinstance(obj, float) and math.isnan(obj)):
        return b"none\0"
    if isinstance(obj, Cell):
        return b"cell\0" + b"".join(np.ascontiguousarray(a, float).tobytes()
                                    for a in (obj.lattice, obj.frac_coords)) + (
            "\0".join(obj.species) + "|" + "\0".join(obj.elements)).encode()
    if hasattr(obj, "as_dict") and hasattr(obj, "lattice"):  # pymatgen Structure
        return _content(obj.as_dict())
    return None


def cache_key(items: list[tuple[str, object]], encoder: ScopeEncoder) -> str | None:
    """The entry key of these rows under this encoder, or None when a row cannot be hashed."""
    h = hashlib.sha256()
    settings = json.dumps(dataclasses.asdict(encoder), sort_keys=True)  # mode, tolerances, ...
    h.update(f"{CACHE_FORMAT}\0{code_fingerprint()}\0{settings}\0".encode())
    for ident, obj in items:
        content = _content(obj)
        if content is None:
            return None
        h.update(hashlib.sha256(ident.encode() + b"\0" + content).digest())
    return h.hexdigest()


def write_entry(path: Path, key: str, result: BatchResult) -> None:
    """Atomically write one entry: a header line with the payload's sha256, then the payload."""
    payload = json.dumps({"key": key, "rows": result.rows, "errors": result.errors}).encode()
    header = f"{CACHE_FORMAT} sha256={hashlib.sha256(payload).hexdigest()}\n".encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(header + payload)
        tmp.replace(path)
    except OSError as exc:  # a read-only or full disk costs speed, never a result
        warnings.warn(f"SCOPE cache not written ({path}): {exc}", stacklevel=3)


def read_entry(path: Path, key: str, ids: list[str]) -> BatchResult | None:
    """The cached result, or None for a miss; an entry that fails its checksum, holds another
    key or other rows is refused (warning) so that it is encoded afresh and overwritten."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        warnings.warn(f"SCOPE cache entry {path} unreadable ({exc}); encoding afresh",
                      stacklevel=3)
        return None
    header, _, payload = raw.partition(b"\n")
    expected = f"{CACHE_FORMAT} sha256={hashlib.sha256(payload).hexdigest()}".encode()
    problem = None
    if header != expected:
        problem = "fails its sha256 checksum"
    else:
        doc = json.loads(payload)
        rows = [(str(i), str(s)) for i, s in doc["rows"]]
        errors = [(str(i), str(k), str(m)) for i, k, m in doc["errors"]]
        got = [i for i, _ in rows] + [i for i, _, _ in errors]
        if doc.get("key") != key:
            problem = "holds another key"
        elif sorted(got) != sorted(ids):
            problem = "does not hold exactly the requested rows"
    if problem:
        warnings.warn(f"SCOPE cache entry {path} {problem}: refused, encoding afresh",
                      stacklevel=3)
        return None
    return BatchResult(rows=rows, errors=errors)
