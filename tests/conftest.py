"""Shared fixtures: the real data in ../shared/data (read in place, never copied)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTDEPS = Path(os.environ.get("CLOUD_BENCH_TESTDEPS", "~/.cache/cloud-bench/testdeps"))
SHARED_DATA = Path(os.environ.get("CLOUD_DATA_DIR", REPO.parent / "shared" / "data"))
# Ray's single-machine mode (read when ray is imported, so set before any test imports it, and
# inherited by the runner processes the tests start): every Ray process of the tests'
# clusters listens on 127.0.0.1 only, never on the machine's network address
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def shared_file(relpath: str) -> Path:
    """Path of a real data file; skips the test (with the reason) when it is absent."""
    path = SHARED_DATA / relpath
    if not path.exists():
        pytest.skip(f"real data file {path} not found (set CLOUD_DATA_DIR)")
    return path


def optimade_sample(n: int) -> list[str]:
    """The first ``n`` SCOPE strings of the real OPTIMADE pretraining sample."""
    import csv
    import gzip

    with gzip.open(shared_file("scope_reference/pretrain_optimade_10k.csv.gz"), "rt") as fh:
        return [r["scope"] for _, r in zip(range(n), csv.DictReader(fh), strict=False)]


class Interrupted(Exception):
    """Raised by :class:`FailingCollator`: a run killed in the middle of an epoch."""


class FailingCollator:
    """Wraps a collator and raises :class:`Interrupted` on its ``fail_at``-th batch (other
    attributes, e.g. ``reseed``, are the wrapped collator's)."""

    def __init__(self, collator, fail_at: int):
        self.collator, self.fail_at, self.calls = collator, fail_at, 0

    def __call__(self, items):
        self.calls += 1
        if self.calls == self.fail_at:
            raise Interrupted
        return self.collator(items)

    def __getattr__(self, name):
        return getattr(self.collator, name)


def pytest_configure(config):
    config.addinivalue_line("markers", "regression: the CI regression stage (runs last)")


def pytest_collection_modifyitems(items):
    """Unit tests first, then the regression stage (stable order otherwise)."""
    items.sort(key=lambda item: item.get_closest_marker("regression") is not None)


@pytest.fixture(scope="session", autouse=True)
def scope_cache(tmp_path_factory):
    """One SCOPE encoding cache for the session (unless $CLOUD_SCOPE_CACHE is set): tests and
    the regression stage's child processes encode each real file once."""
    if "CLOUD_SCOPE_CACHE" in os.environ:
        yield Path(os.environ["CLOUD_SCOPE_CACHE"])
        return
    path = tmp_path_factory.mktemp("scope-cache")
    os.environ["CLOUD_SCOPE_CACHE"] = str(path)
    yield path
    os.environ.pop("CLOUD_SCOPE_CACHE", None)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data directory {SHARED_DATA} not found (set CLOUD_DATA_DIR)")
    return SHARED_DATA


def pip_target(name: str, requirements: list[str]) -> Path:
    """``pip install --no-deps --target`` into a cache dir once; skip if PyPI is unreachable."""
    root = TESTDEPS.expanduser()
    target = root / name
    if (target / ".complete").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{name}.", dir=root))
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--retries", "1",
           "--disable-pip-version-check", "--target", str(tmp), *requirements]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        proc = subprocess.CompletedProcess(cmd, 1, "", str(exc))
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.skip(f"cannot get {requirements} from PyPI: {proc.stderr.strip()[-400:]}")
    (tmp / ".complete").write_text(" ".join(requirements) + "\n")
    try:
        tmp.rename(target)
    except OSError:  # another run finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray cluster of 2 CPUs for the session (small object store, no dashboard, on
    127.0.0.1 only), shut down at the end; its address, for runner processes that join it."""
    ray = pytest.importorskip("ray")
    context = ray.init(num_cpus=2, object_store_memory=200_000_000, include_dashboard=False,
                       logging_level="WARNING")
    yield context.address_info["gcs_address"]
    ray.shutdown()
