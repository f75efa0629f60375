"""Matbench Discovery family: data tables, scoring against matbench-discovery, runner outputs.

Real data from ../shared/data. The canonical WBM task cannot run offline (its files are not
there): it must be reported skipped. Encoding all 36k stand-in structures takes minutes on
2 cores, so the adapters under test encode a seeded sample of the rows (``sample=``).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from benchmarks.leaderboards.discovery_check import unfilled_fields
from benchmarks.metrics import roc_auc, stability_metrics, threshold_sweep
from benchmarks.reports.summary import leaderboard_markdown
from benchmarks.run import main
from benchmarks.tasks import discovery, select
from benchmarks.tasks.discovery import MptsTask, Wbm10kTask, WbmTask
from benchmarks.tasks.discovery_data import (
    mpts_tables,
    read_mp_structures,
    read_wbm_initial_structures,
    wbm10k_tables,
)
from benchmarks.tasks.discovery_scores import (
    discovery_scores,
    predicted_hull,
    subset_metrics,
    unique_prototypes,
)
from benchmarks.tasks.scope_inputs import ENV_SCOPE_CACHE, scope_cache_dir
from cloud.data import read_cif_csv
from tests.conftest import pip_target, shared_file
from tests.test_metrics import MBD_REQUIREMENTS, MBD_SCRIPT

SAMPLE = (400, 200)  # training, test rows encoded by the adapters under test
# the keys of the model schema's DiscoveryMetricsSet
SCHEMA_METRICS = ("F1", "DAF", "Precision", "Recall", "Accuracy", "TPR", "FPR", "TNR", "FNR",
                  "TP", "FP", "TN", "FN", "MAE", "RMSE", "R2", "missing_preds")


def _offline(*args, **kwargs):
    raise OSError("network is unreachable (test)")


@pytest.fixture(scope="module")
def adapters(shared_data):
    """The family with the stand-ins encoding a sample."""
    return [WbmTask(), MptsTask(sample=SAMPLE), Wbm10kTask(sample=SAMPLE)]


@pytest.fixture(scope="module")
def loaded(adapters, shared_data):
    """The stand-ins' data, loaded once for the module."""
    return {task.name: task.load(shared_data, progress=False) for task in adapters[1:]}


# ---------------------------------------------------------------- tables (no encoding)
def test_mpts_standin_rows_and_leakage(shared_data):
    t = mpts_tables(shared_data)
    raw = {k: read_cif_csv(shared_file(f"stability/{k}.csv.gz"), id_col="material_id")
           for k in ("mpts_52_val", "mp_20_biternary_val", "mp_20_biternary_test",
                     "mpts_52_test")}
    pool = pd.Index(raw["mpts_52_val"].index).append(
        [raw["mp_20_biternary_val"].index, raw["mp_20_biternary_test"].index])
    n_dup = int(pool.duplicated().sum())
    n_leak = len(set(pool) & set(raw["mpts_52_test"].index))
    assert (n_dup, n_leak) == (547, 822)
    assert t.counts["train_duplicates_merged"] == n_dup
    assert t.counts["train_removed_in_test"] == n_leak
    assert len(t.train) == 5000 + 7140 + 7118 - n_dup - n_leak == 17889
    assert len(t.test) == 8096 and not t.errors
    assert not set(t.train.index) & set(t.test.index)
    assert t.train.index.is_unique and t.test.index.is_unique
    # energies and hull distances are the files' own columns
    test = raw["mpts_52_test"]
    np.testing.assert_array_equal(t.test["e_hull"], test.loc[t.test.index, "energy_above_hull"])
    np.testing.assert_array_equal(t.test["e_form"],
                                  test.loc[t.test.index, "formation_energy_per_atom"])
    mp20 = raw["mp_20_biternary_test"]
    val = raw["mpts_52_val"]  # read first: its values win for the 547 shared ids
    only = [i for i in t.train.index if i in mp20.index and i not in val.index][:50]
    shared = [i for i in t.train.index if i in mp20.index and i in val.index][:50]
    np.testing.assert_array_equal(t.train.loc[shared, "e_hull"],
                                  val.loc[shared, "energy_above_hull"])
    np.testing.assert_array_equal(t.train.loc[only, "e_hull"], mp20.loc[only, "e_above_hull"])
    # the time split: every MPTS-52 row trained on is older than every test row
    years = raw["mpts_52_val"].loc[raw["mpts_52_val"].index.isin(t.train.index), "year"]
    assert years.max() <= test["year"].min()


