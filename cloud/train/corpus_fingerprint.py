"""A pretraining corpus's fingerprint: which SCOPE strings and compositions it holds.

Small enough to commit beside an encoder (the corpus itself is rebuilt from the data), so
that a benchmark can say, for each of its test inputs, whether the encoder saw that exact
string, or that composition, while pretraining. The fingerprint keeps the first
``HASH_BYTES`` bytes of the SHA-256 of each distinct string and of each distinct composition
(the composition part of the SCOPE string, element/amount pairs sorted by element), sorted,
in ``corpus_fingerprint.npz``. With 6 bytes (2^48 values) the chance that a string *not* in
an 88,818-string corpus matches one of its hashes is about 3e-10 per lookup.

``python -m cloud.train.corpus_fingerprint --corpus runs/corpus/corpus.csv.gz --encoder
cloud/pretrained/cloud-small-offline`` writes the file and records it (with the corpus's
string count and the file's checksum) under ``corpus_fingerprint`` in the encoder's
``manifest.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

HASH_BYTES = 6
FILE = "corpus_fingerprint.npz"
SEPARATOR = "|"


def composition_key(scope: str) -> str | None:
    """The composition part of a SCOPE string as ``El amount`` pairs sorted by element (an
    amount as written); ``None`` for a string without one (e.g. an ablated input)."""
    parts = [p.strip() for p in scope.split(SEPARATOR)]
    if len(parts) != 3 or not parts[2]:
        return None
    tokens = parts[2].split()
    if len(tokens) % 2:
        return None
    pairs = sorted(zip(tokens[::2], tokens[1::2], strict=True))
    return " ".join(f"{el} {amount}" for el, amount in pairs)


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:HASH_BYTES], "big")


def hashes(strings: Iterable[str]) -> np.ndarray:
    """Sorted distinct truncated SHA-256 of ``strings`` as unsigned integers."""
    return np.array(sorted({_hash(s) for s in strings}), dtype=np.uint64)


def _pack(values: np.ndarray) -> np.ndarray:
    return values.astype(">u8").view(np.uint8).reshape(-1, 8)[:, 8 - HASH_BYTES:]


def _unpack(packed: np.ndarray) -> np.ndarray:
    full = np.zeros((len(packed), 8), np.uint8)
    full[:, 8 - HASH_BYTES:] = packed
    return full.reshape(-1).view(">u8").astype(np.uint64)


class CorpusFingerprint:
    """Membership tests against a corpus's string and composition hashes."""

    def __init__(self, scope: np.ndarray, composition: np.ndarray, n_strings: int):
        self.scope, self.composition, self.n_strings = scope, composition, n_strings

    @classmethod
    def from_strings(cls, strings: Iterable[str]) -> CorpusFingerprint:
        strings = list(strings)
        comps = [c for c in map(composition_key, strings) if c is not None]
        return cls(hashes(strings), hashes(comps), len(set(strings)))

    @classmethod
    def load(cls, path: str | Path) -> CorpusFingerprint:
        with np.load(path) as z:
            return cls(_unpack(z["scope"]), _unpack(z["composition"]), int(z["n_strings"]))

    def save(self, path: str | Path) -> Path:
        np.savez_compressed(path, scope=_pack(self.scope), composition=_pack(self.composition),
                            n_strings=np.int64(self.n_strings))
        return Path(path)

    @staticmethod
    def _member(table: np.ndarray, strings: list[str | None]) -> np.ndarray:
        out = np.zeros(len(strings), bool)
        idx = [i for i, s in enumerate(strings) if s is not None]
        if not idx or table.size == 0:
            return out
        vals = np.array([_hash(strings[i]) for i in idx], dtype=np.uint64)
        pos = np.minimum(np.searchsorted(table, vals), table.size - 1)
        out[idx] = table[pos] == vals
        return out

    def contains_strings(self, strings: list[str]) -> np.ndarray:
        """Per string: is it (exactly) in the corpus."""
        return self._member(self.scope, list(strings))

    def contains_compositions(self, strings: list[str]) -> np.ndarray:
        """Per SCOPE string: is its composition that of some corpus string."""
        return self._member(self.composition, [composition_key(s) for s in strings])


def fingerprint_of(encoder_dir: str | Path) -> CorpusFingerprint | None:
    """The encoder's committed fingerprint, or ``None`` when it has none."""
    path = Path(encoder_dir) / FILE
    return CorpusFingerprint.load(path) if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    from cloud.data import sha256sum
    from cloud.fileio import write_json_atomic
    from cloud.train.corpus import read_corpus

    p = argparse.ArgumentParser(prog="python -m cloud.train.corpus_fingerprint",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Example:\n  python -m cloud.train.corpus_fingerprint --corpus runs/corpus/corpus.csv.gz --encoder cloud/pretrained/cloud-small-offline")
    p.add_argument("--corpus", type=Path, required=True, help="corpus.csv.gz")
    p.add_argument("--encoder", type=Path, required=True, help="the encoder's folder")
    args = p.parse_args(argv)
    strings = read_corpus(args.corpus)
    fp = CorpusFingerprint.from_strings(strings)
    path = fp.save(args.encoder / FILE)
    manifest_path = args.encoder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest["corpus_fingerprint"] = {
        "file": FILE, "sha256": sha256sum(path), "n_strings": fp.n_strings,
        "n_string_hashes": int(fp.scope.size), "n_compositions": int(fp.composition.size),
        "hash": f"first {HASH_BYTES} bytes of SHA-256 of each distinct string / composition",
        "corpus_rebuilt_with": "python -m cloud.train.corpus (same data, same code)",
        "corpus_sha256_of_rebuild": sha256sum(args.corpus)}
    write_json_atomic(manifest_path, manifest)
    print(f"{fp.n_strings} strings, {fp.composition.size} compositions -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
