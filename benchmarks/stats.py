"""Uncertainty of benchmark scores: bootstrap intervals, paired comparisons, Holm, ties.

Pure functions: arrays in, numbers out, no I/O. The metric formulas are those of
``benchmarks.metrics``; a ``metric`` here is any ``f(y_true, y_pred) -> float`` over one
fold's test rows.

Intervals (``fold_bootstrap_ci``)
    A task's score is the mean over folds of the metric of each fold (MatBench's convention);
    MatBench's folds are disjoint test sets, so the bootstrap resamples test rows *within each
    fold* (a stratified bootstrap), scores every fold of the resample and averages. This is
    ``scipy.stats.bootstrap`` with one sample per fold (each holding the fold's row indices):
    scipy resamples independent samples independently, which is exactly resampling within
    folds. Percentile intervals (``method="percentile"``): BCa's jackknife would cost one
    metric evaluation per test row, and on tens of rows per fold its correction is itself
    noisy.

Paired comparisons (``paired_comparison``)
    Both models are scored on the *same* resampled rows (paired bootstrap), so what the
    interval measures is the difference, not two independent spreads. ``delta`` is
    ``score(a) - score(b)`` on the original rows; the two-sided p-value is the one that inverts
    the percentile interval: twice the smaller bootstrap tail beyond zero, ``(count + 1) /
    (B + 1)`` so that it is never zero; ``p < 1 - confidence`` exactly when the interval
    excludes zero.

McNemar (``mcnemar``)
    For a classification at a fixed threshold (stable / unstable at 0 eV/atom): the exact
    binomial test on the discordant rows (``scipy.stats.binomtest``), the test matched pairs
    call for.

Holm (``holm``) and ties (``tie_group``, ``tied_ranks``)
    Holm's step-down adjustment (statsmodels' ``multipletests(method="holm")`` computes the
    same; it is a dozen lines of numpy here rather than a new dependency). A model is tied
    with the best when its Holm-adjusted p-value against the best is at least ``alpha``.
    Ranks with ties: the best model and every model tied with it share rank 1; the best of the
    others heads the next group with the models tied with *it*, and so on; a group's rank is
    one plus the number of models in the groups above (competition ranking).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

N_RESAMPLES = 2000
SEED = 0
CONFIDENCE = 0.95
ALPHA = 0.05
METHOD = "percentile"

Metric = Callable[[np.ndarray, np.ndarray], float]


def _fold_rows(folds: ArrayLike, n: int) -> list[np.ndarray]:
    """Row indices of each fold, folds in sorted order of their labels."""
    labels = np.asarray(folds).ravel()
    if labels.size != n:
        raise ValueError(f"{labels.size} fold labels for {n} rows")
    if n == 0:
        raise ValueError("no rows")
    return [np.flatnonzero(labels == k) for k in np.unique(labels)]


def _as_arrays(y_true: ArrayLike, *preds: ArrayLike) -> tuple[np.ndarray, ...]:
    t = np.asarray(y_true)
    out = [np.asarray(p) for p in preds]
    for p in out:
        if p.shape != t.shape:
            raise ValueError(f"y_true has shape {t.shape}, predictions {p.shape}")
    return (t, *out)


def fold_mean_score(y_true: ArrayLike, y_pred: ArrayLike, folds: ArrayLike,
                    metric: Metric) -> float:
    """The metric of each fold, averaged over folds (the score the intervals are about)."""
    t, p = _as_arrays(y_true, y_pred)
    return float(np.mean([metric(t[r], p[r]) for r in _fold_rows(folds, len(t))]))


def _stratified_bootstrap(statistic: Callable[[Sequence[np.ndarray]], float],
                          rows: list[np.ndarray], n_resamples: int, seed: int,
                          confidence: float):
    """``scipy.stats.bootstrap`` over the folds' row indices (one sample per fold).

    ``statistic`` receives one index array per fold (one resample) and returns a number.
    """

    def batched(*idx, axis=-1):
        idx = [np.asarray(i) for i in idx]
        if idx[0].ndim == 1:
            return statistic(idx)
        return np.array([statistic([i[b] for i in idx]) for b in range(idx[0].shape[0])])

    return sps.bootstrap(rows, batched, n_resamples=n_resamples, vectorized=True,
                         paired=False, confidence_level=confidence, method=METHOD,
                         rng=np.random.default_rng(seed))


def fold_bootstrap_ci(y_true: ArrayLike, y_pred: ArrayLike, folds: ArrayLike, metric: Metric,
                      n_resamples: int = N_RESAMPLES, seed: int = SEED,
                      confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile interval of the fold-mean metric, test rows resampled within each fold."""
    t, p = _as_arrays(y_true, y_pred)
    rows = _fold_rows(folds, len(t))

    def score(idx: Sequence[np.ndarray]) -> float:
        return float(np.mean([metric(t[i], p[i]) for i in idx]))

    ci = _stratified_bootstrap(score, rows, n_resamples, seed, confidence).confidence_interval
    return float(ci.low), float(ci.high)


