"""Row statistics of the leaderboards: leakage (corpus fingerprint), cost and provenance,
per-task statistics, cross-task scores, the paired comparison of two runs, and what the
committed GPU run's reports say."""

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.reports import compare, cost, fold_devices, row_stats, row_tables
from benchmarks.reports.task_stats import TaskStats, TaskTruth, model_rows
from benchmarks.tasks import Fold, TaskData, select
from cloud.train.corpus_fingerprint import CorpusFingerprint, composition_key, fingerprint_of

REPO = Path(__file__).resolve().parents[1]
ENCODER = REPO / "cloud" / "pretrained" / "cloud-small-offline"
GPU_RUN = REPO / "reports" / "matbench_gpu"


def test_fingerprint_round_trip_and_composition_key(tmp_path):
    strings = ["0 4 b | 2c 2a | Sr 0.2 Se 0.4 F 0.2 Sb 0.2", "1 | 1a | Na 0.5 Cl 0.5"]
    fp = CorpusFingerprint.from_strings(strings)
    back = CorpusFingerprint.load(fp.save(tmp_path / "fp.npz"))
    assert back.n_strings == 2 and (back.scope == fp.scope).all()
    assert back.contains_strings(strings + ["1 | 1a | K 0.5 Cl 0.5"]).tolist() == [
        True, True, False]
    # same composition written in another element order, other structure: composition hit
    other = "2 | 4a | Cl 0.5 Na 0.5"
    assert back.contains_compositions([other]).tolist() == [True]
    assert back.contains_strings([other]).tolist() == [False]
    assert composition_key("1 | 1a") is None


def test_committed_encoder_saw_every_jdft2d_input(shared_data):
    """The committed corpus holds every jdft2d string (its corpus_summary's overlap); the
    fingerprint must say so, and must not claim strings that are not SCOPE at all."""
    manifest = json.loads((ENCODER / "manifest.json").read_text())
    assert manifest["corpus_fingerprint"]["n_strings"] == 88818
    fp = fingerprint_of(ENCODER)
    data = select("matbench_jdft2d")[0].load(shared_data, "paper", False)
    leak = row_stats.leakage(data.texts, ENCODER)
    assert leak["scope_string_share"] == 1.0 and leak["composition_share"] == 1.0
    assert not fp.contains_strings([t + " X" for t in data.texts[:50]]).any()


def test_fold_devices_from_the_committed_gpu_job_tables():
    tables = REPO / "reports" / "gpu_runs"
    mb = fold_devices.trained_folds(tables, {"runs/gpu/matbench", "runs/gpu/matbench2",
                                             "runs/gpu/matbench3"})
    assert {f"matbench_jdft2d/cloud/{k}" for k in range(5)} <= set(mb)
    assert not any("composition_rf" in k for k in mb)  # baselines ran in the report pass
    unconv = fold_devices.trained_folds(tables, {"runs/gpu/unconv"})
    assert "unconv_2d_e_exf/cloud/4" in unconv
    assert "unconv_2d_e_exf/cloud_canonical/4" not in unconv  # not started: ran on the CPU


def test_model_cost_prefers_the_record_and_counts_parameters():
    from cloud.train.finetune import build_model, load_tokenizer

    spec = {"type": "cloud", "preset": "small", "head_hidden_sizes": [256]}
    records = {0: {"task": "t", "model": "m", "time_s": 10.0, "history": [{}] * 3,
                   "config": spec, "pretrained": str(ENCODER)},
               1: {"task": "t", "model": "m", "fit_s": 4.0, "predict_s": 1.0,
                   "history": [{}] * 5, "config": spec, "pretrained": str(ENCODER),
                   "device": "NVIDIA H100 80GB HBM3"}}
    c = cost.model_cost(records, {"t/m/0": "CPU"})
    assert c["device"] == ["CPU", "NVIDIA H100 80GB HBM3"]
    assert c["train_s_includes_predict"] and c["train_s"]["total"] == 10.0 + 4.0 + 1.0
    assert c["predict_s"] is None  # one fold did not record it
    assert c["epochs"] == {"median": 4.0, "min": 3, "max": 5}
    model = build_model("regression", load_tokenizer(ENCODER), ENCODER, "small",
                        head_hidden_sizes=[256])
    assert c["n_parameters"] == sum(p.numel() for p in model.parameters())
    assert cost.parameter_count({"config": {"type": "composition_rf"}}) is None


def _toy_task(n=200, seed=0):
    """Synthetic targets and hull distances (stated as such), 4 folds of 50 rows."""
    rng = np.random.default_rng(seed)
    ids = [f"r{i}" for i in range(n)]
    y = rng.normal(size=n)
    folds = [Fold([], ids[k::4]) for k in range(4)]
    data = TaskData(ids, ["x"] * n, y, folds, n, "synthetic", meta={
        "e_above_hull": y * 0.1 + rng.normal(scale=0.05, size=n)})
    return data, rng


