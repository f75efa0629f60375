"""exp, expm1, log and Gauss-Legendre nodes that give the same float64 bits on every processor.

Every library the suite loads picks its transcendental kernels by processor: numpy (its own
SIMD exp/log, ``NPY_DISABLE_CPU_FEATURES``), torch (Sleef by ``ATEN_CPU_CAPABILITY``, MKL's
VML by ``MKL_CBWR``), glibc's libm (``ifunc`` FMA variants) and LAPACK behind
``numpy.polynomial.legendre.leggauss`` (OpenBLAS's kernel by ``OPENBLAS_CORETYPE``). Each
is accurate to about an ulp, but which ulp differs, and a random forest fitted to those bits
breaks its ties between equally good splits differently. The functions here use only
operations IEEE 754 rounds exactly — ``+ - * /``, ``rint``, ``ldexp``, ``frexp``, one numpy
ufunc at a time (no fused multiply-add) — in a fixed order, so their bits depend on the
inputs alone. The Gauss-Legendre nodes come from Newton's method in 40-digit software
arithmetic (mpmath), rounded once to float64.

Accuracy: a few ulp (relative error below 1e-15 on the domains used: |x| <= 700 for exp and
expm1, positive finite x for log); tests/test_debye_exact.py checks it against numpy.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

# ln 2 split as in fdlibm: LN2_HI has 32 significant bits, so k * LN2_HI is exact for |k| < 2^20
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e00
SQRT_HALF = 0.70710678118654752440
EXP_LIMIT = 700.0  # |x| above this over- or underflows float64 (exp(709.8) is the largest)
# e^r - 1 = r (1 + r/2! + ... + r^12/13!) on |r| <= ln2 / 2: the next term is < 2e-17 relative
_EXPM1_COEFFS = tuple(1.0 / math.factorial(n) for n in range(13, 0, -1))
# log m = 2 atanh(s) = 2 s (1 + s^2/3 + ... + s^22/23), s = (m-1)/(m+1), |s| <= 0.172
_ATANH_COEFFS = tuple(1.0 / (2 * n + 1) for n in range(11, -1, -1))


def _reduce(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x = k ln2 + r with integer k and |r| <= ln2/2: (k as int, r, e^r - 1)."""
    finite = np.isfinite(x)
    if np.any(np.abs(x[finite]) > EXP_LIMIT):
        raise ValueError(f"exp/expm1 here take |x| <= {EXP_LIMIT:g}")
    k = np.rint(np.where(finite, x, 0.0) * INV_LN2)
    r = (x - k * LN2_HI) - k * LN2_LO
    p = np.full_like(r, _EXPM1_COEFFS[0])
    for c in _EXPM1_COEFFS[1:]:
        p = p * r + c
    return k.astype(np.int32), r, p * r


def exp(x) -> np.ndarray:
    """e^x, float64, the same bits on every processor (NaN stays NaN)."""
    k, _, em1 = _reduce(np.asarray(x, dtype=np.float64))
    return np.ldexp(em1 + 1.0, k)


def expm1(x) -> np.ndarray:
    """e^x - 1, float64, accurate near 0, the same bits on every processor."""
    k, _, em1 = _reduce(np.asarray(x, dtype=np.float64))
    # 2^k (e^r - 1) + (2^k - 1): both parts exact but the sum, so one rounding
    return np.ldexp(em1, k) + (np.ldexp(1.0, k) - 1.0)


def log(x) -> np.ndarray:
    """Natural log, float64, for x > 0 (NaN for x <= 0 or NaN), the same bits everywhere."""
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x) & (x > 0)
    m, e = np.frexp(np.where(ok, x, 1.0))  # x = m 2^e, m in [0.5, 1)
    low = m < SQRT_HALF
    m = np.where(low, m * 2.0, m)  # m in [sqrt(1/2), sqrt(2)): exact
    e = np.where(low, e - 1, e).astype(np.float64)
    f = m - 1.0  # exact (Sterbenz)
    s = f / (2.0 + f)
    s2 = s * s
    p = np.full_like(s, _ATANH_COEFFS[0])
    for c in _ATANH_COEFFS[1:]:
        p = p * s2 + c
    out = e * LN2_HI + (e * LN2_LO + 2.0 * s * p)
    return np.where(ok, out, np.nan)


def fixed_order_sum(terms: np.ndarray) -> np.ndarray:
    """Sum over the last axis, left to right, one ``+`` per term (no SIMD re-association)."""
    terms = np.asarray(terms, dtype=np.float64)
    acc = terms[..., 0].copy()
    for j in range(1, terms.shape[-1]):
        acc = acc + terms[..., j]
    return acc


@lru_cache(maxsize=8)
def gauss_legendre_unit(n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1] (float64, read-only), from Newton's
    method on P_n in 40-digit arithmetic and rounded once: the same bits everywhere."""
    import mpmath

    ctx = mpmath.mp.clone()
    ctx.dps = 40
    nodes, weights = [], []
    for i in range(1, n_points + 1):
        x = ctx.cos(ctx.pi * (i - ctx.mpf(1) / 4) / (n_points + ctx.mpf(1) / 2))
        for _ in range(100):
            p, dp = _legendre(ctx, n_points, x)
            step = p / dp
            x -= step
            if abs(step) < ctx.mpf(10) ** -38:
                break
        _, dp = _legendre(ctx, n_points, x)
        nodes.append((1 - x) / 2)  # ascending in [0, 1]
        weights.append(1 / ((1 - x * x) * dp * dp))  # 2 / ((1 - x^2) P'^2), halved for [0, 1]
    s = np.array([float(v) for v in nodes])
    w = np.array([float(v) for v in weights])
    s.flags.writeable = w.flags.writeable = False
    return s, w


def _legendre(ctx, n: int, x):
    """P_n(x) and P_n'(x) by the three-term recurrence."""
    p0, p1 = ctx.mpf(1), x
    for k in range(2, n + 1):
        p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
    return p1, n * (x * p1 - p0) / (x * x - 1)


__all__ = ["exp", "expm1", "fixed_order_sum", "gauss_legendre_unit", "log"]
