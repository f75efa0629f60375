"""Differentiable Debye model for CLOUD-DEBYE (Θ -> Cv(T), U(T))."""

from cloud.debye.physics import (
    DEBYE_FUNCTIONS,
    DEFAULT_N_POINTS,
    R_GAS,
    X_MAX,
    debye_cv,
    debye_function_cv,
    debye_function_u,
    debye_u,
    dulong_petit,
)

__all__ = [
    "DEBYE_FUNCTIONS",
    "DEFAULT_N_POINTS",
    "R_GAS",
    "X_MAX",
    "debye_cv",
    "debye_function_cv",
    "debye_function_u",
    "debye_u",
    "dulong_petit",
]