def bootstrap_p_value(distribution: ArrayLike) -> float:
    """Two-sided p-value of "no difference" from a bootstrap distribution of a difference:
    twice the smaller share of resamples on either side of zero (zero counts on both), with
    the ``+1`` correction, capped at 1."""
    d = np.asarray(distribution, dtype=float).ravel()
    d = d[np.isfinite(d)]
    if d.size == 0:
        return float("nan")
    below = (np.sum(d <= 0) + 1) / (d.size + 1)
    above = (np.sum(d >= 0) + 1) / (d.size + 1)
    return float(min(1.0, 2 * min(below, above)))


def paired_comparison(y_true: ArrayLike, pred_a: ArrayLike, pred_b: ArrayLike,
                      folds: ArrayLike, metric: Metric, n_resamples: int = N_RESAMPLES,
                      seed: int = SEED, confidence: float = CONFIDENCE) -> dict:
    """``score(a) - score(b)`` (fold means) on the same rows: ``{"delta", "ci95": [lo, hi],
    "p_value", "n_resamples", "seed"}``, resampling rows within folds, both models on the
    same resample."""
    t, a, b = _as_arrays(y_true, pred_a, pred_b)
    rows = _fold_rows(folds, len(t))

    def diff(idx: Sequence[np.ndarray]) -> float:
        return float(np.mean([metric(t[i], a[i]) - metric(t[i], b[i]) for i in idx]))

    res = _stratified_bootstrap(diff, rows, n_resamples, seed, confidence)
    return {"delta": diff(rows), "ci95": [float(res.confidence_interval.low),
                                          float(res.confidence_interval.high)],
            "p_value": bootstrap_p_value(res.bootstrap_distribution),
            "n_resamples": int(n_resamples), "seed": int(seed)}


def mcnemar(labels: ArrayLike, pred_a: ArrayLike, pred_b: ArrayLike) -> dict:
    """Exact McNemar test of two classifiers on the same rows (boolean labels and predicted
    labels): ``{"a_only", "b_only", "p_value"}``, the rows only ``a`` (only ``b``) gets
    right and the two-sided binomial p-value of the discordant rows."""
    t, a, b = (np.asarray(x, dtype=bool).ravel() for x in (labels, pred_a, pred_b))
    if not t.shape == a.shape == b.shape:
        raise ValueError("labels and both predictions must have the same length")
    ok_a, ok_b = a == t, b == t
    a_only, b_only = int(np.sum(ok_a & ~ok_b)), int(np.sum(~ok_a & ok_b))
    n = a_only + b_only
    p = 1.0 if n == 0 else float(sps.binomtest(a_only, n, 0.5).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p_value": p}


def holm(pvalues: ArrayLike) -> np.ndarray:
    """Holm-adjusted p-values, in the input order (NaN stays NaN and is not counted)."""
    p = np.asarray(pvalues, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="mergesort")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def tie_group(best: str, p_holm: Mapping[str, float], alpha: float = ALPHA) -> list[str]:
    """``best`` and every model whose Holm-adjusted p-value against it is ``>= alpha``
    (a NaN p-value, a comparison that could not be made, is not a tie)."""
    return [best, *(name for name, p in p_holm.items()
                    if name != best and np.isfinite(p) and p >= alpha)]


def tied_ranks(scores: Mapping[str, float], lower_is_better: bool,
               compare: Callable[[str, list[str]], Mapping[str, float]],
               alpha: float = ALPHA) -> dict[str, int]:
    """Competition ranks with tie groups. ``compare(head, others)`` gives the Holm-adjusted
    p-value of each of ``others`` against ``head`` (the best remaining model); models with a
    non-finite score come last, tied."""
    finite = {n: s for n, s in scores.items() if np.isfinite(s)}
    order = sorted(finite, key=lambda n: finite[n] if lower_is_better else -finite[n])
    ranks: dict[str, int] = {}
    while order:
        head, rest = order[0], order[1:]
        group = tie_group(head, compare(head, rest) if rest else {}, alpha)
        rank = len(ranks) + 1
        ranks.update(dict.fromkeys(group, rank))
        order = [n for n in order if n not in ranks]
    rank = len(ranks) + 1
    ranks.update({n: rank for n in scores if n not in ranks})
    return ranks
