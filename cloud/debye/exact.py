"""The Debye model and its inverse in float64 numpy with the same bits on every processor.

What a baseline compares exactly goes through here: the Θ each training label implies
(which ``debye_rf`` fits as log Θ, breaking ties between equal splits by its bits) and Cv or
U from a predicted Θ. The formulas, Gauss-Legendre rule and bisection are those of
:mod:`cloud.debye.physics` and :mod:`cloud.debye.inverse` (same stable kernels, same
truncation at X_MAX, 48 nodes, 64 halvings of the log-Θ bracket), evaluated with
:mod:`cloud.debye.fixedmath` (exp/expm1 from exactly rounded operations, nodes from
software arithmetic) and summed node by node in a fixed order. Torch's path dispatches
exp/sinh/expm1 and the quadrature sum by processor (Sleef width, MKL's VML); it stays the
fast, differentiable one CLOUD-DEBYE trains with. The two agree to ~1e-14 relative.
"""

from __future__ import annotations

import numpy as np

from cloud.debye.fixedmath import exp, expm1, fixed_order_sum, gauss_legendre_unit, log
from cloud.debye.physics import DEFAULT_N_POINTS, R_GAS, X_MAX

THETA_MIN, THETA_MAX = 1.0, 1.0e5  # K, the bracket searched (as cloud.debye.inverse)
BISECTION_STEPS = 64  # halvings of the log-Θ bracket (1e5 ** 2 ** -64: exact in float64)
_SMALL = 1e-4  # below this argument the kernels use their Taylor series (as physics.py)


def _kernel_cv(x: np.ndarray) -> np.ndarray:
    """(y / sinh y)^2 with y = x/2, sinh y = m (m + 2) / (2 (m + 1)), m = expm1(y)."""
    y = 0.5 * x
    small = y < _SMALL
    y_safe = np.where(small, 1.0, y)
    m = expm1(y_safe)
    ratio = np.where(small, 1.0 - y * y / 6.0, y_safe / (0.5 * m * (m + 2.0) / (m + 1.0)))
    return ratio * ratio


def _kernel_u(x: np.ndarray) -> np.ndarray:
    """x / expm1(x)."""
    small = x < _SMALL
    x_safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 - 0.5 * x + x * x / 12.0, x_safe / expm1(x_safe))


_KERNELS = {"cv": _kernel_cv, "u": _kernel_u}


def debye_reduced(t: np.ndarray, target: str, n_points: int = DEFAULT_N_POINTS) -> np.ndarray:
    """Normalised Debye function D(x_D) = (3/x_D^3) ∫_0^{x_D} x^2 kernel(x) dx at x_D = 1/t
    (t = T/Θ), for ``target`` "cv" or "u"."""
    s, w = gauss_legendre_unit(n_points)
    t = np.asarray(t, dtype=np.float64)
    clamped = t * X_MAX < 1.0  # x_D > X_MAX: integrate over [0, X_MAX] only
    t_safe = np.where(clamped, 1.0, t)
    upper = np.where(clamped, X_MAX, 1.0 / t_safe)
    scale = np.where(clamped, X_MAX * t, 1.0)
    terms = _KERNELS[target](upper[..., None] * s) * (w * s * s)
    return 3.0 * (scale * scale * scale) * fixed_order_sum(terms)


def debye_value(target: str, temperature, theta, n_atoms) -> np.ndarray:
    """Cv (J/(mol-cell K)) or U (J/mol-cell) for Θ [B] and N [B] at a scalar or [B] T."""
    temp, th, n = (np.asarray(a, dtype=np.float64) for a in (temperature, theta, n_atoms))
    d = debye_reduced(temp / th, target)
    if target == "cv":
        return 3.0 * R_GAS * n * d
    return R_GAS * n * (1.125 * th + 3.0 * (temp * d))


def theta_from_value(values, n_atoms, target: str = "cv",
                     temperature: float = 300.0) -> np.ndarray:
    """Θ (K) with ``debye_value(target, T, Θ, N) = value`` by bisection in log Θ inside
    ``[THETA_MIN, THETA_MAX]``; NaN where no Θ there reproduces the value."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    n = np.asarray(n_atoms, dtype=np.float64).reshape(-1)
    temp = float(temperature)
    sign = -1.0 if target == "cv" else 1.0  # Cv falls with Θ, U rises

    def gap(log_theta: np.ndarray) -> np.ndarray:
        return sign * (debye_value(target, temp, exp(log_theta), n) - v)

    lo = np.full_like(v, float(log(THETA_MIN)))
    hi = np.full_like(v, float(log(THETA_MAX)))
    inside = (gap(lo) <= 0) & (gap(hi) >= 0)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        below = gap(mid) < 0
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return np.where(inside, exp(0.5 * (lo + hi)), np.nan)


def debye_values(target: str, theta, n_atoms, temperature: float = 300.0) -> np.ndarray:
    """``DEBYE_FUNCTIONS[target]`` at one temperature for array-likes Θ [B] and N [B], in
    float64, as a numpy array (for predictions made outside a model: baselines, ensembles),
    with the same bits on every processor (:func:`debye_value`)."""
    return debye_value(target, float(temperature), theta, n_atoms)


__all__ = ["BISECTION_STEPS", "THETA_MAX", "THETA_MIN", "debye_reduced", "debye_value",
           "debye_values", "theta_from_value"]

