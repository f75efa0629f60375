"""Matbench Discovery scoring of one set of formation-energy predictions.

The formulas are ``benchmarks.metrics`` (``stability_metrics``, ``threshold_sweep``,
``roc_auc``); this module only applies them the way Matbench Discovery's evaluation script
(``scripts/evals/discovery.py``) does:

- predicted hull distance = DFT hull distance + (predicted - DFT formation energy);
- stability labels at 0 eV/atom; NaN predictions count as unstable;
- subsets ``full_test_set``, ``unique_prototypes`` (test rows whose prototype is not among
  the training rows, first occurrence only) and ``most_stable_10k`` (the 10,000 unique-
  prototype rows with the lowest *predicted* hull distance, ``pandas.nsmallest``);
- DAF of the two subsets relative to the (unrounded) stable prevalence of the unique
  prototypes, not of the subset itself.

Unlike the leaderboard, nothing is rounded to 3 decimals before scoring.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from benchmarks.metrics import roc_auc, stability_metrics, threshold_sweep

STABILITY_THRESHOLD = 0.0
THRESHOLDS = (-0.05, 0.0, 0.05)  # prediction thresholds of the paper's Table S5
N_MOST_STABLE = 10_000
# short metric-key prefix -> Matbench Discovery's subset name (model YAML keys)
SUBSETS = {"full": "full_test_set", "uniq_proto": "unique_prototypes",
           "most_stable_10k": "most_stable_10k"}


def predicted_hull(e_hull_true, e_form_true, e_form_pred) -> np.ndarray:
    """Matbench Discovery's ``each_pred``: shift the DFT hull distance by the model's error."""
    return (np.asarray(e_hull_true, float)
            + np.asarray(e_form_pred, float) - np.asarray(e_form_true, float))


def unique_prototypes(test_keys, train_keys) -> np.ndarray:
    """True for test rows whose prototype key is not among ``train_keys`` and is the first
    test row with that key."""
    keys = pd.Series(list(test_keys), dtype=object)
    return (~keys.isin(set(train_keys)) & ~keys.duplicated(keep="first")).to_numpy()


def subset_masks(each_pred: np.ndarray, uniq: np.ndarray,
                 n_most_stable: int = N_MOST_STABLE) -> dict[str, np.ndarray]:
    top = pd.Series(each_pred[uniq], index=np.flatnonzero(uniq)).nsmallest(n_most_stable)
    stable10k = np.zeros(len(each_pred), bool)
    stable10k[top.index.to_numpy(int)] = True
    return {"full": np.ones(len(each_pred), bool), "uniq_proto": uniq.astype(bool),
            "most_stable_10k": stable10k}


def _prevalence(each_true: np.ndarray) -> float:
    labelled = each_true[~np.isnan(each_true)]
    return float(np.mean(labelled <= STABILITY_THRESHOLD)) if labelled.size else math.nan


def _auc(each_true, each_pred) -> float:
    try:
        return roc_auc(each_true, each_pred, STABILITY_THRESHOLD)
    except ValueError:  # a single class among the labelled rows
        return math.nan


def threshold_key(threshold: float) -> str:
    return "0" if threshold == 0 else f"{threshold:+g}"


def discovery_scores(e_hull_true, e_form_true, e_form_pred, uniq,
                     thresholds=THRESHOLDS, n_most_stable: int = N_MOST_STABLE
                     ) -> dict[str, float]:
    """Flat ``{"<subset>/<metric>": value}`` (metrics of ``stability_metrics`` plus ``n``,
    ``prevalence``, ``missing_preds``), ``"full@<thr>/<metric>"`` for the prediction
    thresholds (labels at 0), ``"roc_auc"`` and ``"uniq_proto/roc_auc"``."""
    each_true = np.asarray(e_hull_true, float)
    each_pred = predicted_hull(each_true, e_form_true, e_form_pred)
    uniq = np.asarray(uniq, bool)
    uniq_prevalence = _prevalence(each_true[uniq])
    out: dict[str, float] = {}
    for name, mask in subset_masks(each_pred, uniq, n_most_stable).items():
        scores = stability_metrics(each_true[mask], each_pred[mask], STABILITY_THRESHOLD)
        if name != "full":
            scores["DAF"] = (scores["Precision"] / uniq_prevalence if uniq_prevalence > 0
                             else math.nan)
        out.update({f"{name}/{k}": float(v) for k, v in scores.items()})
        out[f"{name}/n"] = float(mask.sum())
        out[f"{name}/prevalence"] = _prevalence(each_true[mask])
        out[f"{name}/missing_preds"] = float(np.isnan(each_pred[mask]).sum())
    sweep = threshold_sweep(each_true, each_pred, thresholds,
                            label_threshold=STABILITY_THRESHOLD)
    for thr, row in sweep.iterrows():
        out.update({f"full@{threshold_key(thr)}/{k}": float(v) for k, v in row.items()})
    out["roc_auc"] = _auc(each_true, each_pred)
    out["uniq_proto/roc_auc"] = _auc(each_true[uniq], each_pred[uniq])
    return out


def subset_metrics(metrics: dict[str, float], prefix: str) -> dict[str, float]:
    """The metrics of one subset (``"full"``, ``"uniq_proto"``, ``"full@0"``...) without
    the prefix."""
    return {k.split("/", 1)[1]: v for k, v in metrics.items() if k.split("/", 1)[0] == prefix
            and "/" in k}
