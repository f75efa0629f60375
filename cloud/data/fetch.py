"""Download and checksum verification of registered data files.

Downloads go through ``pooch`` (a temporary file next to the destination, renamed into place
only after the checksum matched) with :class:`~cloud.data.http_download.CheckedDownloader` as
its transport (figshare API URLs, bounded retries, resume, refusal of empty and HTML bodies,
a progress bar), so an interrupted or refused download never leaves a file behind. Files already on disk (in the download cache or in a local data directory) are
verified again before use: a file that no longer matches is refused, never silently re-used.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .http_download import CheckedDownloader, DownloadRefused, figshare_api_url
from .registry import Checksum, Entry

log = logging.getLogger(__name__)

CHUNK = 1 << 20
USER_AGENT = "cloud-bench/0.1 (+urllib)"
FIGSHARE_API = "https://api.figshare.com/v2"
ENV_FIGSHARE_API = "CLOUD_FIGSHARE_API"
TIMEOUT_S = 60.0
BACKOFF_S = 1.0
SIDECAR_SUFFIX = ".sha256"
HINT = (
    "To use a local copy instead, pass --data-dir DIR (or set CLOUD_DATA_DIR=DIR) "
    "with the file at DIR/{path}."
)


class DataMissingError(Exception):
    """A data file is neither on disk nor downloadable (offline, or no canonical URL)."""


class ChecksumError(Exception):
    """A file on disk or a download does not match its expected checksum."""


@dataclass(frozen=True)
class Verified:
    """Outcome of :func:`verify_detail`: the file's sha256 and what it was checked against."""

    sha256: str
    against: str  # "canonical" | "manifest" | "offline" | "sidecar" | "unverified"


def missing_message(
    entry: Entry | None, name: str, reason: str, searched: Iterable[Path] = ()
) -> str:
    """The message of a :class:`DataMissingError`: file, checksum, URLs, where we looked, a hint."""
    rel = entry.path if entry else name
    lines = [
        f"data file {Path(rel).name!r}"
        + (f" (registry key {entry.key!r})" if entry else "")
        + f" is not available: {reason}"
    ]
    if entry is not None:
        cs = str(entry.checksum) if entry.checksum else "none published (checksum: null)"
        lines.append(f"  expected checksum: {cs}")
        if entry.offline.sha256:
            lines.append(f"  offline-copy sha256 ({entry.path}): {entry.offline.sha256}")
        srcs = entry.sources or ("none (offline-only file)",)
        lines.append("  canonical URL(s): " + ", ".join(srcs))
        if entry.derived_from:
            lines.append("  derived from: " + ", ".join(entry.derived_from))
    looked = [str(p) for p in searched]
    if looked:
        lines.append("  looked in: " + ", ".join(looked))
    lines.append("  " + HINT.format(path=rel))
    return "\n".join(lines)


def file_digests(
    path: str | os.PathLike[str], algorithms: Iterable[str] = ("sha256",)
) -> dict[str, str]:
    """Hex digests of a file for each algorithm, computed in one streaming pass."""
    hashers = {a: hashlib.new(a) for a in dict.fromkeys(algorithms)}
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            for h in hashers.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def sha256sum(path: str | os.PathLike[str]) -> str:
    """sha256 hex digest of a file (streaming)."""
    return file_digests(path, ("sha256",))["sha256"]


@lru_cache(maxsize=16)
def _manifest(path: str, mtime_ns: int) -> dict[str, str]:
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    return {k: (v["sha256"] if isinstance(v, dict) else str(v)).lower() for k, v in raw.items()}


def load_manifest(data_dir: str | os.PathLike[str]) -> dict[str, str] | None:
    """``relative path -> sha256`` from ``DATA_DIR/MANIFEST.json``, or ``None`` if absent."""
    p = Path(data_dir) / "MANIFEST.json"
    if not p.is_file():
        return None
    return _manifest(str(p.resolve()), p.stat().st_mtime_ns)


def _root_and_rel(
    path: Path, entry: Entry | None, data_dir: Path | None
) -> tuple[Path | None, str | None]:
    if data_dir is not None:
        try:
            return data_dir, path.resolve().relative_to(data_dir.resolve()).as_posix()
        except ValueError:
            pass
    posix = path.as_posix()
    for rel in entry.local_paths if entry else ():
        if posix.endswith("/" + rel):
            return Path(posix[: -len(rel) - 1]), rel
    return None, None


