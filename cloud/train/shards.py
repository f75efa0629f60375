"""A pretraining corpus as token shards on disk: tokenised once, cached, memory-mapped.

``write_shards`` reads SCOPE strings from any iterable (a CSV read row by row, a generator)
and writes, per shard of ``shard_size`` strings, the token ids of all its strings end to end
(``tokens_KKKKK.bin``, raw int16), where each string starts (``offsets_KKKKK.bin``, raw
int64) and each string's length (``lengths_KKKKK.npy``), plus ``index.json`` (counts,
tokenizer, source key). ``ShardedTokens`` reads a row with two ``os.pread`` calls (its offset,
then its tokens): training streams the rows it samples through the page cache, which is not
the process's memory, and what stays in memory is one length (int16) and one row index
(int32) per string, so memory hardly grows with the corpus.

``python -m cloud.train.pretrain --shards DIR`` trains on such a folder;
``cached_shards`` builds one for a CSV corpus (or reuses it when the corpus and tokenizer are
unchanged).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

INDEX = "index.json"
SHARD_SIZE = 100_000
TOKENIZE_CHUNK = 10_000
TOKEN_DTYPE = np.dtype("<i2")
OFFSET_DTYPE = np.dtype("<i8")


def tokenizer_key(tokenizer) -> str:
    vocab = json.dumps(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256(f"{vocab}|{tokenizer.model_max_length}".encode()).hexdigest()[:16]


def write_shards(texts: Iterable[str], tokenizer, out_dir: str | Path, source_key: str = "",
                 shard_size: int = SHARD_SIZE, max_length: int | None = None) -> dict:
    """Tokenise ``texts`` chunk by chunk into shards under ``out_dir``; returns the index."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    max_length = max_length or tokenizer.model_max_length
    if len(tokenizer) >= 2**15:
        raise ValueError("vocabulary too large for int16 token shards")
    it = iter(texts)
    shards, total = [], 0
    while True:
        rows = list(islice(it, shard_size))
        if not rows:
            break
        pieces = []
        for start in range(0, len(rows), TOKENIZE_CHUNK):
            enc = tokenizer(rows[start : start + TOKENIZE_CHUNK], truncation=True,
                            max_length=max_length)["input_ids"]
            pieces += [np.asarray(ids, dtype=np.int16) for ids in enc]
        lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        name = f"{len(shards):05d}"
        np.concatenate(pieces).astype(TOKEN_DTYPE).tofile(out / f"tokens_{name}.bin")
        offsets.tofile(out / f"offsets_{name}.bin")
        np.save(out / f"lengths_{name}.npy", lengths.astype(np.int16))
        shards.append({"name": name, "rows": len(rows)})
        total += len(rows)
    index = {"rows": total, "shards": shards, "tokenizer": tokenizer_key(tokenizer),
             "max_length": max_length, "source": source_key}
    (out / INDEX).write_text(json.dumps(index, indent=1))
    return index


def read_csv_rows(path: str | Path) -> Iterator[str]:
    """The ``scope`` column of a CSV(.gz), one row at a time."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            yield row["scope"]


def cached_shards(corpus: str | Path, tokenizer, cache_dir: str | Path) -> Path:
    """Shards of a CSV corpus in ``cache_dir``, written once per (corpus bytes, tokenizer)."""
    from cloud.data import sha256sum

    cache_dir = Path(cache_dir)
    key = sha256sum(corpus)
    index = cache_dir / INDEX
    if index.exists():
        known = json.loads(index.read_text())
        if known.get("source") == key and known.get("tokenizer") == tokenizer_key(tokenizer):
            return cache_dir
    write_shards(read_csv_rows(corpus), tokenizer, cache_dir, source_key=key)
    return cache_dir


class ShardedTokens(Dataset):
    """Rows of a shard folder (or a subset of them), read from disk on demand; ``lengths``
    per row."""

    def __init__(self, shard_dir: str | Path, rows: np.ndarray | None = None):
        self.dir = Path(shard_dir)
        index = json.loads((self.dir / INDEX).read_text())
        self.names = [s["name"] for s in index["shards"]]
        self._starts = np.cumsum([0] + [s["rows"] for s in index["shards"]])
        lengths = [np.load(self.dir / f"lengths_{name}.npy") for name in self.names]
        all_lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int16)
        n = int(self._starts[-1])
        self.rows = np.arange(n, dtype=np.int32) if rows is None else np.asarray(rows, np.int32)
        self.lengths = all_lengths if rows is None else all_lengths[self.rows]
        self._files: tuple[int, list[tuple[int, int]]] | None = None

    def subset(self, rows: np.ndarray) -> ShardedTokens:
        view = object.__new__(ShardedTokens)
        view.__dict__.update(self.__dict__)
        view.rows = self.rows[np.asarray(rows, dtype=np.int64)]
        view.lengths = self.lengths[np.asarray(rows, dtype=np.int64)]
        view._files = None
        return view

    def _open(self) -> list[tuple[int, int]]:
        """(tokens fd, offsets fd) per shard, opened once per process (forked workers too)."""
        if self._files is None or self._files[0] != os.getpid():
            self._files = (os.getpid(), [
                (os.open(self.dir / f"tokens_{name}.bin", os.O_RDONLY),
                 os.open(self.dir / f"offsets_{name}.bin", os.O_RDONLY)) for name in self.names])
        return self._files[1]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        row = int(self.rows[i])
        shard = int(np.searchsorted(self._starts, row, side="right")) - 1
        local = row - int(self._starts[shard])
        tokens_fd, offsets_fd = self._open()[shard]
        start, end = np.frombuffer(
            os.pread(offsets_fd, 2 * OFFSET_DTYPE.itemsize, local * OFFSET_DTYPE.itemsize),
            dtype=OFFSET_DTYPE)
        raw = os.pread(tokens_fd, int(end - start) * TOKEN_DTYPE.itemsize,
                       int(start) * TOKEN_DTYPE.itemsize)
        return {"input_ids": np.frombuffer(raw, dtype=TOKEN_DTYPE).astype(np.int64)}
