"""Every metric formula of the suite, in one place.

Regression (MatBench, UnconvBench, phonon Cv/U)
    ``regression_metrics`` gives the four scores MatBench writes per fold -- ``mae``, ``rmse``,
    ``mape``, ``max_error`` -- computed as ``matbench.data_ops`` (v0.6) does, plus ``r2``.
    MatBench's MAPE is a *fraction* (not percent) and skips targets with ``|y| <= 1e-5``.
    ``summarize_folds`` aggregates per-fold scores like ``MatbenchTask.scores``: ``np.mean``,
    ``np.max``, ``np.min`` and ``np.std`` -- the *population* std (ddof=0).
    ``mae_over_mad`` is the paper's Eq. 20 (Table 1): sum|y_pred - y| / sum|y - mean(y)| over the
    test points of a fold, i.e. test MAE over the MAD of the *test* targets about their own mean.

MatBench classification
    ``matbench_classification_metrics`` reproduces ``matbench.data_ops.score_array``: float
    predictions are probabilities turned into labels at ``> 0.5`` and -- a quirk of matbench 0.6
    -- ``rocauc`` is computed on those labels too, so it equals ``balanced_accuracy``.

Stability classification (Matbench Discovery)
    ``stability_metrics`` follows ``matbench_discovery.metrics.discovery.stable_metrics``: stable
    means ``e_above_hull <= threshold`` (the positive class), NaN predictions count as predicted
    *unstable* (``fillna``), NaN labels are left out of the counts, prevalence =
    N_stable_true / N_labelled, DAF = precision / prevalence (paper Eq. 19), Accuracy =
    (TP + TN) / N_labelled, and MAE/RMSE/R2 use the rows where label and prediction are both
    finite. Undefined ratios are NaN. (matbench-discovery 1.3.1, the last PyPI release, divided
    Accuracy by the number of finite pairs instead; the two agree when no prediction is NaN.)
    ``threshold_sweep`` keeps the labels at 0 and moves only the prediction threshold (Table S5).
    ``roc_curve_points`` / ``roc_auc``: stable is the positive class, the score is the negated
    predicted hull distance, rows with a NaN label or prediction are dropped (as matbench-discovery
    does for its ROC curves; its AUC with "unstable" as positive and the raw prediction as score
    is the same number).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

MAPE_THRESHOLD = 1e-5
CLF_THRESHOLD = 0.5
FOLD_STATS = ("mean", "std", "max", "min")
STABILITY_KEYS = (
    "F1", "DAF", "Precision", "Recall", "Accuracy", "TPR", "FPR", "TNR", "FNR",
    "TP", "FP", "TN", "FN", "MAE", "RMSE", "R2",
)  # fmt: skip


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_pred, dtype=float).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} values, y_pred {p.size}")
    if t.size == 0:
        raise ValueError("empty arrays")
    return t, p


def _div(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def r2(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Coefficient of determination, as ``sklearn.metrics.r2_score`` (force_finite=True).

    A constant ``y_true`` gives 1.0 for a perfect prediction, else 0.0; fewer than two points
    give NaN.
    """
    t, p = _pair(y_true, y_pred)
    if t.size < 2:
        return float("nan")
    ss_res = float(np.sum((t - p) ** 2))
    ss_tot = float(np.sum((t - np.mean(t)) ** 2))
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return 1.0 - ss_res / ss_tot


def mape(y_true: ArrayLike, y_pred: ArrayLike, threshold: float = MAPE_THRESHOLD) -> float:
    """MatBench's MAPE: mean |(y - y_pred) / y| over targets with ``|y| > threshold`` (a fraction).

    NaN when every target is within ``threshold`` of zero.
    """
    t, p = _pair(y_true, y_pred)
    keep = np.abs(t) > threshold
    if not keep.any():
        return float("nan")
    return float(np.mean(np.fabs((t[keep] - p[keep]) / t[keep])))


def regression_metrics(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """Scores of one fold: ``mae, rmse, mape, max_error`` (MatBench's four) and ``r2``."""
    t, p = _pair(y_true, y_pred)
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ValueError("regression metrics need finite targets and predictions")
    err = p - t
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean((t - p) ** 2))),
        "mape": mape(t, p),
        "max_error": float(np.max(np.abs(t - p))),
        "r2": r2(t, p),
    }


def mad(y: ArrayLike, center: float | None = None) -> float:
    """Mean absolute deviation of ``y`` about ``center`` (default: the mean of ``y``)."""
    arr = np.asarray(y, dtype=float).ravel()
    c = float(np.mean(arr)) if center is None else float(center)
    return float(np.mean(np.abs(arr - c)))


