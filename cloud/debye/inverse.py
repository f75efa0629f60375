"""The Debye temperature a Cv or U value implies: Θ with ``debye_cv(T, Θ, N) = Cv`` (or U).

At a fixed T, Cv falls and U rises monotonically with Θ, so Θ is found by bisection (in log
Θ, float64) inside ``[THETA_MIN, THETA_MAX]``. A value the Debye model cannot produce in that
range gives NaN: Cv at or above the Dulong-Petit 3NR, or U below the classical limit 3NRT
(U > 0 at Θ -> 0 is 3NRT, the least a Debye solid holds at T). This is the Θ a perfect
CLOUD-DEBYE model would predict for a training label; CLOUD-DEBYE's ``log_theta`` loss and the
``debye_rf`` baseline train on it.
"""

from __future__ import annotations

import numpy as np
import torch

from cloud.debye.physics import DEBYE_FUNCTIONS

THETA_MIN, THETA_MAX = 1.0, 1.0e5  # K, the bracket searched
_ITERATIONS = 64  # the bracket's ratio 1e5 shrinks to 1e5 ** (2 ** -64): exact in float64


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
    for _ in range(_ITERATIONS):
        mid = 0.5 * (lo + hi)
        below = sign * (at(mid.exp()) - v) < 0
        lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
    theta = (0.5 * (lo + hi)).exp()
    return torch.where(inside, theta, torch.full_like(theta, float("nan")))


def theta_from_value(values, n_atoms, target: str = "cv",
                     temperature: float = 300.0) -> np.ndarray:
    """:func:`theta_from_value_tensor` for array-likes: Θ (K) as a float64 numpy array."""
    v = torch.tensor(np.array(values, dtype=float), dtype=torch.float64)
    n = torch.tensor(np.array(n_atoms, dtype=float), dtype=torch.float64)
    return theta_from_value_tensor(v, n, target, temperature).numpy()


__all__ = ["THETA_MAX", "THETA_MIN", "theta_from_value", "theta_from_value_tensor"]
