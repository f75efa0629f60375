"""The Debye temperature a Cv or U value implies: Θ with ``debye_cv(T, Θ, N) = Cv`` (or U).

At a fixed T, Cv falls and U rises monotonically with Θ, so Θ is found by bisection (in log
Θ, float64) inside ``[THETA_MIN, THETA_MAX]``. A value the Debye model cannot produce in that
range gives NaN: Cv at or above the Dulong-Petit 3NR, or U below the classical limit 3NRT
(U > 0 at Θ -> 0 is 3NRT, the least a Debye solid holds at T). This is the Θ a perfect
CLOUD-DEBYE model would predict for a training label; CLOUD-DEBYE's ``log_theta`` loss and the
``debye_rf`` baseline train on it.

Two evaluations of the same bisection: :func:`theta_from_value_tensor` in torch (fast, on
any device; CLOUD-DEBYE's training), and :func:`theta_from_value` for array-likes through
:mod:`cloud.debye.exact`, whose bits do not depend on the processor's kernels (what the
baselines fit and the regression stage compares exactly).
"""

from __future__ import annotations

import numpy as np
import torch

from cloud.debye import exact
from cloud.debye.exact import BISECTION_STEPS, THETA_MAX, THETA_MIN
from cloud.debye.physics import DEBYE_FUNCTIONS


@torch.no_grad()
def theta_from_value_tensor(values: torch.Tensor, n_atoms: torch.Tensor, target: str = "cv",
                            temperature: float = 300.0) -> torch.Tensor:
    """Θ (K, float64, on ``values``' device) for each Cv (J/(mol-cell K)) or U (J/mol-cell)
    at ``temperature``; NaN where no Θ in ``[THETA_MIN, THETA_MAX]`` reproduces the value."""
    fn = DEBYE_FUNCTIONS[target]
    v = values.detach().to(torch.float64).reshape(-1)
    n = n_atoms.detach().to(device=v.device, dtype=torch.float64).reshape(-1)
    temp = torch.full((len(v), 1), float(temperature), dtype=torch.float64, device=v.device)

    def at(theta: torch.Tensor) -> torch.Tensor:
        return fn(temp, theta, n).reshape(-1)

    lo = torch.full_like(v, np.log(THETA_MIN))
    hi = torch.full_like(v, np.log(THETA_MAX))
    sign = -1.0 if target == "cv" else 1.0  # Cv falls with Θ, U rises
    f_lo, f_hi = sign * (at(lo.exp()) - v), sign * (at(hi.exp()) - v)
    inside = (f_lo <= 0) & (f_hi >= 0)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        below = sign * (at(mid.exp()) - v) < 0
        lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
    theta = (0.5 * (lo + hi)).exp()
    return torch.where(inside, theta, torch.full_like(theta, float("nan")))


def theta_from_value(values, n_atoms, target: str = "cv",
                     temperature: float = 300.0) -> np.ndarray:
    """Θ (K, float64 numpy) for array-likes, the same bits on every processor
    (:func:`cloud.debye.exact.theta_from_value`; within ~1e-14 of the tensor version)."""
    return exact.theta_from_value(values, n_atoms, target, temperature)


__all__ = ["THETA_MAX", "THETA_MIN", "theta_from_value", "theta_from_value_tensor"]
