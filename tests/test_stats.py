"""Bootstrap intervals, paired comparisons, Holm and ties (benchmarks/stats.py).

The prediction sets here are synthetic on purpose (a known truth: two models that differ
only by noise, one that is clearly better); the targets are drawn, not real data.
"""

import numpy as np
import pytest
from scipy import stats as sps

from benchmarks import stats
from benchmarks.metrics import mae_over_mad, matbench_classification_metrics


def mae(t, p):
    return float(np.mean(np.abs(p - t)))


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(7)
    n = 600
    t = rng.normal(size=n)
    folds = np.arange(n) % 5
    noisy_a = t + rng.normal(scale=0.5, size=n)
    noisy_b = t + rng.normal(scale=0.5, size=n)
    return t, folds, noisy_a, noisy_b


def test_models_differing_only_by_noise_tie_and_a_better_one_does_not():
    """Over 30 draws, two models with the same error distribution are tied in about 95 % of
    them (the test's level); a model with half the error is never tied."""
    rng = np.random.default_rng(7)
    ties, better_ties = 0, 0
    for _ in range(30):
        t = rng.normal(size=200)
        folds = np.arange(200) % 5
        a, b = (t + rng.normal(scale=0.5, size=200) for _ in range(2))
        better = t + rng.normal(scale=0.25, size=200)
        same = stats.paired_comparison(t, a, b, folds, mae, n_resamples=400)
        clear = stats.paired_comparison(t, better, a, folds, mae, n_resamples=400)
        assert (same["ci95"][0] <= 0 <= same["ci95"][1]) == (same["p_value"] >= 0.05)
        p = stats.holm([same["p_value"], clear["p_value"]])
        ties += stats.tie_group("a", {"b": p[0]}) == ["a", "b"]
        better_ties += stats.tie_group("better", {"a": p[1]}) != ["better"]
        assert clear["delta"] < 0
    assert 25 <= ties <= 30 and better_ties == 0


@pytest.mark.parametrize("n_folds", [1, 4])
def test_paired_interval_agrees_with_scipy_bootstrap_of_row_differences(synthetic, n_folds):
    """MAE(a) - MAE(b) is the mean of per-row |e_a| - |e_b|; with folds of equal size the
    fold mean is that mean too, so scipy's plain bootstrap of the row differences must give
    the same interval up to Monte-Carlo error (and the small gain from stratifying)."""
    t, _, a, b = synthetic
    folds = np.arange(len(t)) % n_folds
    ours = stats.paired_comparison(t, a, b, folds, mae, n_resamples=4000, seed=1)
    diff = np.abs(a - t) - np.abs(b - t)
    ref = sps.bootstrap((diff,), np.mean, n_resamples=20000, method="percentile",
                        rng=np.random.default_rng(2))
    sd = ref.standard_error
    assert ours["delta"] == pytest.approx(diff.mean(), abs=1e-12)
    assert ours["ci95"][0] == pytest.approx(ref.confidence_interval.low, abs=0.2 * sd)
    assert ours["ci95"][1] == pytest.approx(ref.confidence_interval.high, abs=0.2 * sd)


def test_interval_covers_the_score_and_is_reproducible(synthetic):
    t, folds, a, _ = synthetic
    lo, hi = stats.fold_bootstrap_ci(t, a, folds, mae_over_mad, n_resamples=500, seed=3)
    score = stats.fold_mean_score(t, a, folds, mae_over_mad)
    assert lo < score < hi
    assert (lo, hi) == stats.fold_bootstrap_ci(t, a, folds, mae_over_mad, n_resamples=500,
                                               seed=3)
    assert (lo, hi) != stats.fold_bootstrap_ci(t, a, folds, mae_over_mad, n_resamples=500,
                                               seed=4)


def test_resampling_stays_within_folds():
    """A model perfect on fold 0 and off by 1 on fold 1 has fold-mean MAE 0.5 on every
    resample: resampling within folds keeps each fold's share, so the interval is a point."""
    t = np.zeros(40)
    p = np.r_[np.zeros(20), np.ones(20)]
    lo, hi = stats.fold_bootstrap_ci(t, p, np.r_[np.zeros(20), np.ones(20)], mae,
                                     n_resamples=200)
    assert lo == pytest.approx(0.5) and hi == pytest.approx(0.5)


def test_classification_metric_paired_and_mcnemar():
    rng = np.random.default_rng(11)
    y = rng.random(800) < 0.4
    good = np.where(rng.random(800) < 0.9, y, ~y)
    coin = rng.random(800) < 0.5

    def f1(t, p):
        return matbench_classification_metrics(t, p)["f1"]

    res = stats.paired_comparison(y, good, coin, np.zeros(800), f1, n_resamples=500)
    assert res["ci95"][0] > 0 and res["p_value"] < 0.01
    test = stats.mcnemar(y, good, coin)
    assert test["a_only"] > test["b_only"] and test["p_value"] < 1e-6
    assert stats.mcnemar(y, good, good) == {"a_only": 0, "b_only": 0, "p_value": 1.0}


def test_holm_matches_the_step_down_definition():
    p = [0.01, 0.04, 0.03, np.nan, 0.5]
    adjusted = stats.holm(p)
    assert adjusted[:3] == pytest.approx([0.04, 0.09, 0.09])
    assert np.isnan(adjusted[3]) and adjusted[4] == pytest.approx(0.5)
    assert stats.holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])


def test_tied_ranks_share_a_rank_and_skip_the_next():
    scores = {"a": 1.0, "b": 1.1, "c": 2.0, "d": 2.05, "e": float("nan")}
    tied = {("a", "b"), ("c", "d")}

    def compare(head, others):
        return {o: 0.5 if (head, o) in tied else 0.001 for o in others}

    assert stats.tied_ranks(scores, True, compare) == {"a": 1, "b": 1, "c": 3, "d": 3, "e": 5}
    assert stats.bootstrap_p_value(np.r_[np.ones(99), -1.0]) == pytest.approx(2 * 2 / 101)
