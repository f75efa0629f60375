"""Checksums, download (file:// and a local http.server, never the internet) and resolution."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud.data import (
    Checksum,
    ChecksumError,
    DataMissingError,
    download,
    get_entry,
    read_matbench_json,
    resolve,
    sha256sum,
    verify,
    verify_detail,
)
from cloud.data import paths as paths_mod
from cloud.data.registry import Entry, Figshare, Registry, load_registry
from tests.conftest import SHARED_DATA

SHARED = SHARED_DATA  # ../shared/data, or $CLOUD_DATA_DIR (tests/conftest.py)
REL = "matbench/matbench_jdft2d.json.gz"


@pytest.fixture(scope="module")
def real_file() -> Path:
    p = SHARED / REL
    if not p.is_file():
        pytest.skip(f"real data file {p} not found")
    return p


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLOUD_DATA_DIR", raising=False)
    monkeypatch.setenv("CLOUD_CACHE_DIR", str(tmp_path / "cache"))


def copy_to(src: Path, root: Path, rel: str = REL) -> Path:
    dest = root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def flip_byte(path: Path, offset: int = 1000) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def with_manifest(root: Path, rel: str, sha: str) -> None:
    (root / "MANIFEST.json").write_text(json.dumps({rel: {"sha256": sha, "bytes": 0}}))


def fake_entry(
    path: Path,
    urls: tuple[str, ...],
    algorithm: str | None = "sha256",
    wrong: bool = False,
    rel: str = "test/blob.bin",
) -> Entry:
    """An entry for a scratch file, its checksum taken from the file (or made wrong)."""
    cs = None
    if algorithm:
        value = hashlib.new(algorithm, path.read_bytes()).hexdigest()
        if wrong:
            value = ("0" if value[0] != "0" else "1") + value[1:]
        cs = Checksum(algorithm, value)
    base = get_entry("matbench_jdft2d")
    return dataclasses.replace(
        base,
        key="test_blob",
        urls=urls,
        checksum=cs,
        path=rel,
        offline=dataclasses.replace(base.offline, status="absent", sha256=None, bytes=None),
    )


def no_partials(d: Path) -> bool:
    return not any(p.name.endswith(".part") for p in d.rglob("*")) if d.exists() else True


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local http.server on 127.0.0.1 serving a scratch directory (plus /truncated)."""
    root = tmp_path / "served"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: object, **kw: object) -> None:
            super().__init__(*a, directory=str(root), **kw)  # type: ignore[arg-type]

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            if self.path == "/truncated":
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b"x" * 1000)
                self.wfile.flush()
                return
            super().do_GET()

        def log_message(self, *a: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", root
    finally:
        srv.shutdown()
        srv.server_close()


def closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/matbench_jdft2d.json.gz"


# --- verification of local files -----------------------------------------------------------


def test_sha256sum_streams(tmp_path: Path) -> None:
    p = tmp_path / "x.bin"
    p.write_bytes(b"abc" * 1_000_000)
    assert sha256sum(p) == hashlib.sha256(b"abc" * 1_000_000).hexdigest()


def test_copy_of_real_file_verifies(real_file: Path, tmp_path: Path) -> None:
    entry = get_entry("matbench_jdft2d")
    root = tmp_path / "data"
    p = copy_to(real_file, root)
    sha = sha256sum(real_file)
    # without a MANIFEST the registry's restated offline sha256 is used
    assert verify_detail(p, entry).against == "offline"
    assert verify(p, entry) == sha
    with_manifest(root, REL, sha)
    assert verify_detail(p, entry).against == "manifest"
    assert resolve("matbench_jdft2d", data_dir=root) == p


def test_corrupted_copy_raises(real_file: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    p = copy_to(real_file, root)
    with_manifest(root, REL, sha256sum(real_file))
    flip_byte(p)
    with pytest.raises(ChecksumError, match="checksum mismatch") as exc:
        verify(p, get_entry("matbench_jdft2d"))
    assert "26057dc4" in str(exc.value) and "MANIFEST.json" in str(exc.value)
    with pytest.raises(ChecksumError):
        resolve("matbench_jdft2d", data_dir=root)


def test_missing_file_message(tmp_path: Path) -> None:
    with pytest.raises(DataMissingError) as exc:
        resolve("matbench_mp_gap", data_dir=tmp_path, download=False)
    msg = str(exc.value)
    assert "matbench_mp_gap.json.gz" in msg
    assert "58b65746bd88329986ed66031a2ac1369c7c522f7bc9f9081528e07097c2c057" in msg
    assert "https://ml.materialsproject.org/projects/matbench_mp_gap.json.gz" in msg
    assert "--data-dir" in msg and "CLOUD_DATA_DIR" in msg
    assert str(tmp_path) in msg


def test_offline_only_file_is_not_downloadable(tmp_path: Path) -> None:
    with pytest.raises(DataMissingError, match="offline-only") as exc:
        resolve("scope_phonon", data_dir=tmp_path)
    assert get_entry("scope_phonon").offline.sha256 in str(exc.value)


def test_network_error_means_data_missing(tmp_path: Path) -> None:
    entry = dataclasses.replace(get_entry("matbench_jdft2d"), urls=(closed_port_url(),))
    dest = tmp_path / "cache" / REL
    with pytest.raises(DataMissingError) as exc:
        download(entry, dest, timeout=5)
    msg = str(exc.value)
    assert "matbench_jdft2d.json.gz" in msg and "26057dc4" in msg and "127.0.0.1" in msg
    assert "offline" in msg and "CLOUD_DATA_DIR" in msg
    assert not dest.exists() and no_partials(tmp_path)


# --- downloads -----------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_download_file_url(real_file: Path, tmp_path: Path, algorithm: str) -> None:
    entry = fake_entry(real_file, (real_file.as_uri(),), algorithm)
    dest = tmp_path / "cache" / "test" / "blob.bin"
    assert download(entry, dest) == sha256sum(real_file)
    assert dest.read_bytes() == real_file.read_bytes() and no_partials(dest.parent)
    assert verify_detail(dest, entry).against == "canonical"


def test_download_http_and_refuse_mismatch(
    real_file: Path, tmp_path: Path, http_dir: tuple[str, Path]
) -> None:
    base, served = http_dir
    shutil.copyfile(real_file, served / "f.json.gz")
    dest = tmp_path / "cache" / "test" / "blob.bin"
    good = fake_entry(real_file, (f"{base}/f.json.gz",))
    assert download(good, dest) == sha256sum(real_file)
    dest.unlink()
    bad = fake_entry(real_file, (f"{base}/f.json.gz",), wrong=True)
    with pytest.raises(ChecksumError, match="refused download"):
        download(bad, dest)
    assert not dest.exists() and no_partials(dest.parent)


def test_download_tries_next_mirror(
    real_file: Path, tmp_path: Path, http_dir: tuple[str, Path]
) -> None:
    base, served = http_dir
    shutil.copyfile(real_file, served / "f.json.gz")
    entry = fake_entry(real_file, (f"{base}/missing.json.gz", f"{base}/f.json.gz"))
    dest = tmp_path / "cache" / "blob.bin"
    assert download(entry, dest) == sha256sum(real_file)


def test_interrupted_download_leaves_nothing(
    real_file: Path, tmp_path: Path, http_dir: tuple[str, Path]
) -> None:
    base, _ = http_dir
    entry = fake_entry(real_file, (f"{base}/truncated",))
    dest = tmp_path / "cache" / "test" / "blob.bin"
    with pytest.raises(DataMissingError):
        download(entry, dest, timeout=10, backoff=0.01)
    assert not dest.exists() and no_partials(tmp_path / "cache")


def test_existing_file_survives_refused_download(real_file: Path, tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "blob.bin"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"previous")
    with pytest.raises(ChecksumError):
        download(fake_entry(real_file, (real_file.as_uri(),), wrong=True), dest)
    assert dest.read_bytes() == b"previous"


def test_no_published_checksum_records_sidecar(real_file: Path, tmp_path: Path) -> None:
    entry = fake_entry(real_file, (real_file.as_uri(),), algorithm=None)
    dest = tmp_path / "cache" / "test" / "blob.bin"
    sha = download(entry, dest)
    assert dest.with_name("blob.bin.sha256").read_text().split()[0] == sha
    assert verify_detail(dest, entry).against == "sidecar"
    flip_byte(dest, 10)
    with pytest.raises(ChecksumError, match="recorded at download"):
        verify(dest, entry)


def test_figshare_resolution(
    real_file: Path, tmp_path: Path, http_dir: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, served = http_dir
    shutil.copyfile(real_file, served / "payload.json")
    md5 = hashlib.md5(real_file.read_bytes()).hexdigest()
    listing = [
        {"name": "other.json", "download_url": f"{base}/nope", "computed_md5": "0" * 32},
        {"name": "ub_test.json", "download_url": f"{base}/payload.json", "computed_md5": md5},
    ]
    (served / "articles" / "26657428").mkdir(parents=True)
    (served / "articles" / "26657428" / "files").write_text(json.dumps(listing))
    monkeypatch.setenv("CLOUD_FIGSHARE_API", base)
    entry = dataclasses.replace(
        fake_entry(real_file, (), algorithm=None), figshare=Figshare(26657428, "ub_test.json")
    )
    dest = tmp_path / "cache" / "unconv" / "ub_test.json"
    assert download(entry, dest) == sha256sum(real_file)
    missing = dataclasses.replace(entry, figshare=Figshare(26657428, "absent.json"))
    with pytest.raises(DataMissingError, match="ub_test.json"):
        download(missing, tmp_path / "x.json")
    # the figshare md5 is enforced
    listing[1]["computed_md5"] = "f" * 32
    (served / "articles" / "26657428" / "files").write_text(json.dumps(listing))
    dest.unlink()
    with pytest.raises(ChecksumError):
        download(entry, dest)
    assert not dest.exists()


# --- resolution order and the cache --------------------------------------------------------


def test_precedence_explicit_env_cache(
    real_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit, env, cache = tmp_path / "explicit", tmp_path / "env", tmp_path / "cache"
    for root in (explicit, env, cache):
        copy_to(real_file, root)
    monkeypatch.setenv("CLOUD_DATA_DIR", str(env))
    assert resolve(REL, data_dir=explicit) == explicit / REL
    assert resolve("matbench_jdft2d") == env / REL
    monkeypatch.delenv("CLOUD_DATA_DIR")
    assert resolve("matbench_jdft2d") == cache / REL
    assert paths_mod.search_roots(explicit) == [explicit, cache]


def test_corrupted_cache_is_refused(real_file: Path, tmp_path: Path) -> None:
    p = copy_to(real_file, tmp_path / "cache")
    flip_byte(p)
    with pytest.raises(ChecksumError):
        resolve("matbench_jdft2d")
    assert p.exists()  # refused, not silently replaced or re-used


def test_resolve_downloads_into_cache(
    real_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = fake_entry(real_file, (real_file.as_uri(),), rel="matbench/matbench_jdft2d.json.gz")
    reg = Registry([dataclasses.replace(entry, key="matbench_jdft2d")])
    monkeypatch.setattr(paths_mod, "load_registry", lambda: reg)
    p = resolve("matbench_jdft2d", data_dir=tmp_path / "empty")
    assert p == tmp_path / "cache" / REL
    assert read_matbench_json(p).shape == (636, 2)
    assert resolve("matbench_jdft2d") == p  # now found (and re-verified) in the cache
    p.unlink()
    with pytest.raises(DataMissingError, match="downloading is disabled"):
        resolve("matbench_jdft2d", data_dir=tmp_path / "empty", download=False)


def test_unregistered_names(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="no dataset"):
        resolve("no_such_dataset", data_dir=tmp_path)
    with pytest.raises(DataMissingError, match="not in the registry"):
        resolve("some/dir/file.csv", data_dir=tmp_path)
    f = tmp_path / "some" / "dir" / "file.csv"
    f.parent.mkdir(parents=True)
    f.write_text("a\n1\n")
    assert resolve("some/dir/file.csv", data_dir=tmp_path) == f
    assert len(load_registry()) > 50
