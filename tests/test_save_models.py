"""``benchmarks/run.py --save-models`` keeps every fold's fine-tuned model, and
``python -m cloud.predict`` on that folder reproduces the run's own test predictions (real
smoke folds: MatBench jdft2d from structures, phonon Cv from the paper's SCOPE strings)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from benchmarks.run import main
from tests.conftest import REPO, shared_file


def _predict(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cloud.predict", *map(str, args),
                           "--no-progress"], capture_output=True, text=True, cwd=REPO,
                          timeout=600)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, shared_data):
    out = tmp_path_factory.mktemp("saved") / "run"
    code = main(["--task", "matbench_jdft2d,cv", "--smoke", "--save-models",
                 "--models", "cloud,cloud_debye_scratch", "--allow-skips", "--data-dir", str(shared_data),
                 "--out", str(out), "--no-progress"])
    assert code == 0
    return out


def test_every_fold_model_is_saved_with_tokenizer_and_scaling(saved):
    model_dir = saved / "matbench_jdft2d" / "cloud" / "fold_0_model"
    config = json.loads((model_dir / "config.json").read_text())
    assert config["architectures"] == ["CloudForRegression"]
    assert config["target_std"] > 0 and "target_mean" in config
    assert (model_dir / "tokenizer.json").exists() and (model_dir / "model.safetensors").exists()
    record = json.loads((saved / "matbench_jdft2d" / "cloud" / "fold_0.json").read_text())
    assert record["model_dir"] == str(model_dir)


def test_predict_from_structures_reproduces_the_fold(saved, tmp_path):
    record = json.loads((saved / "matbench_jdft2d" / "cloud" / "fold_0.json").read_text())
    with gzip.open(shared_file("matbench/matbench_jdft2d.json.gz"), "rt") as fh:
        doc = json.load(fh)
    wanted = list(record["predictions"])[:6]
    rows = [int(i.rsplit("-", 1)[1]) - 1 for i in wanted]  # row i is mb-jdft2d-(i+1)
    small = {"index": wanted, "columns": doc["columns"], "data": [doc["data"][r] for r in rows]}
    path = tmp_path / "six.json.gz"
    with gzip.open(path, "wt") as fh:
        json.dump(small, fh)
    out = tmp_path / "preds.csv"
    proc = _predict(saved / "matbench_jdft2d" / "cloud" / "fold_0_model", path, "--out", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = pd.read_csv(out).set_index("id")["prediction"]
    expected = np.array([record["predictions"][i] for i in wanted])
    np.testing.assert_allclose(got.loc[wanted].to_numpy(), expected, rtol=1e-5)


def test_predict_debye_from_scope_strings_reproduces_the_fold(saved, tmp_path):
    record = json.loads((saved / "cv" / "cloud_debye_scratch" / "fold_0.json").read_text())
    table = pd.read_csv(shared_file("scope_reference/phonon.csv")).set_index("mp_id")
    wanted = list(record["predictions"])[:8]
    csv = tmp_path / "scope.csv"
    table.loc[wanted, ["scope", "n_atoms"]].rename_axis("id").to_csv(csv)
    out = tmp_path / "cv.csv"
    proc = _predict(saved / "cv" / "cloud_debye_scratch" / "fold_0_model", csv, "--out", out,
                    "--temperatures", "100,300")
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = pd.read_csv(out).set_index("id")
    np.testing.assert_allclose(got.loc[wanted, "cv_300K"].to_numpy(),
                               [record["predictions"][i] for i in wanted], rtol=1e-4)
    theta = dict(zip(record["predictions"], record["theta"], strict=True))  # fold order
    np.testing.assert_allclose(got.loc[wanted, "theta_K"].to_numpy(),
                               [theta[i] for i in wanted], rtol=1e-4)
    assert (got["cv_100K"] < got["cv_300K"]).all()


def test_a_pretraining_checkpoint_is_refused():
    proc = _predict(REPO / "cloud" / "pretrained" / "cloud-small-offline",
                    shared_file("scope_reference/phonon.csv"), "--out", "/dev/null")
    assert proc.returncode == 2 and "no trained head" in proc.stderr
    assert "Traceback" not in proc.stderr
