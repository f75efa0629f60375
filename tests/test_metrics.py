"""benchmarks.metrics against sklearn, hand-computed cases, the paper's Table S5, and
matbench-discovery's own ``stable_metrics`` (installed from PyPI into a cache, run in a
subprocess)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from benchmarks.metrics import (
    STABILITY_KEYS,
    mad,
    mae_over_mad,
    matbench_classification_metrics,
    regression_metrics,
    roc_auc,
    roc_curve_points,
    stability_metrics,
    summarize_folds,
    threshold_sweep,
)
from benchmarks.reference import paper_table
from tests.conftest import pip_target

MBD_REQUIREMENTS = ["matbench-discovery==1.3.1", "pymatviz==0.13.2"]


# ------------------------------------------------------------------ regression
def test_regression_metrics_hand_case() -> None:
    y, p = [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 5.0]
    m = regression_metrics(y, p)
    assert m["mae"] == pytest.approx(0.625)
    assert m["rmse"] == pytest.approx(0.75)
    assert m["max_error"] == pytest.approx(1.0)
    assert m["mape"] == pytest.approx((0.5 + 1 / 3 + 1 / 4) / 4)
    assert m["r2"] == pytest.approx(1 - 2.25 / 5)
    assert mad(y) == pytest.approx(1.0)
    assert mae_over_mad(y, p) == pytest.approx(0.625)
    assert mae_over_mad(y, p, center=0.0) == pytest.approx(0.625 / 2.5)


def test_mape_skips_zero_targets_like_matbench() -> None:
    assert regression_metrics([0.0, 2.0], [1.0, 1.0])["mape"] == pytest.approx(0.5)
    assert math.isnan(regression_metrics([0.0, 1e-6], [1.0, 1.0])["mape"])  # all masked


@pytest.mark.parametrize("seed", range(5))
def test_regression_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.normal(3.0, 2.0, size=200) + np.sign(rng.normal(size=200)) * 0.5
    p = y + rng.normal(0, 0.7, size=200)
    m = regression_metrics(y, p)
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y, p), rel=1e-13)
    assert m["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, p)), rel=1e-13)
    assert m["max_error"] == pytest.approx(skm.max_error(y, p), rel=1e-13)
    assert m["r2"] == pytest.approx(skm.r2_score(y, p), rel=1e-12)
    assert m["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y, p), rel=1e-12)
    # Eq. 20 is MAE over the MAD of the same (test) targets
    mad_ = np.mean(np.abs(y - y.mean()))
    assert mae_over_mad(y, p) == pytest.approx(np.sum(np.abs(p - y)) / np.sum(np.abs(y - y.mean())))
    assert mae_over_mad(y, p) == pytest.approx(skm.mean_absolute_error(y, p) / mad_)


def test_r2_edge_cases_match_sklearn() -> None:
    assert regression_metrics([2.0, 2.0], [2.0, 2.0])["r2"] == skm.r2_score([2.0, 2.0], [2, 2])
    assert regression_metrics([2.0, 2.0], [1.0, 2.0])["r2"] == skm.r2_score([2.0, 2.0], [1, 2])


def test_summarize_folds_uses_population_std() -> None:
    s = summarize_folds([{"mae": v, "r2": -v} for v in (1.0, 2.0, 3.0, 4.0, 5.0)])
    assert s["mae"] == {"mean": 3.0, "std": pytest.approx(math.sqrt(2)), "max": 5.0, "min": 1.0}
    assert s["r2"]["min"] == -5.0


def test_matbench_classification_metrics() -> None:
    rng = np.random.default_rng(3)
    y = rng.random(300) < 0.4
    prob = np.clip(y * 0.3 + rng.random(300) * 0.7, 0, 1)
    m = matbench_classification_metrics(y.tolist(), prob.tolist())
    lab = prob > 0.5
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, lab))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, lab))
    assert m["f1"] == pytest.approx(skm.f1_score(y, lab))
    assert m["rocauc"] == pytest.approx(skm.roc_auc_score(y, lab))  # labels, as matbench 0.6
    assert matbench_classification_metrics(y, lab) == m


# ------------------------------------------------------------------ stability
def test_stability_metrics_hand_case() -> None:
    e_true = [-0.1, -0.05, 0.0, 0.02, 0.1, 0.3]
    e_pred = [-0.2, 0.05, 0.0, -0.01, 0.2, float("nan")]
    m = stability_metrics(e_true, e_pred)
    assert list(m) == list(STABILITY_KEYS)
    assert (m["TP"], m["FN"], m["FP"], m["TN"]) == (2, 1, 1, 2)  # NaN prediction -> unstable
    assert m["Precision"] == pytest.approx(2 / 3) and m["Recall"] == pytest.approx(2 / 3)
    assert m["F1"] == pytest.approx(2 / 3)
    assert m["DAF"] == pytest.approx((2 / 3) / 0.5)  # precision / (N_stable / N)
    assert m["Accuracy"] == pytest.approx(4 / 6)
    assert (m["FPR"], m["TNR"], m["FNR"]) == pytest.approx((1 / 3, 2 / 3, 1 / 3))
    t, p = np.array(e_true[:5]), np.array(e_pred[:5])  # regression on the finite pairs
    assert m["MAE"] == pytest.approx(np.mean(np.abs(t - p)))
    assert m["RMSE"] == pytest.approx(np.sqrt(np.mean((t - p) ** 2)))
    assert m["R2"] == pytest.approx(skm.r2_score(t, p))
    unfilled = stability_metrics(e_true, e_pred, fillna=False)
    assert unfilled["TN"] == 1 and unfilled["Accuracy"] == pytest.approx(3 / 5)
    assert math.isnan(stability_metrics([0.1, 0.2], [0.3, 0.4])["Precision"])


@pytest.mark.parametrize("threshold", [0.0, 0.05, -0.02])
def test_stability_metrics_match_sklearn(threshold: float) -> None:
    rng = np.random.default_rng(7)
    e_true = np.round(rng.normal(0.1, 0.12, 2000), 2)  # ties at the threshold
    e_pred = np.round(e_true + rng.normal(0, 0.08, 2000), 2)
    m = stability_metrics(e_true, e_pred, stability_threshold=threshold)
    lab, pred = e_true <= threshold, e_pred <= threshold
    tn, fp, fn, tp = skm.confusion_matrix(lab, pred).ravel()
    assert (m["TP"], m["FP"], m["TN"], m["FN"]) == (tp, fp, tn, fn)
    assert m["F1"] == pytest.approx(skm.f1_score(lab, pred))
    assert m["Precision"] == pytest.approx(skm.precision_score(lab, pred))
    assert m["Recall"] == pytest.approx(skm.recall_score(lab, pred))
    assert m["Accuracy"] == pytest.approx(skm.accuracy_score(lab, pred))
    assert m["DAF"] == pytest.approx(skm.precision_score(lab, pred) / lab.mean())
    assert m["R2"] == pytest.approx(skm.r2_score(e_true, e_pred))
    sweep = threshold_sweep(e_true, e_pred, thresholds=[threshold], label_threshold=threshold)
    assert sweep.loc[threshold, "F1"] == pytest.approx(m["F1"])


def test_roc_matches_sklearn() -> None:
    rng = np.random.default_rng(11)
    e_true = rng.normal(0.08, 0.1, 1500)
    e_pred = np.round(e_true + rng.normal(0, 0.1, 1500), 3)
    e_pred[:20] = np.nan  # dropped from the ROC
    keep = ~np.isnan(e_pred)
    lab, score = e_true[keep] <= 0, -e_pred[keep]
    fpr, tpr, thr = roc_curve_points(e_true, e_pred)
    sk_fpr, sk_tpr, sk_thr = skm.roc_curve(lab, score, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_allclose(thr[1:], -sk_thr[1:])
    assert thr[0] == -np.inf
    assert roc_auc(e_true, e_pred) == pytest.approx(skm.roc_auc_score(lab, score), rel=1e-12)
    # matbench-discovery's convention (unstable positive, raw prediction) gives the same AUC
    assert roc_auc(e_true, e_pred) == pytest.approx(skm.roc_auc_score(~lab, e_pred[keep]))


def test_threshold_sweep_reproduces_table_s5() -> None:
    """Labels fixed at 0, prediction threshold moved: rebuild data with Table S5's TPR/TNR and
    the prevalence Precision/DAF implies, and get back its F1, DAF, Precision and Accuracy."""
    s5 = paper_table("S5")
    prevalence = float((s5["Precision"] / s5["DAF"]).mean())
    n_pos = 100_000
    n_neg = round(n_pos * (1 - prevalence) / prevalence)
    tpr = [0.0, *s5["TPR"], 1.0]
    fpr = [0.0, *(1 - s5["TNR"]), 1.0]
    levels = [-0.1, -0.02, 0.03, 0.1]  # predictions between the thresholds -0.05 < 0 < 0.05

    def block(rates: list[float], n: int) -> np.ndarray:
        counts = np.diff(np.round(np.asarray(rates) * n)).astype(int)
        return np.repeat(levels, counts)

    e_pred = np.r_[block(tpr, n_pos), block(fpr, n_neg)]
    e_true = np.r_[np.full(n_pos, -0.01), np.full(n_neg, 0.1)]
    got = threshold_sweep(e_true, e_pred, thresholds=list(s5.index))
    for col in ("F1", "Precision", "Accuracy", "TPR", "TNR"):
        np.testing.assert_allclose(got[col], s5[col], atol=2e-3, err_msg=col)
    # DAF = Precision / prevalence amplifies the 3-decimal rounding of TPR/TNR
    np.testing.assert_allclose(got["DAF"], s5["DAF"], rtol=3e-3)


# ------------------------------------------------------------------ matbench-discovery itself
MBD_SCRIPT = r"""
import ast, importlib.util, json, sys, types
import numpy as np, pandas as pd
target = sys.argv[1]
try:
    from matbench_discovery.metrics import stable_metrics
    how = "import matbench_discovery.metrics"