def mae_over_mad(y_true: ArrayLike, y_pred: ArrayLike, center: float | None = None) -> float:
    """Paper Eq. 20: ``sum|y_pred - y| / sum|y - y_bar|`` over one fold's test points.

    ``y_bar`` is the mean of the test targets unless ``center`` gives another (for instance the
    mean of the whole data set); the ratio is then MAE / MAD on the same points.
    """
    t, p = _pair(y_true, y_pred)
    return _div(np.mean(np.abs(p - t)), mad(t, center))


def summarize_folds(folds: Iterable[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """``{metric: {mean, std, max, min}}`` over folds, as ``MatbenchTask.scores`` (std: ddof=0).

    Only metrics present in every fold are summarised.
    """
    folds = list(folds)
    if not folds:
        raise ValueError("no folds to summarise")
    keys = [k for k in folds[0] if all(k in f for f in folds)]
    out: dict[str, dict[str, float]] = {}
    for key in keys:
        vals = np.asarray([f[key] for f in folds], dtype=float)
        out[key] = {
            "mean": float(np.mean(vals)),
            "std": float(np.std(vals)),
            "max": float(np.max(vals)),
            "min": float(np.min(vals)),
        }
    return out


def matbench_classification_metrics(
    y_true: Sequence[bool] | ArrayLike, y_pred: Sequence[bool | float] | ArrayLike
) -> dict[str, float]:
    """MatBench's per-fold classification scores: accuracy, balanced_accuracy, f1, rocauc.

    ``y_pred`` holds labels (bools) or probabilities (floats, labelled ``> 0.5``). As in
    matbench 0.6, ``rocauc`` is scored on the labels, so it equals ``balanced_accuracy``.
    """
    t = np.asarray(y_true).astype(bool).ravel()
    raw = np.asarray(y_pred)
    p = raw > CLF_THRESHOLD if raw.dtype.kind == "f" else raw.astype(bool)
    p = p.ravel()
    if t.shape != p.shape or t.size == 0:
        raise ValueError("y_true and y_pred must be non-empty and of the same length")
    tp = int(np.sum(t & p))
    tn = int(np.sum(~t & ~p))
    fp = int(np.sum(~t & p))
    fn = int(np.sum(t & ~p))
    if tp + fn == 0 or tn + fp == 0:
        raise ValueError("rocauc is undefined when y_true holds a single class")
    balanced = (tp / (tp + fn) + tn / (tn + fp)) / 2.0
    return {
        "accuracy": (tp + tn) / t.size,
        "balanced_accuracy": balanced,
        "f1": 2 * tp / (2 * tp + fp + fn),
        "rocauc": balanced,
    }


def _stability_counts(
    e_true: np.ndarray, e_pred: np.ndarray, label_threshold: float, pred_threshold: float,
    fillna: bool,
) -> dict[str, int]:  # fmt: skip
    for name, thr in (("label", label_threshold), ("prediction", pred_threshold)):
        if thr is None or np.isnan(thr):
            raise ValueError(f"{name} stability threshold must be a real number")
    actual_pos = e_true <= label_threshold
    actual_neg = e_true > label_threshold
    model_pos = e_pred <= pred_threshold
    model_neg = e_pred > pred_threshold
    if fillna:
        model_neg = model_neg | np.isnan(e_pred)
    return {
        "TP": int(np.sum(actual_pos & model_pos)),
        "FN": int(np.sum(actual_pos & model_neg)),
        "FP": int(np.sum(actual_neg & model_pos)),
        "TN": int(np.sum(actual_neg & model_neg)),
    }


def _stability_from_counts(c: Mapping[str, int]) -> dict[str, float]:
    tp, fn, fp, tn = c["TP"], c["FN"], c["FP"], c["TN"]
    n_pos, n_neg = tp + fn, tn + fp
    prevalence = _div(n_pos, n_pos + n_neg)
    precision = _div(tp, tp + fp)
    recall = _div(tp, n_pos)
    f1 = _div(2 * precision * recall, precision + recall) if precision + recall else float("nan")
    return {
        "F1": f1,
        "DAF": precision / prevalence if prevalence > 0 else float("nan"),
        "Precision": precision,
        "Recall": recall,
        "Accuracy": _div(tp + tn, n_pos + n_neg),
        "TPR": recall,
        "FPR": _div(fp, n_neg),
        "TNR": _div(tn, n_neg),
        "FNR": _div(fn, n_pos),
    }


def _regression_on_finite(e_true: np.ndarray, e_pred: np.ndarray) -> dict[str, float]:
    keep = ~(np.isnan(e_true) | np.isnan(e_pred))
    t, p = e_true[keep], e_pred[keep]
    if t.size == 0:
        return {"MAE": float("nan"), "RMSE": float("nan"), "R2": float("nan")}
    return {
        "MAE": float(np.mean(np.abs(t - p))),
        "RMSE": float(np.mean((t - p) ** 2) ** 0.5),
        "R2": r2(t, p),
    }


def _hull_arrays(e_true: ArrayLike, e_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    def as_float(x: ArrayLike) -> np.ndarray:
        try:
            return np.asarray(x, dtype=float).ravel()  # None -> NaN
        except (TypeError, ValueError):
            ser = pd.Series(np.asarray(x, dtype=object).ravel())
            return pd.to_numeric(ser, errors="coerce").to_numpy(dtype=float)

    t, p = as_float(e_true), as_float(e_pred)
    if t.shape != p.shape:
        raise ValueError(f"e_true has {t.size} values, e_pred {p.size}")
    return t, p


def stability_metrics(
    e_above_hull_true: ArrayLike,
    e_above_hull_pred: ArrayLike,
    stability_threshold: float = 0.0,
    *,
    fillna: bool = True,
) -> dict[str, Any]:
    """Matbench Discovery's ``stable_metrics``: F1, DAF, Precision, Recall, Accuracy, TPR, FPR,
    TNR, FNR, TP, FP, TN, FN (ints), MAE, RMSE, R2.

    ``stability_threshold`` (eV/atom) classifies both labels and predictions; ``None`` entries
    and NaN are missing values (see the module docstring for how they are treated).
    """
    t, p = _hull_arrays(e_above_hull_true, e_above_hull_pred)
    counts = _stability_counts(t, p, stability_threshold, stability_threshold, fillna)
    out: dict[str, Any] = {**_stability_from_counts(counts), **counts}
    out.update(_regression_on_finite(t, p))
    return {k: out[k] for k in STABILITY_KEYS}


def threshold_sweep(
    e_true: ArrayLike,
    e_pred: ArrayLike,
    thresholds: Sequence[float] = (-0.05, 0.0, 0.05),
    *,
    label_threshold: float = 0.0,
    fillna: bool = True,
) -> pd.DataFrame:
    """Classification metrics with the prediction threshold moved and labels fixed (Table S5).

    Rows are indexed by ``threshold``; columns are the classification keys of
    ``stability_metrics`` (regression metrics do not depend on the threshold and are left out).
    """
    t, p = _hull_arrays(e_true, e_pred)
    rows = []
    for thr in thresholds:
        counts = _stability_counts(t, p, label_threshold, float(thr), fillna)
        rows.append({**_stability_from_counts(counts), **counts})
    cols = [k for k in STABILITY_KEYS if k not in ("MAE", "RMSE", "R2")]
    df = pd.DataFrame(rows, columns=cols, index=pd.Index([float(x) for x in thresholds]))
    df.index.name = "threshold"
    return df


def roc_curve_points(
    e_true: ArrayLike, e_pred: ArrayLike, stability_threshold: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve of stability classification: ``(fpr, tpr, thresholds)``.

    A material is called stable when its predicted hull distance is ``<= thresholds[i]``;
    ``thresholds`` runs from ``-inf`` (nothing called stable) up through every distinct
    prediction. Equal to ``sklearn.metrics.roc_curve(e_true <= t, -e_pred,
    drop_intermediate=False)`` with the thresholds negated.
    """
    t, p = _hull_arrays(e_true, e_pred)
    keep = ~(np.isnan(t) | np.isnan(p))
    labels, preds = t[keep] <= stability_threshold, p[keep]
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC needs both stable and unstable labels")
    order = np.argsort(preds, kind="mergesort")
    preds, labels = preds[order], labels[order]
    last_of_run = np.r_[np.diff(preds) != 0, True]
    tps = np.cumsum(labels)[last_of_run]
    fps = np.cumsum(~labels)[last_of_run]
    fpr = np.r_[0.0, fps / n_neg]
    tpr = np.r_[0.0, tps / n_pos]
    return fpr, tpr, np.r_[-np.inf, preds[last_of_run]]


def roc_auc(e_true: ArrayLike, e_pred: ArrayLike, stability_threshold: float = 0.0) -> float:
    """Area under ``roc_curve_points`` (trapezoids; ties score half, as in sklearn)."""
    fpr, tpr, _ = roc_curve_points(e_true, e_pred, stability_threshold)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
