"""Seed ensembles in fine-tuning: which seeds, where members train, how they combine.

``ensemble: K`` in a benchmark model's config trains K members on the same fold with seeds
``seed, seed + 1, ..., seed + K - 1`` (the seed sets a member's initial weights, validation
carve-out and batch order). A regression ensemble predicts the mean of its members; a
CLOUD-DEBYE ensemble the Debye value of the geometric mean of its members' Θ
(:mod:`cloud.model.ensemble`), so that its predictions stay those of one Debye solid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def member_seeds(seed: int, size: int) -> list[int]:
    size = int(size)
    if size < 1:
        raise ValueError(f"ensemble size must be >= 1, got {size}")
    return [int(seed) + i for i in range(size)]


def member_dir(work_dir: str | Path | None, index: int, size: int) -> Path | None:
    """A member's training folder: the fold's own for a single model, else ``member_<i>``."""
    if work_dir is None:
        return None
    return Path(work_dir) if size == 1 else Path(work_dir) / f"member_{index}"


def combine_members(kind: str, members: list, test_extras: dict, seeds: list[int]) -> dict:
    """Fold-record fields of the combined prediction (``predictions``, ``theta`` for Debye)
    and, for K > 1, each member's seed, best epoch and test-row predictions."""
    if len(members) == 1:
        out = {"predictions": members[0].predictions}
        if members[0].theta is not None:
            out["theta"] = members[0].theta
        return out
    out: dict = {"ensemble": {"seeds": seeds,
                              "best_epochs": [m.fit.best_epoch for m in members],
                              "member_predictions": [np.asarray(m.predictions).tolist()
                                                     for m in members]}}
    if kind != "debye":
        out["predictions"] = np.mean([m.predictions for m in members], axis=0)
        return out
    import torch

    from cloud.debye.exact import debye_values
    from cloud.model.ensemble import geometric_mean_theta

    thetas = torch.as_tensor(np.stack([m.theta for m in members]), dtype=torch.float64)
    theta = geometric_mean_theta(thetas).numpy()
    config = members[0].model.config
    out.update(predictions=debye_values(config.debye_target, theta, test_extras["n_atoms"],
                                        float(config.debye_temperature)), theta=theta)
    out["ensemble"]["member_theta"] = [np.asarray(m.theta).tolist() for m in members]
    return out
