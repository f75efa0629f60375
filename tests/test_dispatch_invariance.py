"""The deterministic baselines' inputs have the same bytes whatever kernels the math libraries
pick: the composition features, the Θ each Cv / U label implies, log Θ, and Cv / U from Θ
(what ``composition_rf`` and ``debye_rf`` fit and predict through, on the real phonon data),
hashed in fresh processes under each dispatch variant the spread measurement uses
(benchmarks/regression_spread.py: MKL_CBWR, ATEN_CPU_CAPABILITY, OPENBLAS_CORETYPE,
NPY_DISABLE_CPU_FEATURES, glibc's libm, threads). A change that routes one of them through a
processor-dispatched kernel (torch's exp, numpy's SIMD exp, LAPACK's eigensolver) fails here
on this machine, not on another processor.

Run as a script it prints the hashes of this process: ``python tests/test_dispatch_invariance.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEMPERATURE = 300.0  # K, the phonon tasks' temperature
ROWS = 400  # of each phonon file for Θ, in mp-id order: every kernel is exercised, cheaply


def fingerprints(data_dir: Path) -> dict[str, str]:
    """sha256 of each deterministic-baseline array computed in this process."""
    import numpy as np

    from baselines.composition import composition_features
    from cloud.data import read_phonon
    from cloud.debye import fixedmath
    from cloud.debye.exact import debye_values
    from cloud.debye.inverse import theta_from_value

    def digest(a) -> str:
        return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()

    out = {"gauss_legendre": digest(np.concatenate(fixedmath.gauss_legendre_unit(48)))}
    for target in ("cv", "u"):
        whole = read_phonon(target, data_dir=data_dir).sort_values("mp_id")
        df = whole.iloc[:ROWS]
        values, n_atoms = df["value"].to_numpy(float), df["n_atoms"].to_numpy(float)
        theta = theta_from_value(values, n_atoms, target, TEMPERATURE)
        has = np.isfinite(theta)
        log_theta = fixedmath.log(theta[has])
        out[f"{target}/theta"] = digest(theta)
        out[f"{target}/log_theta"] = digest(log_theta)
        out[f"{target}/exp_log_theta"] = digest(fixedmath.exp(log_theta))
        out[f"{target}/value_of_theta"] = digest(
            debye_values(target, theta[has], n_atoms[has], TEMPERATURE))
        if target == "cv":
            out["composition_features"] = digest(composition_features(list(whole["scope"])))
    return out


def variants() -> dict[str, dict[str, str]]:
    from benchmarks.regression_spread import VARIANTS

    return VARIANTS


def _run(name: str, env_changes: dict[str, str], data_dir: Path) -> tuple[str, dict]:
    env = {k: v for k, v in os.environ.items() if k not in {
        key for v in variants().values() for key in v}}
    env.update(env_changes, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, __file__, str(data_dir)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (name, proc.stderr[-2000:])
    return name, json.loads(proc.stdout.strip().splitlines()[-1])


def test_baseline_inputs_have_the_same_bytes_under_every_kernel_choice(shared_data):
    names = variants()
    with ThreadPoolExecutor(max_workers=2) as pool:  # two processes at a time
        runs = dict(pool.map(lambda kv: _run(*kv, shared_data), names.items()))
    reference = runs["reference"]
    assert len(reference) == 10
    moved = {name: sorted(k for k in reference if got[k] != reference[k])
             for name, got in runs.items()}
    moved = {name: keys for name, keys in moved.items() if keys}
    assert not moved, f"kernel-dependent bits (variant: arrays that differ): {moved}"


def test_the_fingerprints_tell_inputs_apart(shared_data, tmp_path, monkeypatch):
    """The hashes are of the computed arrays: the same numbers hash alike, other labels (one
    Cv moved by one part in 1e12) give another Θ hash (a synthetic change of the real data)."""
    import pandas as pd

    from cloud.data import read_phonon

    first = fingerprints(shared_data)
    assert fingerprints(shared_data) == first
    original = read_phonon

    def nudged(target, data_dir=None):
        df = original(target, data_dir=data_dir)
        if target == "cv":
            df = df.sort_values("mp_id")
            df = pd.concat([df.iloc[:1].assign(value=df["value"].iloc[0] * (1 + 1e-12)),
                            df.iloc[1:]])
        return df

    monkeypatch.setattr("cloud.data.read_phonon", nudged)
    second = fingerprints(shared_data)
    assert second["cv/theta"] != first["cv/theta"]
    assert second["u/theta"] == first["u/theta"]


if __name__ == "__main__":
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    default = os.environ.get("CLOUD_DATA_DIR", str(REPO.parent / "shared" / "data"))
    data = Path(sys.argv[1] if len(sys.argv) > 1 else default)
    if not data.is_dir():
        pytest.exit(f"no data directory {data}")
    print(json.dumps(fingerprints(data)))
