"""Figures of a scaling sweep (the paper's Fig. 3): iso-loss contours in (D, N) with the
compute-optimal frontier, and loss against compute ``C = 6 N D`` with the fitted curve.

matplotlib with the Agg backend (no display needed); ``fit`` may be ``None`` (too few points
for a fit), in which case only the observations are drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cloud.analysis.scaling import ScalingFit, compute_optimal, iso_loss_grid


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _span(values: np.ndarray, pad: float = 3.0) -> tuple[float, float]:
    return float(values.min() / pad), float(values.max() * pad)


def plot_iso_loss(fit: ScalingFit | None, N, D, L, path: str | Path, title: str = "") -> Path:
    """Iso-loss contours of ``fit`` in (tokens D, parameters N), the observations coloured by
    loss, and the compute-optimal frontier ``(D_opt(C), N_opt(C))`` in red."""
    plt = _pyplot()
    N, D, L = (np.asarray(x, float) for x in (N, D, L))
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    n_lo, n_hi = _span(N)
    d_lo, d_hi = _span(D)
    if fit is not None:
        NN, DD, LL = iso_loss_grid(fit, (n_lo, n_hi), (d_lo, d_hi), n=120)
        levels = np.geomspace(LL.min(), LL.max(), 14)
        cs = ax.contour(DD, NN, LL, levels=levels, cmap="viridis", linewidths=0.8)
        ax.clabel(cs, fmt="%.3g", fontsize=7)
        co = compute_optimal(fit)
        if np.isfinite(co["G"]):
            C = np.geomspace(6 * n_lo * d_lo, 6 * n_hi * d_hi, 200)
            n_opt, d_opt = co["N_opt"](C), co["D_opt"](C)
            keep = (n_opt >= n_lo) & (n_opt <= n_hi) & (d_opt >= d_lo) & (d_opt <= d_hi)
            if keep.any():
                ax.plot(d_opt[keep], n_opt[keep], color="red", lw=2,
                        label=f"compute-optimal (a={co['a']:.2f}, b={co['b']:.2f})")
    sc = ax.scatter(D, N, c=L, cmap="viridis", edgecolors="black", s=45, zorder=3,
                    label="runs")
    fig.colorbar(sc, ax=ax, label="validation MLM loss")
    ax.set(xscale="log", yscale="log", xlim=(d_lo, d_hi), ylim=(n_lo, n_hi),
           xlabel="training tokens D", ylabel="non-embedding parameters N",
           title=title or "Iso-loss contours of the fitted law")
    ax.legend(loc="lower left", fontsize=8)
    return _save(fig, path, plt)


def plot_loss_vs_compute(fit: ScalingFit | None, N, D, L, path: str | Path,
                         title: str = "") -> Path:
    """Loss against ``C = 6 N D``: observations coloured by N, the fitted loss along the
    compute-optimal frontier ``L(N_opt(C), D_opt(C))`` in red and the floor ``E`` dashed."""
    plt = _pyplot()
    N, D, L = (np.asarray(x, float) for x in (N, D, L))
    C = 6 * N * D
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    sc = ax.scatter(C, L, c=np.log10(N), cmap="plasma", edgecolors="black", s=40, zorder=3)
    fig.colorbar(sc, ax=ax, label="log10 N")
    if fit is not None:
        co = compute_optimal(fit)
        grid = np.geomspace(C.min() / 3, C.max() * 30, 200)
        if np.isfinite(co["G"]):
            ax.plot(grid, co["L_opt"](grid), color="red", lw=2, label="compute-optimal fit")
        for i, n in enumerate(np.unique(N)):  # over the D range that size was trained on
            d = D[N == n]
            dgrid = np.geomspace(d.min() / 2, d.max() * 4, 60)
            ax.plot(6 * n * dgrid, fit.predict(n, dgrid), color="grey", lw=0.6, alpha=0.6,
                    label="fit at each observed N" if i == 0 else None)
        if fit.E > 0.05 * L.min():  # a floor far below the data would only squash the axis
            ax.axhline(fit.E, color="black", ls="--", lw=1, label=f"E = {fit.E:.3g}")
        ax.legend(fontsize=8)
    ax.set(xscale="log", yscale="log", xlabel="compute C = 6ND (FLOPs)",
           ylabel="validation MLM loss", title=title or "Loss against compute",
           ylim=(L.min() / 1.5, L.max() * 1.5))
    return _save(fig, path, plt)


def _save(fig, path: str | Path, plt) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.tight_layout()
    fig.savefig(tmp, dpi=130)
    plt.close(fig)
    tmp.replace(path)
    return path
