"""Chinchilla-style scaling-law fit (paper Eqs. 4-6 and 17-18; Hoffmann et al. 2022).

The parametric law is ``L(N, D) = A / N**alpha + B / D**beta + E`` with ``N`` the number of
non-embedding encoder parameters and ``D`` the number of training tokens. As in Hoffmann et
al. (their Appendix D.2) and the CLOUD paper (Eq. 18), the five parameters are fitted in log
space, ``A = exp(a)``, ``B = exp(b)``, ``E = exp(e)``, by minimising

    sum_i Huber_delta( LSE(a - alpha log N_i, b - beta log D_i, e) - log L_i ),  delta = 1e-3

with L-BFGS(-B) started from a grid of initialisations, keeping the best optimum. The default
grid is Hoffmann's: alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1}, a, b in
{0, 5, ..., 25} (4,500 starts). All starts are scored in one vectorised pass and L-BFGS-B is
run from the ``n_starts`` best of them (all of them with ``n_starts=None``); the objective is
smooth with an analytic gradient, so this finds the same optimum in a fraction of the time.
Exponents are bounded to ``[0, 10]`` (negative exponents are unphysical) and ``a, b, e`` from
below by -30 (a coefficient of 1e-13 is zero); a fit that ends on a bound, or whose terms are
not identifiable from the data, is flagged in ``ScalingFit.warnings``.

Compute-optimal allocation (paper Eqs. 5-6, Hoffmann Eq. 4) for ``C = 6 N D``::

    N_opt(C) = G (C/6)**a,  D_opt(C) = G**-1 (C/6)**b,
    G = (alpha A / (beta B))**(1/(alpha+beta)),  a = beta/(alpha+beta),  b = alpha/(alpha+beta)

Pure numpy / scipy: no torch import.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

PARAMS = ("A", "B", "E", "alpha", "beta")
# Hoffmann et al. (2022), App. D.2: the initialisation grid, in (a, b, e, alpha, beta) order.
HOFFMANN_GRID: dict[str, np.ndarray] = {
    "a": np.arange(0.0, 25.1, 5.0),
    "b": np.arange(0.0, 25.1, 5.0),
    "e": np.arange(-1.0, 1.01, 0.5),
    "alpha": np.arange(0.0, 2.01, 0.5),
    "beta": np.arange(0.0, 2.01, 0.5),
}
EXPONENT_BOUNDS = (0.0, 10.0)
# Lower bound on a, b, e (A, B, E >= e^-30 ~ 1e-13, i.e. zero for any loss): without it an
# unresolved term drifts towards -inf and L-BFGS-B runs to its iteration limit.
LOG_COEF_MIN = -30.0
_THETA = ("a", "b", "e", "alpha", "beta")


def _single_thread_blas():
    """L-BFGS-B calls BLAS on 5-vectors: a threaded OpenBLAS makes each step ~1 ms instead of
    ~50 us on a busy machine (measured 0.75 s vs 0.03 s per fit), so run with one thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


@dataclass
class ScalingFit:
    """A fitted law ``L = A/N^alpha + B/D^beta + E``; ``loss`` is the objective at the optimum."""

    A: float
    B: float
    E: float
    alpha: float
    beta: float
    loss: float
    n_points: int
    delta: float = 1e-3
    objective: str = "huber"
    converged: bool = True
    n_starts: int = 0
    warnings: list[str] = field(default_factory=list)

    def predict(self, N, D) -> np.ndarray:
        """Predicted loss at ``N`` parameters and ``D`` tokens (broadcasting arrays)."""
        N, D = np.asarray(N, dtype=float), np.asarray(D, dtype=float)
        return self.A / N**self.alpha + self.B / D**self.beta + self.E

    @property
    def params(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in PARAMS}

    @property
    def degenerate(self) -> bool:
        """True when the optimiser or the identifiability checks raised a warning."""
        return bool(self.warnings)

    def to_dict(self) -> dict:
        return {**self.params, "loss": float(self.loss), "n_points": int(self.n_points),
                "delta": self.delta, "objective": self.objective,
                "converged": bool(self.converged), "n_starts": int(self.n_starts),
                "degenerate": self.degenerate, "warnings": list(self.warnings)}


