"""Where data files are found: explicit ``--data-dir`` > ``CLOUD_DATA_DIR`` > download cache.

A data directory has the layout of the registry's relative paths (e.g.
``matbench/matbench_jdft2d.json.gz``). The download cache (``CLOUD_CACHE_DIR``, default
``~/.cache/cloud-bench``) has the same layout and is filled by :func:`resolve` on demand.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import fetch
from .fetch import DataMissingError
from .registry import Entry, load_registry

ENV_DATA_DIR = "CLOUD_DATA_DIR"
ENV_CACHE_DIR = "CLOUD_CACHE_DIR"
DEFAULT_CACHE = Path("~/.cache/cloud-bench")


def cache_dir() -> Path:
    """The download cache: ``$CLOUD_CACHE_DIR`` or ``~/.cache/cloud-bench``."""
    env = os.environ.get(ENV_CACHE_DIR)
    return Path(env).expanduser() if env else DEFAULT_CACHE.expanduser()


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The local data directory: the explicit argument, else ``$CLOUD_DATA_DIR``, else None."""
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_DATA_DIR)
    return Path(env).expanduser() if env else None


def search_roots(explicit: str | os.PathLike[str] | None = None) -> list[Path]:
    """Directories searched, in order: the data directory (if any), then the cache."""
    roots = [r for r in (data_dir(explicit), cache_dir()) if r is not None]
    return list(dict.fromkeys(roots))


def _entry_for(key_or_relpath: str) -> Entry | None:
    reg = load_registry()
    entry = reg.lookup(key_or_relpath)
    if entry is None and "/" not in key_or_relpath and "." not in key_or_relpath:
        reg.get(key_or_relpath)  # a bare name that is no key: KeyError with suggestions
    return entry


def locate(
    key_or_relpath: str, data_dir: str | os.PathLike[str] | None = None
) -> tuple[Path, Path] | None:
    """First existing ``(root, file)`` for a key or relative path, without verifying."""
    entry = _entry_for(key_or_relpath)
    rels = entry.local_paths if entry else (key_or_relpath,)
    for root in search_roots(data_dir):
        for rel in rels:
            p = root / rel
            if p.is_file():
                return root, p
    return None


def resolve(
    key_or_relpath: str,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    *,
    verify: bool = True,
) -> Path:
    """Path of a data file, verified, downloading it into the cache when needed.

    ``key_or_relpath`` is a registry key (``matbench_jdft2d``) or a relative path in the data
    layout (``matbench/matbench_jdft2d.json.gz``). Search order: ``data_dir`` (else
    ``$CLOUD_DATA_DIR``), then the cache; then, if ``download`` and the entry has a canonical
    source, a download into the cache. A file that fails verification raises
    :class:`~cloud.data.fetch.ChecksumError`; a file found nowhere raises
    :class:`~cloud.data.fetch.DataMissingError` naming the file, its checksum and URL(s).
    """
    entry = _entry_for(key_or_relpath)
    found = locate(key_or_relpath, data_dir)
    if found is not None:
        root, path = found
        if verify:
            fetch.verify(path, entry, data_dir=root)
        return path
    rels = entry.local_paths if entry else (key_or_relpath,)
    searched = [root / rel for root in search_roots(data_dir) for rel in rels]
    name = entry.file_name if entry else Path(key_or_relpath).name
    if entry is None:
        raise DataMissingError(
            fetch.missing_message(
                None, key_or_relpath, "it is not in the registry and not on disk", searched
            )
        )
    if not (entry.urls or entry.figshare):
        why = (
            "it is derived from other entries (the readers build it)"
            if entry.derived_from
            else "it is an offline-only file with no canonical download"
        )
        raise DataMissingError(fetch.missing_message(entry, name, why, searched))
    if not download:
        raise DataMissingError(
            fetch.missing_message(entry, name, "not on disk and downloading is disabled", searched)
        )
    dest = cache_dir() / entry.download_path
    fetch.download(entry, dest)
    return dest
