"""Downloads against a local host that answers as the real ones can (127.0.0.1 only).

Each failure mode a data host shows (a 202 with an empty body, 403, an HTML challenge page
with status 200, a body cut short, a slow first byte, a redirect chain) and the good case;
after every refusal the cache folder holds nothing, and no sidecar is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud.data import ChecksumError, DataMissingError, download, get_entry, verify_detail
from cloud.data.http_download import figshare_api_url
from tests.conftest import SHARED_DATA

PAYLOAD_FILE = SHARED_DATA / "matbench" / "matbench_jdft2d.json.gz"
FAST = {"timeout": 5, "backoff": 0.01}


@pytest.fixture(scope="module")
def payload() -> bytes:
    if not PAYLOAD_FILE.is_file():
        pytest.skip(f"real data file {PAYLOAD_FILE} not found")
    return PAYLOAD_FILE.read_bytes()


class Host(http.server.ThreadingHTTPServer):
    daemon_threads = True
    payload = b""
    hits: dict[str, int]


class Handler(http.server.BaseHTTPRequestHandler):
    server: Host

    def log_message(self, *a: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", ctype: str = "application/gzip",
              length: int | None = None, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        hits = self.server.hits
        hits[self.path] = n = hits.get(self.path, 0) + 1
        data = self.server.payload
        if self.path == "/good":
            self._send(200, data)
        elif self.path == "/accepted":  # figshare's bot wall: 202 and nothing
            self._send(202, b"")
        elif self.path == "/accepted-then-good":
            self._send(202, b"") if n < 3 else self._send(200, data)
        elif self.path == "/busy-then-good":
            self._send(503, b"", extra={"Retry-After": "0"}) if n == 1 else self._send(200, data)
        elif self.path == "/forbidden":
            self._send(403, b"<html>Forbidden</html>", "text/html")
        elif self.path == "/challenge":
            page = b"<!DOCTYPE html><html><body>Checking your browser...</body></html>"
            self._send(200, page, "text/html; charset=utf-8")
        elif self.path == "/challenge-octet":  # HTML even though it says it is a file
            self._send(200, b"\n<html><head><title>Just a moment</title></head></html>")
        elif self.path == "/truncated":  # always cut short
            self._send(200, data[:1000], length=len(data))
        elif self.path == "/truncated-then-range":
            rng = self.headers.get("Range")
            if rng:
                start = int(rng.split("=")[1].rstrip("-"))
                self._send(206, data[start:], extra={
                    "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
            else:
                self._send(200, data[: len(data) // 2], length=len(data))
        elif self.path == "/slow":
            time.sleep(0.4)
            self._send(200, data)
        elif self.path.startswith("/hop"):
            k = int(self.path.removeprefix("/hop") or 0)
            self.send_response(302)
            self.send_header("Location", f"/hop{k + 1}" if k < 3 else "/good")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"not found", "text/plain")


@pytest.fixture
def host(payload: bytes) -> Iterator[tuple[str, Host]]:
    srv = Host(("127.0.0.1", 0), Handler)
    srv.payload, srv.hits = payload, {}
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", srv
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


def entry_for(url: str, payload: bytes, checksum: bool = True):
    base = get_entry("mp_trj_json_gz" if not checksum else "matbench_jdft2d")
    from cloud.data.registry import Checksum

    cs = Checksum("sha256", hashlib.sha256(payload).hexdigest()) if checksum else None
    return dataclasses.replace(base, key="host_test", urls=(url,), checksum=cs,
                               path="test/host.json.gz", figshare=None)


def cache_files(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


@pytest.mark.parametrize("checksum", [True, False], ids=["checksum", "no-checksum"])
@pytest.mark.parametrize("path,status,words", [
    ("/accepted", "202", "bot check"),
    ("/forbidden", "403", "refused the request"),
    ("/challenge", "200", "HTML page"),
    ("/challenge-octet", "200", "HTML page"),
    ("/truncated", "200", "stopped at"),
])
def test_refused_responses_leave_nothing(host, payload, tmp_path, checksum, path, status,
                                         words) -> None:
    base, _ = host
    dest = tmp_path / "cache" / "test" / "host.json.gz"
    with pytest.raises(DataMissingError) as exc:
        download(entry_for(base + path, payload, checksum), dest, **FAST)
    msg = str(exc.value)
    assert f"{base}{path}" in msg and f"HTTP {status}" in msg and words in msg
    assert "download it by hand" in msg and "--data-dir" in msg
    assert cache_files(tmp_path / "cache") == []  # no file, no temporary, no sidecar


def test_retries_are_bounded(host, payload, tmp_path) -> None:
    base, srv = host
    with pytest.raises(DataMissingError, match="after 5 attempts"):
        download(entry_for(base + "/accepted", payload), tmp_path / "c" / "f", **FAST)
    assert srv.hits["/accepted"] == 5


@pytest.mark.parametrize("path", ["/good", "/accepted-then-good", "/busy-then-good",
                                  "/truncated-then-range", "/slow", "/hop0"])
@pytest.mark.parametrize("checksum", [True, False], ids=["checksum", "no-checksum"])
def test_good_file_arrives(host, payload, tmp_path, path, checksum) -> None:
    base, srv = host
    entry = entry_for(base + path, payload, checksum)
    dest = tmp_path / "cache" / "test" / "host.json.gz"
    sha = download(entry, dest, **FAST)
    assert dest.read_bytes() == payload and sha == hashlib.sha256(payload).hexdigest()
    expected = {dest.name} | ({dest.name + ".sha256"} if not checksum else set())
    assert set(cache_files(tmp_path / "cache")) == expected
    if not checksum:  # the size is recorded beside the sha256, and enforced
        side = dest.with_name(dest.name + ".sha256").read_text().splitlines()
        assert side == [f"{sha}  {dest.name}", f"bytes {len(payload)}"]
        assert verify_detail(dest, entry).against == "sidecar"
    if path == "/truncated-then-range":
        assert srv.hits[path] == 2  # resumed with a Range request


def test_slow_first_byte_past_the_timeout_is_refused(host, payload, tmp_path) -> None:
    base, srv = host
    with pytest.raises(DataMissingError, match="no data within 0.1 s"):
        download(entry_for(base + "/slow", payload), tmp_path / "c" / "f", timeout=0.1,
                 backoff=0.01)
    assert cache_files(tmp_path / "c") == [] and srv.hits["/slow"] == 5


def test_wrong_bytes_are_a_checksum_error(host, payload, tmp_path) -> None:
    base, _ = host
    entry = dataclasses.replace(entry_for(base + "/good", payload),
                                checksum=entry_for("", b"other").checksum)
    with pytest.raises(ChecksumError, match="refused download"):
        download(entry, tmp_path / "c" / "f", **FAST)
    assert cache_files(tmp_path / "c") == []


@pytest.mark.parametrize("url", [
    "https://figshare.com/files/41233284",
    "https://figshare.com/ndownloader/files/41233284",
    "https://ndownloader.figshare.com/files/41233284",
    "https://ndownloader.figshare.com/files/41233284?private_link=x",
])
def test_figshare_forms_go_to_the_api(url) -> None:
    assert figshare_api_url(url) == "https://api.figshare.com/v2/file/download/41233284"


def test_other_urls_unchanged() -> None:
    url = "https://ml.materialsproject.org/projects/matbench_jdft2d.json.gz"
    assert figshare_api_url(url) == url
