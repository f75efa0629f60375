"""Debye baseline: the composition random forest predicts log Θ, the Debye model gives Cv/U.

The forest (:mod:`baselines.composition`, the same features and settings as
``composition_rf``) is fitted to the log of the Debye temperature each training label
implies (:func:`cloud.debye.inverse.theta_from_value`: exact, the Debye model is monotone in
Θ at a fixed T) and its prediction goes through the same Debye model as CLOUD-DEBYE, with the
row's atoms per cell. It measures how much of CLOUD-DEBYE's skill the physics and the
chemistry alone give, without symmetry or a neural network. Training labels no Debye solid
reproduces (U below 3NRT) have no Θ: they cannot be fitted and are counted in the fold
record, not dropped silently. Every step after the composition features is float64 with the
same bits on every processor (:mod:`cloud.debye.exact`, and log/exp from
:mod:`cloud.debye.fixedmath`, not numpy's processor-dispatched ones): the regression stage
compares this baseline exactly.
"""

from __future__ import annotations

import numpy as np

from baselines.composition import CompositionRF, composition_rf_predictions
from cloud.debye import fixedmath


class DebyeRF(CompositionRF):
    """The composition random forest on log Θ (the model protocol: ``predicts =
    "debye_temperature"``: the runner fits it to each training label's Θ and turns its Θ into
    Cv or U with the Debye model)."""

    predicts = "debye_temperature"

    def fit(self, X: list, y: np.ndarray) -> DebyeRF:
        return super().fit(X, fixedmath.log(np.asarray(y, dtype=float)))

    def predict(self, X: list) -> np.ndarray:
        return fixedmath.exp(super().predict(X))


def debye_rf_predictions(train_texts, train_values, train_n_atoms, test_texts, test_n_atoms,
                         target: str = "cv", temperature: float = 300.0,
                         n_estimators: int = 300, seed: int = 0) -> dict:
    """``{"predictions", "theta", "n_without_theta"}`` for the test rows (Cv in
    J/(mol-cell K) or U in J/mol-cell; Θ in K)."""
    from cloud.debye.exact import debye_values
    from cloud.debye.inverse import theta_from_value

    theta = theta_from_value(train_values, train_n_atoms, target, temperature)
    has = np.isfinite(theta)
    if not has.any():
        raise ValueError("no training label implies a Debye temperature")
    texts = np.asarray(list(train_texts), dtype=object)
    log_theta = composition_rf_predictions(texts[has], fixedmath.log(theta[has]),
                                           list(test_texts), n_estimators=n_estimators,
                                           seed=seed)
    test_theta = fixedmath.exp(log_theta)
    values = debye_values(target, test_theta, test_n_atoms, temperature)
    return {"predictions": values, "theta": test_theta,
            "n_without_theta": int((~has).sum())}
