"""The transport of data downloads: one URL into one file, refusing what is not the file.

Used as a ``pooch`` downloader (``pooch.retrieve(..., downloader=CheckedDownloader(...))``):
pooch streams into a temporary file next to the destination, checks the published hash and
moves the file into place only then, deleting the temporary file on any error. This class adds
what the real hosts need and pooch's own ``HTTPDownloader`` does not do:

- figshare URLs of every form (``figshare.com/files/ID``, ``figshare.com/ndownloader/files/ID``,
  ``ndownloader.figshare.com/files/ID``) go to ``https://api.figshare.com/v2/file/download/ID``
  (the other forms can answer a bot check instead of the file);
- HTTP 202, 429 and 5xx are retried a bounded number of times with exponential backoff
  (``Retry-After`` honoured up to the cap), as are timeouts and connections broken mid-body;
  a host that cannot be reached at all (DNS, connection refused) fails at once;
- a body cut short is resumed with a ``Range`` request (restarted when the host ignores it),
  never kept;
- an empty body, an HTML page (a login wall or bot challenge served with status 200) or any
  other 4xx is refused with :class:`DownloadRefused`, whose message names the URL, the status
  and what to do;
- a ``tqdm`` progress bar (to stderr) for bodies over :data:`PROGRESS_MIN_BYTES`.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import urllib.request
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

RETRY_STATUSES = frozenset({202, 429, 500, 502, 503, 504})
FIGSHARE_DOWNLOAD = "https://api.figshare.com/v2/file/download/{}"
FIGSHARE_FORMS = re.compile(
    r"^https?://(?:(?:www\.)?figshare\.com/(?:ndownloader/)?files|ndownloader\.figshare\.com/files)"
    r"/(\d+)(?:[/?#].*)?$"
)
PROGRESS_MIN_BYTES = 10 << 20
CHUNK = 1 << 16  # what a broken connection can lose of the part already read
MAX_WAIT_S = 60.0
USER_AGENT = "cloud-bench/0.1 (+https://pypi.org/project/pooch/)"
TODO = ("download it by hand (a browser) into {dest}, or pass --data-dir DIR "
        "(CLOUD_DATA_DIR=DIR) with the file in it")


class DownloadRefused(OSError):
    """A response that is not the file (empty, HTML, 4xx, cut short after every retry)."""

    def __init__(self, url: str, status: int | str, why: str, dest: str = "the cache") -> None:
        self.url, self.status = url, status
        got = f"HTTP {status}" if isinstance(status, int) else "no HTTP response"
        super().__init__(f"refused {url} ({got}): {why}; nothing was written. "
                         f"To go on, {TODO.format(dest=dest)}.")


def figshare_api_url(url: str) -> str:
    """The figshare API download URL of any figshare file URL; other URLs unchanged."""
    m = FIGSHARE_FORMS.match(url)
    return FIGSHARE_DOWNLOAD.format(m.group(1)) if m else url


def looks_like_html(head: bytes, content_type: str = "") -> bool:
    """An HTML page rather than a data file (by content type or by the first bytes)."""
    if "text/html" in content_type.lower():
        return True
    start = head.lstrip()[:64].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _retry_after(value: str | None, default: float) -> float:
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return default


class CheckedDownloader:
    """A pooch downloader: ``(url, output_file, pooch) -> None`` (see the module docstring).

    ``retries`` extra attempts after the first, waiting ``backoff * 2**i`` seconds (capped at
    :data:`MAX_WAIT_S`); ``timeout`` applies to connecting and to each read; ``dest`` names the
    final file in messages. ``progressbar=None`` shows a bar for large bodies on a terminal.
    """

    def __init__(self, *, timeout: float = 60.0, retries: int = 4, backoff: float = 1.0,
                 progressbar: bool | None = None, dest: str = "the cache",
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.progressbar, self.dest, self.sleep = progressbar, dest, sleep
        self.attempts: list[str] = []  # what each attempt got, for messages and tests
        self._total: int | None = None

    def __call__(self, url: str, output_file: Any, pooch: Any = None,
                 check_only: bool = False) -> bool | None:
        url = figshare_api_url(url)
        if check_only:
            return True
        path = os.fspath(output_file)
        if url.startswith("file:"):
            with urllib.request.urlopen(url) as src, open(path, "wb") as out:  # noqa: S310
                shutil.copyfileobj(src, out, CHUNK)
            self._refuse_empty_or_html(url, "file", path)
            return None
        import requests

        with requests.Session() as session:
            session.headers["User-Agent"] = USER_AGENT
            self._fetch(session, url, path)
        return None

    # ------------------------------------------------------------------ one URL, retried
    def _fetch(self, session: Any, url: str, path: str) -> None:
        import requests

        open(path, "wb").close()
        last: tuple[int | str, str] = ("none", "no response")
        for attempt in range(self.retries + 1):
            have = os.path.getsize(path)
            headers = {"Range": f"bytes={have}-"} if have else {}
            wait = self.backoff * 2 ** attempt
            status: int | str = "none"
            try:
                with session.get(url, stream=True, timeout=self.timeout, headers=headers,
                                 allow_redirects=True) as resp:
                    status = resp.status_code
                    if status in RETRY_STATUSES:
                        last = (status, "the host asked to retry later" if status != 202 else
                                "HTTP 202 (accepted, empty body: a bot check)")
                        self.attempts.append(f"{status}")
                        wait = _retry_after(resp.headers.get("Retry-After"), wait)
                    elif status >= 400:
                        self.attempts.append(f"{status}")
                        raise DownloadRefused(url, status, "the host refused the request "
                                              "(a login wall or bot check?)", self.dest)
                    else:
                        done = self._body(resp, url, path, have)
                        self.attempts.append(f"{status}" + ("" if done else " cut short"))
                        if done:
                            return
                        last = (status, f"the body stopped at {os.path.getsize(path)} of "
                                f"{self._total} bytes")
            except requests.exceptions.ConnectionError as exc:
                if os.path.getsize(path) == have and not have and _unreachable(exc):
                    raise DownloadRefused(url, "none", f"the host cannot be reached "
                                          f"(offline?): {_short(exc)}", self.dest) from exc
                last = (status, f"the connection broke after {os.path.getsize(path)} bytes: "
                        f"{exc}")
                self.attempts.append(f"{status} broken")
            except requests.exceptions.ChunkedEncodingError as exc:
                last = (status, f"the body stopped at {os.path.getsize(path)} of {self._total} "
                        f"bytes ({exc})")
                self.attempts.append(f"{status} cut short")
            except requests.exceptions.Timeout as exc:
                last = (status, f"no data within {self.timeout:g} s ({exc})")
                self.attempts.append(f"{status} timeout")
            if attempt < self.retries:
                self.sleep(min(wait, MAX_WAIT_S))
        raise DownloadRefused(url, last[0], f"{last[1]} (after {self.retries + 1} attempts: "
                              f"{', '.join(self.attempts)})", self.dest)

    def _body(self, resp: Any, url: str, path: str, have: int) -> bool:
        """Write one response; True when the file is complete."""
        status = resp.status_code
        length = resp.headers.get("Content-Length")
        if status == 206 and have:
            start = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", ""))
            if not start or int(start.group(1)) != have:
                have = 0  # not the range asked for: restart
        else:
            have = 0  # a full body (the host ignored Range, or first attempt): restart
        self._total = have + int(length) if length and length.isdigit() else None
        mode = "ab" if have else "wb"
        chunks = resp.iter_content(CHUNK)
        first = next(chunks, b"")
        if not have and looks_like_html(first, resp.headers.get("Content-Type", "")):
            raise DownloadRefused(url, status, "an HTML page came back instead of the file "
                                  "(a bot check or login page)", self.dest)
        with open(path, mode) as out, self._bar(have) as bar:
            for chunk in _chain(first, chunks):
                out.write(chunk)
                bar.update(len(chunk))
        size = os.path.getsize(path)
        if size == 0:
            raise DownloadRefused(url, status, "the body is empty", self.dest)
        return self._total is None or size == self._total

    def _bar(self, initial: int) -> Any:
        from tqdm.auto import tqdm

        show = self.progressbar
        if show is None:
            show = (self._total or 0) >= PROGRESS_MIN_BYTES
        return tqdm(total=self._total, initial=initial, unit="B", unit_scale=True,
                    unit_divisor=1024, disable=not show, leave=True,
                    desc=os.path.basename(self.dest) or "download")

    def _refuse_empty_or_html(self, url: str, status: str, path: str) -> None:
        with open(path, "rb") as f:
            head = f.read(512)
        if not head:
            raise DownloadRefused(url, status, "the file is empty", self.dest)
        if looks_like_html(head):
            raise DownloadRefused(url, status, "an HTML page, not the data file", self.dest)


def _chain(first: bytes, rest: Any):
    if first:
        yield first
    yield from rest


def _short(exc: Exception) -> str:
    """The useful part of a requests connection error (no pool and retry wrapping)."""
    m = re.search(r"(Failed to resolve '[^']+'|Connection refused|Name or service not known|"
                  r"No route to host|Network is unreachable)", str(exc))
    return m.group(1) if m else type(exc).__name__


def _unreachable(exc: Exception) -> bool:
    """Connection refused or no such host: retrying will not help."""
    text = repr(exc).lower()
    return any(s in text for s in ("refused", "name or service", "nodename", "resolve",
                                   "no address", "name resolution"))
