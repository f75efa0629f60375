"""Frozen-encoder probes through the real runner: a hand-written scikit-learn Pipeline with
CloudEmbedder gives the probe rows' numbers (matbench_jdft2d, official 5 folds; cv through the
Debye model, 5 CV folds), equal to the committed ``reports/probes_cpu`` rows; other encoders
by ``python -m benchmarks.run_probes --encoder``; the pretraining table's Markdown follows its
JSON. Data: real (jdft2d structures, the paper's Cv strings); encoder: the committed one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.models.probes import ALPHAS
from benchmarks.run import main as run_main

HERE = "tests.test_probes"
ENCODER = "cloud/pretrained/cloud-small-offline"
REPORT = Path(__file__).resolve().parents[1] / "reports" / "probes_cpu"
PROBES_CONFIG = "benchmarks/configs/experiments/probes.yaml"


def ridge_pipeline():
    """What a user writes: the committed encoder's [CLS] vectors, scaled, RidgeCV."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from cloud.embeddings import CloudEmbedder

    return make_pipeline(CloudEmbedder(ENCODER), StandardScaler(), RidgeCV(alphas=ALPHAS))


def debye_ridge_pipeline():
    """The same on log Θ: the runner fits it to each label's Θ and applies the Debye model."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from cloud.embeddings import CloudEmbedder

    head = make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS))
    return make_pipeline(CloudEmbedder(ENCODER, predicts="debye_temperature"),
                         TransformedTargetRegressor(head, func=np.log, inverse_func=np.exp,
                                                    check_inverse=False))


def fold_predictions(out: Path, task: str, model: str, folds) -> dict:
    return {k: json.loads((out / task / model / f"fold_{k}.json").read_text())["predictions"]
            for k in folds}


def test_pipeline_through_the_runner_equals_the_probe_rows(tmp_path, shared_data,
                                                           monkeypatch):
    monkeypatch.setenv("CLOUD_DATA_DIR", str(shared_data))
    monkeypatch.setenv("CLOUD_EMBEDDING_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    models = f"probe_ridge,{HERE}:ridge_pipeline,{HERE}:debye_ridge_pipeline"
    code = run_main(["--config", PROBES_CONFIG, "--task", "matbench_jdft2d,cv", "--folds",
                     "0,1,2,3,4", "--models", models, "--allow-skips", "--no-progress",
                     "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())["tasks"]
    committed = json.loads((REPORT / "summary.json").read_text())["tasks"]
    for task, pipe in (("matbench_jdft2d", "ridge_pipeline"), ("cv", "debye_ridge_pipeline")):
        name = f"{HERE}.{pipe}"
        assert summary[task]["models"][name]["n_folds"] == 5
        assert fold_predictions(out, task, name, range(5)) == fold_predictions(
            out, task, "probe_ridge", range(5))
        ours = summary[task]["models"]["probe_ridge"]["summary"]["mae"]["mean"]
        assert summary[task]["models"][name]["summary"]["mae"]["mean"] == ours
        assert ours == pytest.approx(
            committed[task]["models"]["probe_ridge"]["summary"]["mae"]["mean"], rel=1e-6)
    assert summary["matbench_jdft2d"]["rows"][f"{HERE}.debye_ridge_pipeline"][
        "status"] == "skipped"
    record = json.loads((out / "cv" / "probe_ridge" / "fold_1.json").read_text())
    probe = record["probe"]
    assert probe["encoder"]["init"] == "pretrained" and probe["alpha"] in ALPHAS
    assert len(record["theta"]) == record["n_test"]  # Θ predicted, Cv from the Debye model
    # fold 1 reuses what fold 0 embedded (the same 1512 strings, cut differently)
    assert probe["fit_embeddings"]["n_computed"] == probe["predict_embeddings"][
        "n_computed"] == 0


def test_run_probes_adds_any_encoder_by_folder(tmp_path, shared_data, monkeypatch):
    from benchmarks.run_probes import main

    monkeypatch.setenv("CLOUD_DATA_DIR", str(shared_data))
    monkeypatch.setenv("CLOUD_EMBEDDING_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    code = main(["--encoder", f"mine={ENCODER}", "--no-committed", "--probes", "ridge",
                 "--pooling", "mean", "--task", "matbench_jdft2d", "--smoke", "--no-progress",
                 "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())["tasks"]["matbench_jdft2d"]
    assert set(summary["rows"]) == {"probe_ridge_random", "probe_ridge_mine"}
    record = json.loads((out / "matbench_jdft2d/probe_ridge_mine/fold_0.json").read_text())
    assert record["probe"]["encoder"]["pooling"] == "mean"
    assert record["config"]["encoder"] == ENCODER
    assert main(["--encoder", "no/such/dir", "--out", str(out)]) == 2


def test_pretraining_table_follows_its_json():
    from benchmarks.reports.pretraining_value import markdown

    result = json.loads((REPORT / "pretraining.json").read_text())
    assert (REPORT / "pretraining.md").read_text() == markdown(result)
    for task, entry in result["tasks"].items():
        rows = entry["rows"]
        assert {"probe_ridge", "probe_ridge_random"} <= set(rows), task
        for r in rows.values():
            assert r["ci95"][0] <= r["mae"] <= r["ci95"][1]
        for c in entry["comparisons"]:
            assert c["delta"] == pytest.approx(rows[c["a"]]["mae"] - rows[c["b"]]["mae"],
                                               rel=1e-9, abs=1e-12)