def sidecar_path(path: Path) -> Path:
    """Where the sha256 of a download without a published checksum is recorded."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_sidecar(path: Path, sha: str) -> None:
    """Record a download's sha256 and size (``<sha256>  <name>`` then ``bytes <n>``)."""
    sidecar_path(path).write_text(f"{sha}  {path.name}\nbytes {path.stat().st_size}\n",
                                  encoding="utf-8")


def _sidecar(side: Path) -> tuple[str, int | None]:
    lines = side.read_text(encoding="utf-8").splitlines()
    size = next((int(x.split()[1]) for x in lines[1:] if x.startswith("bytes ")), None)
    return lines[0].split()[0].lower(), size


def _mismatch(path: Path, got: dict[str, str], expected: list[str]) -> ChecksumError:
    return ChecksumError(
        f"checksum mismatch for {path}: got "
        + ", ".join(f"{a}:{v}" for a, v in got.items())
        + "; expected "
        + " or ".join(expected)
        + ". The file is corrupted or not the registered one: delete it and fetch it again, "
        "or point --data-dir / CLOUD_DATA_DIR at a good copy."
    )


def verify_detail(
    path: str | os.PathLike[str],
    entry: Entry | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> Verified:
    """Check a file on disk; return its sha256 and what it matched.

    Order: the registry's canonical checksum; else the sha256 in ``MANIFEST.json`` of the data
    directory holding the file; else the registry's restated offline sha256; else a sidecar
    written when the file was downloaded without a published checksum. A file that has a
    reference and matches none raises :class:`ChecksumError`. A file with no reference at all
    is accepted with a warning (``against="unverified"``).
    """
    p = Path(path)
    if not p.is_file():
        raise DataMissingError(missing_message(entry, p.name, f"{p} does not exist", [p]))
    algos = ["sha256"] + ([entry.checksum.algorithm] if entry and entry.checksum else [])
    got = file_digests(p, algos)
    sha = got["sha256"]
    expected: list[str] = []
    if entry is not None and entry.checksum is not None:
        if got[entry.checksum.algorithm] == entry.checksum.value:
            return Verified(sha, "canonical")
        expected.append(f"{entry.checksum} (canonical, {entry.checksum_source.split(' ')[0]})")
    root, rel = _root_and_rel(p, entry, Path(data_dir) if data_dir is not None else None)
    manifest = load_manifest(root) if root is not None else None
    if manifest is not None and rel in manifest:
        if manifest[rel] == sha:
            return Verified(sha, "manifest")
        raise _mismatch(p, got, expected + [f"sha256:{manifest[rel]} ({root}/MANIFEST.json)"])
    if entry is not None and entry.offline.sha256 and rel == entry.path:
        if entry.offline.sha256 == sha:
            return Verified(sha, "offline")
        expected.append(f"sha256:{entry.offline.sha256} (registry offline copy)")
    side = sidecar_path(p)
    if side.is_file():
        recorded, size = _sidecar(side)
        if recorded == sha and size in (None, p.stat().st_size):
            return Verified(sha, "sidecar")
        expected.append(f"sha256:{recorded}" + (f", {size} bytes" if size is not None else "")
                        + f" (recorded at download in {side.name})")
    if expected:
        raise _mismatch(p, got, expected)
    log.warning(
        "%s has no published checksum and no manifest entry; using it unverified (sha256 %s)",
        p,
        sha,
    )
    return Verified(sha, "unverified")


def verify(
    path: str | os.PathLike[str],
    entry: Entry | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> str:
    """Verify a file (see :func:`verify_detail`) and return its sha256 for run manifests."""
    return verify_detail(path, entry, data_dir=data_dir).sha256


def _open_url(url: str, timeout: float) -> Any:
    """Open an http(s) or file URL (the response is a binary file-like context manager)."""
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    return urllib.request.urlopen(req, timeout=timeout)


def figshare_source(
    entry: Entry, *, api: str | None = None, timeout: float = TIMEOUT_S
) -> tuple[str, Checksum | None]:
    """Resolve a figshare-hosted entry to ``(download_url, checksum)`` through the figshare API.

    The checksum is the registry's when it has one, else the md5 figshare computed for the file.
    """
    assert entry.figshare is not None
    base = (api or os.environ.get(ENV_FIGSHARE_API) or FIGSHARE_API).rstrip("/")
    url = f"{base}/articles/{entry.figshare.article_id}/files?page_size=1000"
    with _open_url(url, timeout) as resp:
        files = json.load(resp)
    for f in files:
        if f.get("name") == entry.figshare.file_name:
            md5 = f.get("computed_md5") or f.get("supplied_md5")
            cs = entry.checksum or (Checksum("md5", str(md5).lower()) if md5 else None)
            return str(f["download_url"]), cs
    names = sorted(str(f.get("name")) for f in files)
    raise DataMissingError(
        missing_message(
            entry,
            entry.file_name,
            f"figshare article {entry.figshare.article_id} has no file "
            f"{entry.figshare.file_name!r} (it has: {', '.join(names) or 'none'})",
        )
    )


def _stream(url: str, dest: Path, checksum: Checksum | None, timeout: float,
            backoff: float = BACKOFF_S, progressbar: bool | None = None) -> str:
    """Download ``url`` to ``dest`` through pooch (temporary file, hash check, then the move);
    return the sha256. Raises :class:`DownloadRefused` or :class:`ChecksumError`."""
    import pooch

    dest.parent.mkdir(parents=True, exist_ok=True)
    downloader = CheckedDownloader(timeout=timeout, backoff=backoff, progressbar=progressbar,
                                   dest=str(dest))
    known = f"{checksum.algorithm}:{checksum.value}" if checksum else None
    logging.getLogger("pooch").setLevel(logging.WARNING)
    try:
        pooch.retrieve(figshare_api_url(url), known, fname=dest.name, path=dest.parent,
                       downloader=downloader, progressbar=False)
    except ValueError as exc:
        if "does not match the known hash" not in str(exc):
            raise
        raise ChecksumError(f"refused download of {url}: {exc}; nothing was written to "
                            f"{dest}") from None
    return sha256sum(dest)


def download(
    entry: Entry,
    dest: str | os.PathLike[str],
    *,
    timeout: float = TIMEOUT_S,
    figshare_api: str | None = None,
    backoff: float = BACKOFF_S,
    progressbar: bool | None = None,
) -> str:
    """Download an entry's canonical file to ``dest`` (tried URL by URL); return its sha256.

    The published checksum is enforced: a mismatching download is deleted and
    :class:`ChecksumError` raised. Network failures on every source raise
    :class:`DataMissingError` whose message names the file, the checksum and the URLs.
    Entries without a published checksum get their sha256 and size recorded in a sidecar
    file (``<file>.sha256``) that later verifications enforce. Responses that are not the file
    (empty, HTML, 4xx, cut short after the retries; see :mod:`cloud.data.http_download`) are
    refused: nothing is written to the cache or a sidecar.
    """
    dest = Path(dest)
    errors: list[str] = []
    sources: list[tuple[str, Checksum | None]] = [(u, entry.checksum) for u in entry.urls]
    if not sources and entry.figshare is not None:
        try:
            sources.append(figshare_source(entry, api=figshare_api, timeout=timeout))
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            errors.append(f"figshare API: {exc}")
    if not sources and not errors:
        raise DataMissingError(missing_message(entry, dest.name, "it has no download URL"))
    mismatch: ChecksumError | None = None
    for url, cs in sources:
        try:
            sha = _stream(url, dest, cs, timeout, backoff, progressbar)
        except ChecksumError as exc:
            mismatch = exc
            errors.append(str(exc))
            continue
        except DownloadRefused as exc:
            errors.append(str(exc))
            continue
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            errors.append(f"{url}: {exc!r}" if not str(exc) else f"{url}: {exc}")
            continue
        if cs is None:
            log.warning(
                "%s: no published checksum; recorded sha256 %s in %s",
                entry.key,
                sha,
                sidecar_path(dest).name,
            )
            write_sidecar(dest, sha)
        elif entry.checksum is None:  # figshare-computed md5 matched; keep the sha256 as well
            write_sidecar(dest, sha)
        log.info("downloaded %s -> %s (sha256 %s)", url, dest, sha)
        return sha
    if mismatch is not None:
        raise ChecksumError("; ".join(errors)) from mismatch
    raise DataMissingError(
        missing_message(entry, dest.name, "download refused or failed: " + "; ".join(errors))
    )
