"""Shared fixtures: the real data in ../shared/data (read in place, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CLOUD_DATA_DIR", REPO.parent / "shared" / "data"))


def shared_file(relpath: str) -> Path:
    """Path of a real data file; skips the test (with the reason) when it is absent."""
    path = SHARED_DATA / relpath
    if not path.exists():
        pytest.skip(f"real data file {path} not found (set CLOUD_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data directory {SHARED_DATA} not found (set CLOUD_DATA_DIR)")
    return SHARED_DATA
