"""Temperature curves from a trained CLOUD-DEBYE model, and their physics checks.

The model is trained on Cv (or U) at 300 K only; through the Debye model it predicts Θ and
hence Cv(T) and U(T) at any temperature. ``check_curves`` verifies what the Debye model
guarantees: monotone in T, the Dulong–Petit limit 3NR at high T, and the T³ law at low T.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cloud.debye.physics import R_GAS

T3_COEFFICIENT = 12 * np.pi**4 / 5  # Cv -> (12 pi^4 / 5) N R (T / Θ)^3 as T -> 0
#: Temperatures (K) on which all three checks of ``check_curves`` apply for any Θ between
#: 5 K and 10^4 K: points below Θ/50 (T³ law) and above 10 Θ (Dulong–Petit) lie on it.
LIMIT_GRID = np.geomspace(0.1, 1e5, 241)


@dataclass
class Curves:
    label: str
    n_atoms: int
    theta: float
    temperatures: np.ndarray
    cv: np.ndarray
    u: np.ndarray


def predict_curves(model, tokenizer, scopes: list[str], n_atoms: list[int],
                   temperatures: np.ndarray, labels: list[str] | None = None) -> list[Curves]:
    """Θ, Cv(T) and U(T) for each SCOPE string (atoms per primitive cell in ``n_atoms``)."""
    import torch

    model.eval()
    enc = tokenizer(list(scopes), padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        theta, cv, u = model.predict_curves(
            enc["input_ids"], enc["attention_mask"],
            torch.tensor(n_atoms, dtype=torch.float32),
            torch.tensor(np.asarray(temperatures), dtype=torch.float32))
    labels = labels or list(scopes)
    return [Curves(labels[i], int(n_atoms[i]), float(theta[i]), np.asarray(temperatures),
                   cv[i].numpy().astype(float), u[i].numpy().astype(float))
            for i in range(len(scopes))]


def predict_theta(model, tokenizer, scopes: list[str], batch_size: int = 256,
                  progress: bool = False) -> np.ndarray:
    """Θ (K) of each SCOPE string, in batches (no temperatures, no atom counts needed)."""
    import torch
    from tqdm.auto import tqdm

    model.eval()
    out = []
    starts = range(0, len(scopes), batch_size)
    for start in tqdm(starts, desc="Θ", unit="batch", disable=not progress):
        enc = tokenizer(list(scopes[start:start + batch_size]), padding=True, truncation=True,
                        return_tensors="pt")
        with torch.no_grad():
            theta, _, _ = model.compute_theta(enc["input_ids"], enc["attention_mask"])
        out.append(theta.float().numpy().astype(float))
    return np.concatenate(out) if out else np.zeros(0)


def check_curves(c: Curves, rtol: float = 1e-2) -> dict[str, bool]:
    """Monotone Cv and U; Cv at the highest T within ``rtol`` of 3NR when T ≥ 10 Θ; the T³
    law where T ≤ Θ/50 (checked on the points that lie there)."""
    dp = 3 * c.n_atoms * R_GAS
    out = {"cv_monotone": bool(np.all(np.diff(c.cv) >= -1e-6 * dp)),
           "u_monotone": bool(np.all(np.diff(c.u) >= -1e-6 * dp * c.theta))}
    hot = c.temperatures >= 10 * c.theta
    if hot.any():
        out["dulong_petit"] = bool(abs(c.cv[hot][-1] / dp - 1) < rtol)
    cold = (c.temperatures <= c.theta / 50) & (c.temperatures > 0)
    if cold.any():
        law = T3_COEFFICIENT * c.n_atoms * R_GAS * (c.temperatures[cold] / c.theta) ** 3
        out["t3_law"] = bool(np.all(np.abs(c.cv[cold] / law - 1) < rtol))
    return out


def plot_curves(curves: list[Curves], path, quantity: str = "cv") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6), dpi=120)
    for c in curves:
        y = c.cv if quantity == "cv" else c.u / 1000
        line, = ax.plot(c.temperatures, y, label=f"{c.label} (Θ = {c.theta:.0f} K)")
        if quantity == "cv":
            ax.axhline(3 * c.n_atoms * R_GAS, color=line.get_color(), ls=":", lw=0.8)
    ax.set_xlabel("T (K)")
    ax.set_ylabel("Cv (J/(mol-cell K))" if quantity == "cv" else "U (kJ/mol-cell)")
    if quantity == "cv":
        ax.set_title("CLOUD-DEBYE; dotted: Dulong–Petit 3NR", fontsize=9)
    # Cv plateaus at 3NR (the lower right stays free), U rises with T (the upper left does)
    ax.legend(fontsize=7, loc="lower right" if quantity == "cv" else "upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
