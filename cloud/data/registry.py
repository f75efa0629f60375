"""The dataset registry: one entry per data file the suite uses (see ``registry.yaml``).

Each entry names the file's canonical download URL(s), the checksum published with it (or
``None`` when no checksum is published), its format, the relative path it has in a data
directory, its target column and unit, and what the project's offline copy holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

FAMILIES = ("matbench", "discovery", "unconvbench", "phonon", "reference", "offline")
OFFLINE_STATUSES = ("complete", "partial", "absent")
ALGORITHMS = ("md5", "sha256")

MATBENCH_TASKS = (
    "matbench_dielectric",
    "matbench_jdft2d",
    "matbench_log_gvrh",
    "matbench_log_kvrh",
    "matbench_mp_e_form",
    "matbench_mp_gap",
    "matbench_perovskites",
    "matbench_phonons",
    "matbench_expt_gap",
    "matbench_expt_is_metal",
    "matbench_glass",
    "matbench_mp_is_metal",
    "matbench_steels",
)  # all 13 tasks of MatBench v0.1
# scored by ROC-AUC, accuracy, balanced accuracy and F1; their folds are stratified by label
MATBENCH_CLASSIFICATION_TASKS = ("matbench_expt_is_metal", "matbench_glass",
                                 "matbench_mp_is_metal")
# inputs are formulas only (no structures): only models whose input is a composition run them
MATBENCH_COMPOSITION_TASKS = ("matbench_expt_gap", "matbench_expt_is_metal", "matbench_glass",
                              "matbench_steels")
UNCONVBENCH_TASKS = ("2d_e_exf", "2d_e_tot", "2d_gap", "qmof", "supercon", "defected")
# suite task name -> the unconvbench package's task name (its ids and file names use the latter)
UNCONVBENCH_UPSTREAM = {
    "2d_e_exf": "unconvbench_exfoliation",
    "2d_e_tot": "unconvbench_2d_e_tot",
    "2d_gap": "unconvbench_2d_gap",
    "qmof": "unconvbench_qmof",
    "supercon": "unconvbench_supercon",
    "defected": "unconvbench_defected",
}


@dataclass(frozen=True)
class Checksum:
    """A published checksum: ``algorithm`` is ``md5`` or ``sha256``, ``value`` lower-case hex."""

    algorithm: str
    value: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.value}"


@dataclass(frozen=True)
class Target:
    """The column a task predicts and its unit."""

    column: str
    unit: str


@dataclass(frozen=True)
class Offline:
    """What the project's offline copy holds for an entry (``sha256`` of the file at ``path``)."""

    status: str
    note: str
    sha256: str | None = None
    bytes: int | None = None


@dataclass(frozen=True)
class Figshare:
    """A file inside a figshare article, resolved through the figshare API at download time."""

    article_id: int
    file_name: str