def test_wbm10k_standin_trains_on_the_same_rows(shared_data):
    a, b = mpts_tables(shared_data), wbm10k_tables(shared_data)
    assert list(b.train.index) == list(a.train.index)
    raw = read_cif_csv(shared_file("discovery/wbm_relaxed_subset_10k.csv.gz"))
    assert len(b.test) == 10000 and b.test.index.str.startswith("wbm-").all()
    np.testing.assert_array_equal(b.test["e_form"], raw.loc[b.test.index, "e_form_per_atom_wbm"])
    assert b.test["e_hull"].isna().all()  # no hull distances for these rows
    assert "uncorrected" in Wbm10kTask.stand_in and "STAND-IN" in Wbm10kTask.stand_in


# ---------------------------------------------------------------- loaded task data
def test_loaded_standin_is_one_leak_free_fold(adapters, loaded):
    for task in adapters[1:]:
        data = loaded[task.name]
        (fold,) = data.folds
        assert (len(fold.train), len(fold.test)) == SAMPLE
        assert not set(fold.train) & set(fold.test)
        assert data.partial and "seeded sample" in data.source
        assert data.source.startswith("STAND-IN") and data.meta["stand_in"] == task.stand_in
        assert data.meta["counts"]["train_removed_in_test"] == 822
    mpts = loaded[adapters[1].name]
    idx = mpts.rows(mpts.folds[0].test)
    test = read_cif_csv(shared_file("stability/mpts_52_test.csv.gz"), id_col="material_id")
    ids = mpts.folds[0].test
    np.testing.assert_array_equal(mpts.meta["e_above_hull"][idx],
                                  test.loc[ids, "energy_above_hull"])
    np.testing.assert_array_equal(mpts.targets[idx], test.loc[ids, "formation_energy_per_atom"])
    # unique prototypes: SCOPE string on no training row and on no earlier test row
    train_keys = set(mpts.subset(mpts.folds[0].train)[0])
    seen, expected = set(), []
    for text in mpts.subset(ids)[0]:
        expected.append(text not in train_keys and text not in seen)
        seen.add(text)
    np.testing.assert_array_equal(mpts.meta["unique_prototype"][idx], expected)
    # the same semantics on three distinct real strings, one repeated, one in training
    a, b, c = list(dict.fromkeys(mpts.subset(ids)[0]))[:3]
    assert list(unique_prototypes([a, b, a, c], [c])) == [True, True, False, False]


def test_hull_distance_formula_and_known_shift(adapters, loaded):
    task = adapters[1]
    data = loaded[task.name]
    fold = data.folds[0]
    idx = data.rows(fold.test)
    hull, e_form = data.meta["e_above_hull"][idx], data.targets[idx]
    np.testing.assert_allclose(predicted_hull(hull, e_form, e_form + 0.07), hull + 0.07)
    exact = task.fold_metrics(data, fold, e_form.copy())
    assert exact["mae"] == 0 and exact["full/F1"] == 1
    assert exact["full/MAE"] == pytest.approx(0, abs=1e-15)  # hull + e - e: rounding only
    delta = -0.03  # every prediction 30 meV/atom too low: stable predicted iff hull <= 0.03
    got = task.fold_metrics(data, fold, e_form + delta)
    assert got["mae"] == pytest.approx(0.03)
    assert not np.any(np.isclose(hull, 0.03, rtol=0, atol=1e-9))  # no row on the edge
    assert got["full/TP"] == np.sum(hull <= 0) and got["full/FN"] == 0
    assert got["full/FP"] == np.sum((hull > 0) & (hull <= 0.03))
    ref = stability_metrics(hull, predicted_hull(hull, e_form, e_form + delta))
    for k, v in ref.items():
        assert got[f"full/{k}"] == pytest.approx(v, nan_ok=True), k
    sweep = threshold_sweep(hull, predicted_hull(hull, e_form, e_form + delta),
                            (-0.05, 0.0, 0.05))
    for key, thr in (("full@-0.05", -0.05), ("full@0", 0.0), ("full@+0.05", 0.05)):
        assert subset_metrics(got, key) == pytest.approx(sweep.loc[thr].to_dict(), nan_ok=True)
    assert got["roc_auc"] == pytest.approx(roc_auc(hull, hull + delta))  # a shift: AUC 1
    assert got["roc_auc"] == pytest.approx(1.0)
    assert all(isinstance(v, float) for v in got.values())


