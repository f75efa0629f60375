"""Analyses of CLOUD runs.

Scaling law (``cloud.analysis.scaling``): Chinchilla-style fit, bootstrap intervals,
compute-optimal allocation; its data come from ``python -m cloud.analysis.scaling_sweep``.
The names below are imported lazily, so importing a sibling module (e.g.
``cloud.analysis.attention``) does not load scipy.
"""

from __future__ import annotations

import importlib

_SCALING = ("HOFFMANN_GRID", "ScalingFit", "bootstrap", "compute_optimal", "fit_scaling_law",
            "frontier_points", "iso_loss_grid")

__all__ = list(_SCALING)


def __getattr__(name: str):
    if name in _SCALING:
        return getattr(importlib.import_module("cloud.analysis.scaling"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