@dataclass(frozen=True)
class Entry:
    """One registered data file."""

    key: str
    family: str
    description: str
    urls: tuple[str, ...]
    checksum: Checksum | None
    checksum_source: str
    format: str
    path: str
    target: Target | None
    n_rows: int | None
    offline: Offline
    cache_path: str | None = None
    figshare: Figshare | None = None
    upstream_path: str | None = None
    derived_from: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def download_path(self) -> str:
        """Relative path a download of the canonical file is stored under in the cache."""
        return self.cache_path or self.path

    @property
    def local_paths(self) -> tuple[str, ...]:
        """Relative paths under which a data directory may hold this file, in order."""
        if self.cache_path and self.cache_path != self.path:
            return (self.path, self.cache_path)
        return (self.path,)

    @property
    def file_name(self) -> str:
        """Base name of the file (for messages)."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def sources(self) -> tuple[str, ...]:
        """Human-readable download sources: the URLs, or the figshare article."""
        if self.urls:
            return self.urls
        if self.figshare:
            return (
                f"https://figshare.com/articles/dataset/{self.figshare.article_id} "
                f"(file {self.figshare.file_name})",
            )
        return ()


_KNOWN = {
    "key",
    "family",
    "description",
    "urls",
    "checksum",
    "checksum_source",
    "format",
    "path",
    "target",
    "n_rows",
    "offline",
    "cache_path",
    "figshare",
    "upstream_path",
    "derived_from",
}


def _entry_from_dict(d: dict[str, Any]) -> Entry:
    cs = d.get("checksum")
    tg = d.get("target")
    fs = d.get("figshare")
    off = d.get("offline") or {}
    return Entry(
        key=str(d["key"]),
        family=str(d["family"]),
        description=str(d.get("description", "")),
        urls=tuple(d.get("urls") or ()),
        checksum=Checksum(str(cs["algorithm"]).lower(), str(cs["value"]).lower()) if cs else None,
        checksum_source=str(d.get("checksum_source", "")),
        format=str(d.get("format", "")),
        path=str(d["path"]),
        target=Target(str(tg["column"]), str(tg["unit"])) if tg else None,
        n_rows=int(d["n_rows"]) if d.get("n_rows") is not None else None,
        offline=Offline(
            status=str(off.get("status", "absent")),
            note=str(off.get("note", "")),
            sha256=off.get("sha256"),
            bytes=off.get("bytes"),
        ),
        cache_path=d.get("cache_path"),
        figshare=Figshare(int(fs["article_id"]), str(fs["file_name"])) if fs else None,
        upstream_path=d.get("upstream_path"),
        derived_from=tuple(d.get("derived_from") or ()),
        extra={k: v for k, v in d.items() if k not in _KNOWN},
    )


class Registry:
    """All registered entries, addressable by key or by relative path."""

    def __init__(self, entries: list[Entry], version: int = 1) -> None:
        self.version = version
        self._by_key: dict[str, Entry] = {}
        self._by_path: dict[str, Entry] = {}
        for e in entries:
            if e.key in self._by_key:
                raise ValueError(f"duplicate registry key {e.key!r}")
            self._by_key[e.key] = e
            for p in e.local_paths:
                if p in self._by_path:
                    raise ValueError(
                        f"path {p!r} registered twice ({self._by_path[p].key}, {e.key})"
                    )
                self._by_path[p] = e

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __getitem__(self, key: str) -> Entry:
        return self.get(key)

    def get(self, key: str) -> Entry:
        """The entry with this key; ``KeyError`` naming close keys otherwise."""
        try:
            return self._by_key[key]
        except KeyError:
            close = [k for k in self._by_key if key.lower() in k.lower()][:8]
            hint = f"; did you mean one of {close}" if close else ""
            raise KeyError(f"no dataset {key!r} in the registry{hint}") from None

    def by_path(self, relpath: str) -> Entry | None:
        """The entry stored at this relative path (``path`` or ``cache_path``), if any."""
        rel = relpath.replace("\\", "/")
        while rel.startswith("./"):
            rel = rel[2:]
        return self._by_path.get(rel)

    def lookup(self, key_or_relpath: str) -> Entry | None:
        """Entry by key, else by relative path, else ``None``."""
        return self._by_key.get(key_or_relpath) or self.by_path(key_or_relpath)

    def family(self, family: str) -> list[Entry]:
        """Entries of one family, in registry order."""
        return [e for e in self if e.family == family]


def load_registry_file(text: str) -> Registry:
    """Parse registry YAML text."""
    doc = yaml.safe_load(text)
    return Registry([_entry_from_dict(d) for d in doc["entries"]], int(doc.get("version", 1)))


@lru_cache(maxsize=1)
def load_registry() -> Registry:
    """The packaged registry (parsed once)."""
    text = resources.files(__package__).joinpath("registry.yaml").read_text(encoding="utf-8")
    return load_registry_file(text)


def get_entry(key_or_relpath: str) -> Entry:
    """Entry by key or relative path; ``KeyError`` if neither is registered."""
    reg = load_registry()
    entry = reg.lookup(key_or_relpath)
    if entry is None:
        reg.get(key_or_relpath)  # raises with suggestions
    assert entry is not None
    return entry


def validate_entry(e: Entry) -> list[str]:
    """Problems with one entry's fields (empty list when it is well formed)."""
    bad: list[str] = []
    if e.family not in FAMILIES:
        bad.append(f"{e.key}: family {e.family!r} not in {FAMILIES}")
    if e.offline.status not in OFFLINE_STATUSES:
        bad.append(f"{e.key}: offline status {e.offline.status!r}")
    if not e.path or e.path.startswith("/") or ".." in e.path.split("/"):
        bad.append(f"{e.key}: bad relative path {e.path!r}")
    if not e.format:
        bad.append(f"{e.key}: no format")
    if not e.checksum_source:
        bad.append(f"{e.key}: no checksum_source (say why when the checksum is null)")
    if e.checksum is not None:
        n = {"md5": 32, "sha256": 64}.get(e.checksum.algorithm)
        if n is None:
            bad.append(f"{e.key}: checksum algorithm {e.checksum.algorithm!r}")
        elif len(e.checksum.value) != n or any(
            c not in "0123456789abcdef" for c in e.checksum.value
        ):
            bad.append(f"{e.key}: malformed {e.checksum.algorithm} {e.checksum.value!r}")
    if e.family == "offline":
        if e.urls or e.figshare:
            bad.append(f"{e.key}: offline entries have no URL")
        if e.checksum is None or e.checksum.algorithm != "sha256":
            bad.append(f"{e.key}: offline entries carry the MANIFEST sha256")
    elif not (e.urls or e.figshare or e.derived_from):
        bad.append(f"{e.key}: no canonical URL, figshare file or derived_from")
    for u in e.urls:
        if not u.startswith(("https://", "http://")):
            bad.append(f"{e.key}: URL {u!r} is not http(s)")
    if e.offline.status != "absent" and not e.offline.sha256:
        bad.append(f"{e.key}: offline copy present but no sha256")
    return bad


def validate_registry(reg: Registry | None = None) -> list[str]:
    """Problems across the whole registry (empty when it is consistent)."""
    reg = reg or load_registry()
    bad: list[str] = []
    for e in reg:
        bad.extend(validate_entry(e))
    keys = {e.key for e in reg}
    for t in MATBENCH_TASKS:
        if t not in keys:
            bad.append(f"missing matbench task {t}")
    for t in UNCONVBENCH_TASKS:
        if f"unconvbench_{t}" not in keys:
            bad.append(f"missing unconvbench task {t}")
    for e in reg:
        for d in e.derived_from:
            if d not in keys:
                bad.append(f"{e.key}: derived_from {d!r} is not a registry key")
    return bad