def init_grid(grid: Mapping[str, Sequence[float]] | None = None) -> np.ndarray:
    """All combinations of a grid of starts as rows ``(a, b, e, alpha, beta)``."""
    grid = HOFFMANN_GRID if grid is None else grid
    missing = set(_THETA) - set(grid)
    if missing:
        raise ValueError(f"init grid lacks {sorted(missing)}")
    return np.array(list(itertools.product(*(np.asarray(grid[k], float) for k in _THETA))))


def _terms(theta: np.ndarray, logN: np.ndarray, logD: np.ndarray) -> np.ndarray:
    """Log of the three terms, shape (..., 3, n) for theta of shape (..., 5)."""
    theta = np.asarray(theta, float)
    a, b, e, al, be = (theta[..., i, None] for i in range(5))
    return np.stack([a - al * logN, b - be * logD, np.broadcast_to(e, al.shape[:-1] + logN.shape)],
                    axis=-2)


def _robust(r: np.ndarray, delta: float, objective: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-residual loss and its derivative."""
    if objective == "huber":
        ar = np.abs(r)
        return np.where(ar <= delta, 0.5 * r * r, delta * (ar - 0.5 * delta)), np.clip(r, -delta,
                                                                                         delta)
    if objective == "l2":
        return 0.5 * r * r, r
    raise ValueError("objective must be 'huber' or 'l2'")


def _objective(theta, logN, logD, logL, delta, objective, scale):
    t = _terms(theta, logN, logD)
    m = t.max(axis=0)
    w = np.exp(t - m)
    s = w.sum(axis=0)
    r = m + np.log(s) - logL
    w /= s
    val, dr = _robust(r, delta, objective)
    grad = np.array([(dr * w[0]).sum(), (dr * w[1]).sum(), (dr * w[2]).sum(),
                     -(dr * w[0] * logN).sum(), -(dr * w[1] * logD).sum()])
    return val.sum() / scale, grad / scale


def objective_value(theta, N, D, L, delta: float = 1e-3, objective: str = "huber") -> np.ndarray:
    """Summed robust loss of parameter rows ``(a, b, e, alpha, beta)`` (vectorised over rows)."""
    logN, logD, logL = (np.log(np.asarray(x, float)) for x in (N, D, L))
    t = _terms(theta, logN, logD)
    m = t.max(axis=-2)
    r = m + np.log(np.exp(t - m[..., None, :]).sum(axis=-2)) - logL
    return _robust(r, delta, objective)[0].sum(axis=-1)


def _check(N, D, L) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    N, D, L = (np.asarray(x, float).ravel() for x in (N, D, L))
    if not (len(N) == len(D) == len(L)):
        raise ValueError("N, D and L must have the same length")
    if len(N) < 5:
        raise ValueError(f"{len(N)} points cannot determine 5 parameters (need at least 5)")
    if not (np.all(N > 0) and np.all(D > 0) and np.all(L > 0) and np.all(np.isfinite(L))):
        raise ValueError("N, D and L must be positive and finite")
    return N, D, L


def _diagnose(theta: np.ndarray, N, D, L, converged: bool) -> list[str]:
    notes = []
    if not converged:
        notes.append("L-BFGS-B did not report convergence at the best start")
    lo, hi = EXPONENT_BOUNDS
    for name, value in (("alpha", theta[3]), ("beta", theta[4])):
        if value <= lo + 1e-6 or value >= hi - 1e-6:
            notes.append(f"{name}={value:.4g} lies on its bound {EXPONENT_BOUNDS}")
    for name, value in (("A", theta[0]), ("B", theta[1]), ("E", theta[2])):
        if value <= LOG_COEF_MIN + 1e-6:
            notes.append(f"{name} hit its lower bound exp({LOG_COEF_MIN:g}) (term vanishes)")
    if np.unique(N).size < 2:
        notes.append("only one model size: A and alpha are not identifiable")
    if np.unique(D).size < 2:
        notes.append("only one token count: B and beta are not identifiable")
    terms = np.exp(_terms(theta, np.log(N), np.log(D)))
    share = terms / terms.sum(axis=0)
    if share[2].max() < 1e-3:
        notes.append("E is negligible against the observed losses (no loss floor resolved)")
    for i, name in ((0, "A/N^alpha"), (1, "B/D^beta")):
        if share[i].max() < 1e-3:
            notes.append(f"the {name} term is negligible at every point")
    return notes


def fit_scaling_law(N, D, L, delta: float = 1e-3, inits=None, n_starts: int | None = 64,
                    objective: str = "huber") -> ScalingFit:
    """Fit ``L = A/N^alpha + B/D^beta + E`` (Huber on log residuals, L-BFGS-B, many starts).

    ``inits``: ``None`` (Hoffmann's grid), a mapping of grid axes ``a, b, e, alpha, beta``,
    or an array of rows ``(a, b, e, alpha, beta)``. ``n_starts``: optimise from this many of
    the best-scoring starts (``None``: all). ``objective``: ``"huber"`` (the paper's) or
    ``"l2"`` (plain least squares in log space, for comparison).
    """
    N, D, L = _check(N, D, L)
    logN, logD, logL = np.log(N), np.log(D), np.log(L)
    starts = init_grid(inits) if inits is None or isinstance(inits, Mapping) else np.atleast_2d(
        np.asarray(inits, float))
    if starts.shape[-1] != 5:
        raise ValueError("inits rows must be (a, b, e, alpha, beta)")
    lo, hi = EXPONENT_BOUNDS
    starts = starts.copy()
    starts[:, :3] = np.maximum(starts[:, :3], LOG_COEF_MIN)
    starts[:, 3:] = np.clip(starts[:, 3:], lo, hi)
    if n_starts is not None and n_starts < len(starts):
        scores = objective_value(starts, N, D, L, delta, objective)
        starts = starts[np.argsort(scores, kind="stable")[:n_starts]]
    # Scale so the gradient is O(1): the Huber sum with delta=1e-3 is otherwise ~1e-5.
    scale = delta if objective == "huber" else delta * delta
    bounds = [(LOG_COEF_MIN, None)] * 3 + [EXPONENT_BOUNDS] * 2
    best = None
    with _single_thread_blas():
        for x0 in starts:
            res = minimize(_objective, x0, args=(logN, logD, logL, delta, objective, scale),
                           jac=True, method="L-BFGS-B", bounds=bounds,
                           options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-10})
            if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
                best = res
    if best is None:
        raise RuntimeError("no start produced a finite objective")
    theta = best.x
    a, b, e, alpha, beta = (float(v) for v in theta)
    with np.errstate(over="ignore"):
        A, B, E = float(np.exp(a)), float(np.exp(b)), float(np.exp(e))
    return ScalingFit(A=A, B=B, E=E, alpha=alpha, beta=beta, loss=float(best.fun * scale),
                      n_points=len(N), delta=delta, objective=objective,
                      converged=bool(best.success), n_starts=len(starts),
                      warnings=_diagnose(theta, N, D, L, bool(best.success)))


def bootstrap(N, D, L, n_boot: int = 200, seed: int = 0, level: float = 0.95,
              delta: float = 1e-3, n_starts: int = 4, fit: ScalingFit | None = None,
              progress: bool = False) -> dict:
    """Percentile bootstrap intervals: resample points with replacement and refit.

    Each refit starts from the ``n_starts`` best grid points plus the full-data optimum
    (``fit``, fitted here when not given). Returns ``{name: (low, high)}`` for ``A, B, E,
    alpha, beta`` and the compute-optimal exponents ``a, b``, plus ``level``, ``n_boot`` and
    ``n_failed`` (resamples that could not be fitted, e.g. < 5 distinct points).
    """
    from tqdm.auto import tqdm

    N, D, L = _check(N, D, L)
    fit = fit or fit_scaling_law(N, D, L, delta=delta)
    full = np.log(np.maximum([fit.A, fit.B, fit.E], np.exp(LOG_COEF_MIN)))
    full = np.concatenate([full, [fit.alpha, fit.beta]])
    grid = init_grid()
    rng = np.random.default_rng(seed)
    rows, failed = [], 0
    for _ in tqdm(range(n_boot), desc="bootstrap", disable=not progress, leave=False):
        idx = rng.integers(0, len(N), len(N))
        if np.unique(idx).size < 5:
            failed += 1
            continue
        n_, d_, l_ = N[idx], D[idx], L[idx]
        scores = objective_value(grid, n_, d_, l_, delta)
        starts = np.vstack([full, grid[np.argsort(scores, kind="stable")[:n_starts]]])
        try:
            f = fit_scaling_law(n_, d_, l_, delta=delta, inits=starts, n_starts=None)
        except (RuntimeError, ValueError):
            failed += 1
            continue
        co = compute_optimal(f)
        rows.append([f.A, f.B, f.E, f.alpha, f.beta, co["a"], co["b"]])
    out: dict = {"level": level, "n_boot": n_boot, "n_failed": failed}
    names = (*PARAMS, "a", "b")
    if not rows:
        out.update({k: (float("nan"), float("nan")) for k in names})
        return out
    arr = np.array(rows)
    q = 100 * np.array([(1 - level) / 2, (1 + level) / 2])
    for i, k in enumerate(names):
        lo, hi = np.nanpercentile(arr[:, i], q)
        out[k] = (float(lo), float(hi))
    return out


def _as_params(fit: ScalingFit | Mapping) -> dict[str, float]:
    if isinstance(fit, ScalingFit):
        return fit.params
    return {k: float(fit[k]) for k in PARAMS if k in fit}


def compute_optimal(fit: ScalingFit | Mapping) -> dict:
    """Compute-optimal allocation under ``C = 6 N D`` (paper Eqs. 5-6, Hoffmann Eq. 4).

    Minimising ``A/N^alpha + B/D^beta`` with ``D = C/(6N)`` gives
    ``alpha A N^-alpha = beta B D^-beta``, hence ``N_opt = G (C/6)^a`` and
    ``D_opt = G^-1 (C/6)^b`` (so ``6 N_opt D_opt = C``). Returns ``a``, ``b``, ``G`` and the
    callables ``N_opt(C)``, ``D_opt(C)`` and ``L_opt(C)`` (the law along the frontier; needs
    ``E`` in ``fit``). Accepts a :class:`ScalingFit` or a mapping with ``A, B, alpha, beta``.
    """
    p = _as_params(fit)
    A, B, alpha, beta = p["A"], p["B"], p["alpha"], p["beta"]
    s = alpha + beta
    if not s > 0:
        raise ValueError("alpha + beta must be positive for a compute-optimal frontier")
    a, b = beta / s, alpha / s
    G = (alpha * A / (beta * B)) ** (1.0 / s) if alpha > 0 and beta > 0 else float("nan")

    def n_opt(C):
        return G * (np.asarray(C, float) / 6.0) ** a

    def d_opt(C):
        return (np.asarray(C, float) / 6.0) ** b / G

    def l_opt(C):
        return A / n_opt(C) ** alpha + B / d_opt(C) ** beta + p.get("E", 0.0)

    return {"a": a, "b": b, "G": G, "N_opt": n_opt, "D_opt": d_opt, "L_opt": l_opt}


def iso_loss_grid(fit: ScalingFit, N_range: Sequence[float], D_range: Sequence[float],
                  n: int = 80) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-spaced ``(N, D, L)`` meshgrids (shape ``(n, n)``) spanning the two ranges."""
    Ns = np.geomspace(min(N_range), max(N_range), n)
    Ds = np.geomspace(min(D_range), max(D_range), n)
    NN, DD = np.meshgrid(Ns, Ds)
    return NN, DD, fit.predict(NN, DD)


def frontier_points(fit: ScalingFit, C: Sequence[float]) -> dict[str, np.ndarray]:
    """``N_opt``, ``D_opt`` and predicted loss at the compute budgets ``C``."""
    co = compute_optimal(fit)
    C = np.asarray(C, float)
    return {"C": C, "N": co["N_opt"](C), "D": co["D_opt"](C), "L": co["L_opt"](C)}

