"""Run a child process and show its stderr lines as they arrive (long test stages)."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Callable, Sequence


def _pump(stream, sink: list[str], lines: queue.Queue | None) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line)
        if lines is not None:
            lines.put(line)
    stream.close()
    if lines is not None:
        lines.put(None)


def run_streaming(cmd: Sequence[str], write_line: Callable[[str], None], timeout: float,
                  **kwargs) -> subprocess.CompletedProcess:
    """Like ``subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)``,
    and every stderr line is passed to ``write_line`` (without its newline) as the child
    writes it. Raises ``subprocess.TimeoutExpired`` (child killed) past ``timeout`` seconds."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)
    out: list[str] = []
    err: list[str] = []
    lines: queue.Queue = queue.Queue()
    readers = [threading.Thread(target=_pump, args=(proc.stdout, out, None), daemon=True),
               threading.Thread(target=_pump, args=(proc.stderr, err, lines), daemon=True)]
    for t in readers:
        t.start()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(left, 0))
        except queue.Empty:
            proc.kill()
            proc.wait()
            raise subprocess.TimeoutExpired(cmd, timeout, "".join(out), "".join(err)) from None
        if line is None:
            break
        write_line(line.rstrip("\n"))
    try:
        proc.wait(timeout=max(deadline - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    for t in readers:
        t.join()
    return subprocess.CompletedProcess(cmd, proc.returncode, "".join(out), "".join(err))


def terminal_line_writer(config, prefix: str = "") -> Callable[[str], None]:
    """A ``write_line`` that reaches the terminal during a test, past output capturing."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def write_line(line: str) -> None:
        if reporter is None:
            return
        if capture is None:
            reporter.write_line(prefix + line)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(prefix + line)

    return write_line
