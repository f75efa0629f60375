"""Embeddings on disk, keyed by (encoder sha256, input checksum, pooling).

``$CLOUD_EMBEDDING_CACHE`` (default ``<download cache>/embeddings``; ``off`` disables it)
holds one folder per (encoder sha256, pooling) and in it one entry per input: an ``.npz``
named by the sha256 of the input's strings in order, holding those strings and their
vectors. An entry is read only by a request with the same encoder, input and pooling, or,
row by row, by a request for the same strings under the same encoder and pooling (a
string's vector depends on the string, the encoder and the pooling alone): the folds of a
task, whose training and test rows are the same strings cut differently, are embedded once.
An unreadable entry, or one whose strings do not match its name, is ignored with a warning.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cloud.embeddings.encoder import DEFAULT_BATCH_SIZE, FrozenEncoder, embed
from cloud.fileio import write_bytes_atomic

ENV_EMBEDDING_CACHE = "CLOUD_EMBEDDING_CACHE"


def default_cache_dir() -> Path | None:
    """``$CLOUD_EMBEDDING_CACHE`` (None when ``off``), else ``<download cache>/embeddings``."""
    env = os.environ.get(ENV_EMBEDDING_CACHE)
    if env == "off":
        return None
    if env:
        return Path(env).expanduser()
    from cloud.data.paths import cache_dir

    return cache_dir() / "embeddings"


def input_checksum(texts: list[str]) -> str:
    """sha256 of the strings in order (each ends with a NUL byte: no two lists collide)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass
class CacheStats:
    """What one request did: strings computed by the encoder (each once), rows read from
    entries written before."""

    n_computed: int = 0
    n_reused: int = 0
    exact_hit: bool = False
    entry: str | None = None


def _read_entry(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            texts, vectors = data["texts"], data["vectors"]
    except Exception as exc:  # unreadable: recompute rather than fail the run
        warnings.warn(f"embedding cache entry {path} unreadable ({exc}); ignored", stacklevel=3)
        return None
    if input_checksum([str(t) for t in texts]) != path.stem or len(texts) != len(vectors):
        warnings.warn(f"embedding cache entry {path} does not match its name; ignored",
                      stacklevel=3)
        return None
    return texts, vectors


class EmbeddingCache:
    """The entries of one cache folder (``root``); ``None`` root: nothing cached."""

    def __init__(self, root: str | Path | None):
        self.root = None if root is None else Path(root)
        self._seen: dict[Path, float] = {}
        self._rows: dict[str, dict[str, np.ndarray]] = {}  # folder -> string -> vector

    def folder(self, encoder_sha256: str, pooling: str) -> Path:
        return self.root / f"{encoder_sha256[:32]}-{pooling}"

    def _known(self, folder: Path) -> dict[str, np.ndarray]:
        rows = self._rows.setdefault(str(folder), {})
        for path in sorted(folder.glob("*.npz")) if folder.is_dir() else []:
            stamp = path.stat().st_mtime
            if self._seen.get(path) == stamp:
                continue
            self._seen[path] = stamp
            entry = _read_entry(path)
            if entry is not None:
                rows.update(zip((str(t) for t in entry[0]), entry[1], strict=True))
        return rows

    def get(self, encoder: FrozenEncoder, texts: list[str], pooling: str,
            batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = False
            ) -> tuple[np.ndarray, CacheStats]:
        """[N, hidden] vectors of ``texts`` (in order) and what was computed or reused."""
        texts = [str(t) for t in texts]
        if self.root is None:
            return embed(encoder, texts, pooling, batch_size, progress), CacheStats(len(texts))
        folder = self.folder(encoder.sha256, pooling)
        checksum = input_checksum(texts)
        exact = folder / f"{checksum}.npz"
        if exact.exists() and (entry := _read_entry(exact)) is not None:
            return entry[1].astype(np.float32, copy=False), CacheStats(
                0, len(texts), True, str(exact))
        known = self._known(folder)
        n_reused = sum(t in known for t in texts)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = embed(encoder, missing, pooling, batch_size, progress)
            known.update(zip(missing, fresh, strict=True))
        out = np.zeros((len(texts), encoder.hidden_size), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = known[text]
        stats = CacheStats(len(missing), n_reused)
        if missing:  # a new entry for this input; a fully known input adds no file
            buffer = io.BytesIO()
            np.savez(buffer, texts=np.array(texts, dtype=str), vectors=out)
            write_bytes_atomic(exact, buffer.getvalue())
            self._seen[exact] = exact.stat().st_mtime
            stats.entry = str(exact)
        return out, stats


def cached_embed(encoder: FrozenEncoder, texts: list[str], pooling: str = "cls",
                 batch_size: int = DEFAULT_BATCH_SIZE, cache_dir: str | Path | None = "auto",
                 progress: bool = False) -> tuple[np.ndarray, CacheStats]:
    """:func:`cloud.embeddings.encoder.embed` through the cache in ``cache_dir`` (``auto``:
    :func:`default_cache_dir`; ``None``: no cache)."""
    root = default_cache_dir() if cache_dir == "auto" else cache_dir
    return _cache(None if root is None else str(root)).get(encoder, texts, pooling,
                                                           batch_size, progress)


_CACHES: dict[str | None, EmbeddingCache] = {}


def _cache(root: str | None) -> EmbeddingCache:
    if root not in _CACHES:
        _CACHES[root] = EmbeddingCache(root)
    return _CACHES[root]


__all__ = ["ENV_EMBEDDING_CACHE", "CacheStats", "EmbeddingCache", "cached_embed",
           "default_cache_dir", "input_checksum"]