def test_scores_match_matbench_discovery_package(adapters, loaded, tmp_path):
    """Every stability number equals matbench-discovery's own ``stable_metrics`` on the
    same arrays: real labels of the stand-in, a seeded error added to the DFT formation
    energies as the model's prediction; subsets built as its scripts/evals/discovery.py."""
    target = pip_target("matbench-discovery-1.3.1", MBD_REQUIREMENTS)
    data = loaded[adapters[1].name]
    idx = data.rows(data.folds[0].test)
    hull, e_form = data.meta["e_above_hull"][idx], data.targets[idx]
    uniq = data.meta["unique_prototype"][idx].copy()
    uniq[::7] = False  # as if some test prototypes were in the training set
    pred = e_form + np.random.default_rng(5).normal(0.0, 0.08, len(e_form))
    ours = discovery_scores(hull, e_form, pred, uniq, n_most_stable=100)
    each_pred = pd.Series(hull + pred - e_form)
    top = each_pred[uniq].nsmallest(100).index.to_numpy()
    subsets = {"full": np.arange(len(hull)), "uniq_proto": np.flatnonzero(uniq),
               "most_stable_10k": top}
    cases = [{"true": hull[rows].tolist(), "pred": each_pred.to_numpy()[rows].tolist(),
              "threshold": 0.0} for rows in subsets.values()]
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    env = {**os.environ, "PYTHONPATH": str(target), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", MBD_SCRIPT, str(target), str(path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])["results"]
    uniq_prevalence = np.mean(hull[uniq] <= 0)
    for (name, rows), ref in zip(subsets.items(), theirs, strict=True):
        if name != "full":  # the eval script divides by the unique prototypes' prevalence
            ref["DAF"] = ref["Precision"] / uniq_prevalence
        assert ours[f"{name}/n"] == len(rows)
        for key, value in ref.items():
            assert ours[f"{name}/{key}"] == pytest.approx(value, rel=1e-12, abs=1e-15), (
                name, key)


# ---------------------------------------------------------------- canonical readers
def test_canonical_readers_on_synthetic_files(tmp_path):
    """Synthetic files in the upstream layouts (pd.read_json(lines=True) columns
    material_id, formula_from_cse, initial_structure; the MP entries DataFrame JSON with an
    ``entry`` column), built around one real structure dict."""
    doc = json.load(gzip.open(shared_file("phonon/structures.subset.json.gz"), "rt"))
    structure = doc["data"][0][0]
    init = tmp_path / "init.jsonl.gz"
    with gzip.open(init, "wt") as fh:
        for i in ("wbm-1-1", "wbm-1-2"):
            fh.write(json.dumps({"material_id": i, "formula_from_cse": "X",
                                 "initial_structure": structure}) + "\n")
    got = read_wbm_initial_structures(init)
    assert list(got.index) == ["wbm-1-1", "wbm-1-2"] and got.iloc[1] == structure
    cse = {"material_id": {"0": "mp-1", "1": "mp-2"},
           "entry": {"0": {"structure": structure, "energy": -1.0},
                     "1": {"structure": structure, "energy": -2.0}}}
    path = tmp_path / "cse.json.gz"
    with gzip.open(path, "wt") as fh:
        json.dump(cse, fh)
    got = read_mp_structures(path)
    assert list(got.index) == ["mp-1", "mp-2"] and got["mp-2"] == structure


# ---------------------------------------------------------------- the runner
def test_canonical_task_is_skipped_naming_its_files(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("urllib.request.urlopen", _offline)
    out = tmp_path / "run"
    assert main(["--task", "discovery_wbm", "--smoke", "--data-dir", str(shared_data),
                 "--out", str(out), "--no-progress"]) == 1  # its only task skipped
    entry = json.loads((out / "summary.json").read_text())["tasks"]["discovery_wbm"]
    assert entry["status"] == "skipped"
    for name, url in (("2023-12-13-wbm-summary.csv.gz", "https://figshare.com/files/64706751"),
                      ("2022-10-19-wbm-init-structs.jsonl.gz",
                       "https://figshare.com/files/53161835"),
                      ("2025-02-01-mp-energies.csv.gz", "https://figshare.com/files/52080797"),
                      ("2023-02-07-mp-computed-structure-entries.json.gz",
                       "https://figshare.com/files/40344436")):
        assert name in entry["reason"] and url in entry["reason"]
    board = (out / "leaderboard.md").read_text()
    assert "skipped" in board and "(paper" not in board  # a smoke run: no paper rows
    summary = json.loads((out / "summary.json").read_text())
    full = leaderboard_markdown({**summary, "run": {**summary["run"], "smoke": False}},
                                select("discovery_wbm"))
    assert "| CLOUD (paper) | 0.4740 |" in full and "skipped" in full


def test_smoke_run_writes_every_output(adapters, shared_data, tmp_path, monkeypatch):
    monkeypatch.setattr(discovery, "ADAPTERS", adapters)
    scope_cache = scope_cache_dir()  # keep the fixture's SCOPE encodings
    monkeypatch.setenv(ENV_SCOPE_CACHE, str(scope_cache) if scope_cache else "off")
    monkeypatch.setenv("CLOUD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("urllib.request.urlopen", _offline)
    assert [t.name for t in select("discovery")] == [
        "discovery_wbm", "discovery_mpts", "discovery_wbm10k"]
    out = tmp_path / "run"
    assert main(["--task", "discovery", "--smoke", "--models", "dummy,cloud", "--data-dir",
                 str(shared_data), "--out", str(out), "--no-progress", "--allow-skips"]) == 0
    tasks = json.loads((out / "summary.json").read_text())["tasks"]
    assert tasks["discovery_wbm"]["status"] == "skipped"
    for name in ("discovery_mpts", "discovery_wbm10k"):
        assert tasks[name]["status"] == "done" and "STAND-IN" in tasks[name]["source"]
        folder = out / "discovery" / name
        info = json.loads((folder / "data.json").read_text())
        assert info["counts"]["train_duplicates_merged"] == 547 and info["stand_in"]
        for model in ("dummy", "cloud"):
            record = json.loads((out / name / model / "fold_0.json").read_text())
            assert (record["n_train"], record["n_test"]) == (240, 80)
            path = folder / f"{model}-preds.csv"
            assert path.read_text().startswith("# STAND-IN")
            preds = pd.read_csv(path, comment="#")
            assert list(preds.columns) == ["material_id", "e_form_per_atom"]
            assert preds.set_index("material_id")["e_form_per_atom"].to_dict() == (
                pytest.approx(record["predictions"]))
    record = json.loads((out / "discovery_mpts" / "cloud" / "fold_0.json").read_text())
    assert record["n_val_rows"] == 12  # 5% of the 240 training rows
    assert {"mae", "full/F1", "uniq_proto/DAF", "most_stable_10k/F1", "full@-0.05/F1",
            "full@+0.05/TPR", "roc_auc"} <= set(record["metrics"])
    folder = out / "discovery" / "discovery_mpts"
    assert (folder / "cloud-roc.png").stat().st_size > 5000
    sweep = pd.read_csv(folder / "cloud-thresholds.csv", index_col="threshold")
    assert list(sweep.index) == [-0.05, 0.0, 0.05]
    assert sweep.loc[0.0, "F1"] == pytest.approx(record["metrics"]["full/F1"])
    # the model YAML: today's Matbench Discovery schema, stand-in labelled, nothing invented
    text = (folder / "cloud.yml").read_text()
    assert text.startswith("# STAND-IN")
    doc = yaml.safe_load(text)
    missing = set(doc["notes"]["missing_for_submission"])
    assert missing == {"authors[0].email", "checkpoint_url", "pr_url", "repo"}
    assert unfilled_fields(doc) == missing - {"authors[0].email"}  # the schema's only errors
    assert doc["architecture_types"] == ["transformer"] and doc["targets"] == "E"
    assert (doc["train_task"], doc["test_task"], doc["openness"]) == ("RP2RE", "IP2E", "OSOD")
    assert "stand-in" in doc["model_name"] and "STAND-IN" in doc["notes"]["stand_in"]
    assert doc["model_params"] == record["model_params"] > 0
    disc = doc["metrics"]["discovery"]
    pred = folder / doc["model_key"] / disc["pred_file"]["name"].rsplit("/", 1)[1]
    assert disc["pred_file"]["name"].endswith("-discovery.csv.gz")
    assert disc["pred_file"]["size"] == pred.stat().st_size
    gz = pd.read_csv(pred)
    assert list(gz.columns) == ["material_id", "e_form_per_atom"] and len(gz) == 80
    for subset, prefix in (("full_test_set", "full"), ("unique_prototypes", "uniq_proto"),
                           ("most_stable_10k", "most_stable_10k")):
        assert set(disc[subset]) == set(SCHEMA_METRICS)
        assert disc[subset]["TP"] == record["metrics"][f"{prefix}/TP"]
    assert doc["notes"]["wbm10k_stand_in"]["mae"] == pytest.approx(json.loads(
        (out / "discovery_wbm10k" / "cloud" / "fold_0.json").read_text())["metrics"]["mae"])
    board = (out / "leaderboard.md").read_text()
    paper_rows = ("| CLOUD (paper, Table S4) | WBM", "0.4740 | 2.04", "| 0.8100 |",
                  "| CLOUD (paper, Table S5) | WBM", "| -0.05 | 0.4670 | 2.90")
    for needle in ("stand-in: MP time split", "discovery_wbm10k (MAE)",
                   "| **cloud** (this run, SMOKE RUN: 240 train / 80 test rows, 2 epochs;"):
        assert needle in board, needle
    assert not [needle for needle in paper_rows if needle in board]  # smoke: no paper rows
    # the stand-in states its class balance and the ROC-AUCs, and reads them, from this run
    metrics = {m: json.loads((out / "discovery_mpts" / m / "fold_0.json").read_text())[
        "metrics"] for m in ("dummy", "cloud")}
    balance = (f"{100 * metrics['dummy']['full/prevalence']:.1f} % of the 80 test rows are "
               "stable")
    aucs = [f"dummy {metrics['dummy']['roc_auc']:.3f} (baseline",
            f"cloud {metrics['cloud']['roc_auc']:.3f}"]
    report = (folder / "report.md").read_text()
    assert report.startswith("# discovery_mpts: stability classification — STAND-IN")
    skill = json.loads((folder / "data.json").read_text())["skill"]
    assert skill["fraction_stable"] == pytest.approx(metrics["dummy"]["full/prevalence"])
    assert skill["roc_auc"]["dummy"] == pytest.approx(metrics["dummy"]["roc_auc"])
    assert skill["baselines"] == ["dummy"] and skill["best_baseline"] == "dummy"
    for text in (report, board):
        assert balance in text and all(a in text for a in aucs), text
        assert skill["verdict"] in text
    assert not (out / "discovery" / "discovery_wbm10k" / "report.md").exists()  # no hulls
    summary = json.loads((out / "summary.json").read_text())
    full = leaderboard_markdown({**summary, "run": {**summary["run"], "smoke": False}},
                                select("discovery"))
    for needle in paper_rows:
        assert needle in full, needle


def test_skill_words_follow_the_baselines_roc_auc():
    """Synthetic metrics: the words come from the numbers, near chance or not."""
    from benchmarks.reports.discovery_skill import chance_band, skill_lines, skill_summary

    def run(rf_auc, n=8096.0, p=0.509):
        metrics = {"full/prevalence": p, "full/n": n}
        return skill_summary({"composition_rf": ("composition_rf", {**metrics,
                                                                    "roc_auc": rf_auc}),
                              "cloud": ("cloud", {**metrics, "roc_auc": 0.9})})

    chance = run(0.497)
    assert chance["baseline_skill"] is False and chance["chance_band"] == 0.05
    lines = "\n".join(skill_lines(chance))
    assert "50.9 % of the 8096 test rows are stable" in lines
    assert "composition_rf 0.497 (baseline, at chance); cloud 0.900." in lines
    assert "ROC-AUC 0.497, within the chance band 0.5 ± 0.050" in lines
    assert "F1 and DAF show no skill" in lines and f"F1 {2 * 0.509 / 1.509:.3f}" in lines
    skilled = run(0.62)
    assert skilled["baseline_skill"] is True and "no skill" not in skilled["verdict"]
    assert "ROC-AUC 0.620, more than 0.050 above 0.5" in skilled["verdict"]
    # a small test set widens the band: 0.62 on 80 rows is still chance
    assert run(0.62, n=80.0)["baseline_skill"] is False
    assert chance_band(80, 0.5) == pytest.approx(2 * (81 / (12 * 40 * 40)) ** 0.5)
    assert run(float("nan"))["best_baseline"] is None
