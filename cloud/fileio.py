"""Atomic file writes: a reader (or an interrupted run) never sees half a file.

Each write goes to a temporary file in the same folder, named by the writing process, and
is renamed over the target, which POSIX makes atomic.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode())


def write_json_atomic(path: str | Path, obj, indent: int = 1, default=float,
                      newline: bool = False) -> Path:
    """``obj`` as JSON; values JSON lacks go through ``default`` (numpy scalars and other
    numbers through ``float``); ``newline`` ends the file with one."""
    return write_text_atomic(path, json.dumps(obj, indent=indent, default=default)
                             + ("\n" if newline else ""))
