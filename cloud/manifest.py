"""Run manifests: what produced a result (commit, config, seeds, data checksums, versions,
device, timings), written next to the result."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from cloud.fileio import write_json_atomic

PACKAGES = ("torch", "transformers", "accelerate", "tokenizers", "numpy", "pandas", "scipy",
            "scikit-learn", "spglib", "moyopy", "pymatgen")
REPO = Path(__file__).resolve().parents[1]
# set to the commit a copy of the working tree came from when its .git is absent or stale (a
# rented GPU machine gets the files of a commit but the .git of another)
ENV_COMMIT = "CLOUD_GIT_COMMIT"


def git_state(repo: Path = REPO) -> dict:
    def run(*args):
        out = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else None

    if os.environ.get(ENV_COMMIT):  # a copy of the working tree whose .git is absent or stale
        return {"commit": os.environ[ENV_COMMIT], "dirty": None, "source": ENV_COMMIT}
    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": run("rev-parse", "HEAD"),
            "dirty": bool(status) if status is not None else None}


def versions() -> dict:
    found = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def device_info() -> dict:
    info = {"platform": platform.platform(), "processor": platform.machine()}
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["cuda_device"] = torch.cuda.get_device_name(0)
            info["cuda_devices"] = torch.cuda.device_count()
        else:
            info["cuda_device"] = None
    except ImportError:
        pass
    info["cpu_count"] = os.cpu_count()
    return info


def device_name(info: dict | None = None) -> str:
    """The GPU's name, else "CPU" (of ``device_info()``, or of ``info`` already read)."""
    return (info or device_info()).get("cuda_device") or "CPU"


def build_manifest(config: dict | None = None, seeds: dict | None = None,
                   data: dict[str, str] | None = None, timings: dict | None = None,
                   **extra) -> dict:
    """``data`` maps a data file (key or path) to its sha256."""
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(sys.argv),
        "git": git_state(),
        "config": config or {},
        "seeds": seeds or {},
        "data": data or {},
        "versions": versions(),
        "device": device_info(),
        "timings": timings or {},
        **extra,
    }


def write_manifest(path: str | Path, **fields) -> dict:
    manifest = build_manifest(**fields)
    write_json_atomic(path, manifest, default=str)
    return manifest