except Exception as exc:  # plotting deps of the package __init__ missing: load metrics.py alone
    init = open(f"{target}/matbench_discovery/__init__.py").read()
    thr = next(ast.literal_eval(n.value) for n in ast.walk(ast.parse(init))
               if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") ==
               "STABILITY_THRESHOLD")
    pkg = types.ModuleType("matbench_discovery")
    pkg.STABILITY_THRESHOLD, pkg.__path__ = thr, []
    sys.modules["matbench_discovery"] = pkg
    spec = importlib.util.spec_from_file_location(
        "matbench_discovery.metrics", f"{target}/matbench_discovery/metrics.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    stable_metrics = mod.stable_metrics
    how = f"metrics.py loaded alone ({type(exc).__name__}: {exc})"
cases = json.load(open(sys.argv[2]))
out = []
for c in cases:
    t = pd.Series(np.array(c["true"], dtype=float))
    p = pd.Series(np.array(c["pred"], dtype=float))
    m = stable_metrics(t, p, stability_threshold=c["threshold"])
    out.append({k: float(v) for k, v in m.items()})
print(json.dumps({"how": how, "results": out}))
"""


def _cases() -> list[dict]:
    rng = np.random.default_rng(2024)
    cases = []
    for k, thr in enumerate((0.0, 0.0, 0.05, -0.03, 0.1)):
        t = np.round(rng.normal(0.08, 0.15, 3000), 3)
        p = np.round(t + rng.normal(0.0, 0.1 + 0.02 * k, 3000), 3)
        cases.append({"true": t, "pred": p, "threshold": thr, "nan": False})
    t = rng.normal(0.05, 0.1, 2000)
    p = t + rng.normal(0, 0.1, 2000)
    p[rng.random(2000) < 0.05] = np.nan  # missing predictions
    cases.append({"true": t, "pred": p, "threshold": 0.0, "nan": True})
    return cases


def test_stability_metrics_match_matbench_discovery(tmp_path: Path) -> None:
    target = pip_target("matbench-discovery-1.3.1", MBD_REQUIREMENTS)
    cases = _cases()
    path = tmp_path / "cases.json"
    doc = [{"true": c["true"].tolist(), "pred": [None if np.isnan(x) else x for x in c["pred"]],
            "threshold": c["threshold"]} for c in cases]  # fmt: skip
    path.write_text(json.dumps(doc))
    env = {**os.environ, "PYTHONPATH": str(target), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", MBD_SCRIPT, str(target), str(path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    print("matbench-discovery 1.3.1 via:", res["how"])
    for case, theirs in zip(cases, res["results"], strict=True):
        ours = stability_metrics(case["true"], case["pred"], case["threshold"])
        assert set(theirs) == set(ours)
        for key in STABILITY_KEYS:
            if key == "Accuracy" and case["nan"]:
                continue  # 1.3.1 divides by the finite pairs; see below
            assert ours[key] == pytest.approx(theirs[key], rel=1e-12, abs=1e-15), key
        if case["nan"]:
            n_ok = int(np.sum(~np.isnan(case["pred"])))
            hits = ours["TP"] + ours["TN"]
            assert theirs["Accuracy"] == pytest.approx(hits / n_ok)
            assert ours["Accuracy"] == pytest.approx(hits / len(case["pred"]))