def _records(data, preds):
    return {k: {"predictions": {i: float(preds[data.rows([i])[0]]) for i in f.test}}
            for k, f in enumerate(data.folds)}


def test_task_stats_ties_the_noisy_twin_and_not_the_weak_model():
    data, rng = _toy_task()
    y = data.targets
    preds = {"good": y + rng.normal(scale=0.3, size=y.size),
             "twin": y + rng.normal(scale=0.3, size=y.size),
             "weak": y + rng.normal(scale=1.0, size=y.size)}
    rows = {n: model_rows(_records(data, p), {}) for n, p in preds.items()}
    entry = {"models": {n: {"summary": {}} for n in preds}}
    TaskStats(TaskTruth(data), rows, "mae", {"weak"}, n_resamples=500).annotate(entry)
    best = entry["statistics"]["best"]
    assert best in ("good", "twin") and set(entry["tie_with_best"]) == {"good", "twin"}
    weak = entry["models"]["weak"]
    assert weak["vs_best"]["delta"] > 0 and weak["vs_best"]["ci95"][0] > 0
    assert weak["rank"] == 3 and entry["models"][best]["rank"] == 1
    lo, hi = entry["models"]["good"]["ci95"]["mae"]
    assert lo < np.mean(np.abs(preds["good"] - y)) < hi
    # stability F1 on hull distances, with McNemar against the best
    stab = TaskStats(TaskTruth(data), rows, "full/F1", set(), n_resamples=300)
    stab_entry = {"models": {n: {"summary": {}} for n in preds}}
    stab.annotate(stab_entry)
    other = next(n for n in preds if n != stab_entry["statistics"]["best"])
    assert "mcnemar" in stab_entry["models"][other]["vs_best"]


def test_cross_task_compares_only_shared_tasks():
    def model(se, rank):
        return {"summary": {}, "scaled_error": {"value": se}, "rank": rank}

    summary = {"tasks": {
        "matbench_jdft2d": {"models": {"a": model(0.5, 1), "b": model(0.6, 2), "c": model(0.1, 1)}},
        "matbench_phonons": {"models": {"a": model(0.3, 2), "b": model(0.2, 1)}}}}
    out = row_stats.cross_task(summary, select("matbench_jdft2d,matbench_phonons"))["matbench"]
    assert out["shared_tasks"] == ["matbench_jdft2d", "matbench_phonons"]
    assert out["models"]["a"]["mean_shared"] == pytest.approx(0.4)
    assert out["models"]["a"]["mean_rank_shared"] == 1.5
    assert out["models"]["c"] == {"mean": 0.1, "n_tasks": 1, "tasks": ["matbench_jdft2d"],
                                  "mean_shared": None, "mean_rank_shared": None}


def test_compare_runs_pairs_rows_of_two_runs():
    data, rng = _toy_task()
    task = select("matbench_jdft2d")[0]
    y = data.targets
    a = _records(data, y + rng.normal(scale=0.2, size=y.size))
    b = _records(data, y + rng.normal(scale=0.6, size=y.size))
    del b[3]  # run B missed a fold: compared on the three shared folds
    res = compare.compare_runs(task, data, a, b, n_resamples=300)
    assert res["folds"] == [0, 1, 2] and res["n_rows"] == 150
    assert res["delta"] == pytest.approx(res["score_a"] - res["score_b"])
    assert res["ci95"][1] < 0 and res["p_value"] < 0.01


def test_committed_gpu_leaderboard_shows_intervals_ties_leakage_and_gpu():
    summary = json.loads((GPU_RUN / "summary.json").read_text())
    entry = summary["tasks"]["matbench_jdft2d"]
    best = entry["statistics"]["best"]
    assert entry["tie_with_best"][0] == best
    for m in entry["models"].values():
        lo, hi = m["ci95"]["mae"]
        assert lo < m["summary"]["mae"]["mean"] < hi
        assert set(m["vs_best"]) >= {"model", "metric", "delta", "ci95", "p_holm"}
        if m["type"] == "cloud":
            assert m["trained_on"] == ["NVIDIA H100 80GB HBM3"]
            assert m["leakage"]["composition_share"] == 1.0
    models = entry["models"]
    assert models["cloud"]["leakage"]["scope_string_share"] == 1.0
    # canonical strings are another encoding than the corpus's: fewer exact hits
    assert models["cloud_canonical"]["leakage"]["scope_string_share"] < 0.5
    assert models["composition_rf"]["leakage"] is None
    board = (GPU_RUN / "leaderboard.md").read_text()
    assert "NVIDIA H100 80GB HBM3" in board and "≈ best" in board
    assert row_tables.LEAKAGE_NOTE in board and "100 % / 100 %" in board
    assert "cross-task scaled error" in board
