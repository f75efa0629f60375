"""The t-tests and t intervals of the attention analysis, and when their p-values are reported.

The attention tests (:mod:`cloud.analysis.attention`) are one-sample t-tests on per-sequence
values that are far from normal: p1's are 0/1 hits, p2's take k + 1 values in [0, 1]. Their
null distribution is t only through the central limit theorem, whose usual condition for a
0/1 variable (the binomial's normal approximation) is n * min(p, 1 - p) >= 5. n = 30 meets
it for null proportions from 1/6 to 5/6, which covers the 0.5 null and the base rates seen
(~0.64 on log_gvrh). With fewer sequences a p-value would claim a precision it does not
have, so none is reported and the report says "n too small (n = k < 30)" instead.
"""

from __future__ import annotations

import math

import numpy as np

MIN_N_FOR_P = 30


def p_values_withheld(n: int) -> str | None:
    """Why no p-value is reported for ``n`` sequences (``None``: ``n`` is large enough)."""
    return f"n too small (n = {n} < {MIN_N_FOR_P})" if n < MIN_N_FOR_P else None


def ttest(values: np.ndarray, popmean: float) -> tuple[float, float]:
    """Two-sided one-sample t-test ``(t, p)``; constant samples give ``(+-inf, 0)`` if they
    differ from ``popmean`` (a deterministic difference) and ``(nan, nan)`` otherwise."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return math.nan, math.nan
    if np.all(x == x[0]):
        diff = float(x[0] - popmean)
        return (math.copysign(math.inf, diff), 0.0) if diff != 0 else (math.nan, math.nan)
    from scipy import stats  # here: importing the threshold alone loads no scipy

    res = stats.ttest_1samp(x, popmean)
    return float(res.statistic), float(res.pvalue)


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """t-based confidence interval of the mean: ``mean +- t_{n-1} * sd / sqrt(n)``."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return math.nan, math.nan
    from scipy import stats

    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)
