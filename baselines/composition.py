"""Composition-only baseline: element fractions plus composition-weighted elemental
properties, fed to a scikit-learn random forest.

Features come from the composition part of the SCOPE string, so the baseline runs on every
input the suite has (structures or precomputed strings) and sees exactly the chemistry
CLOUD sees, without the symmetry.
"""

from __future__ import annotations

import numpy as np

from cloud.scope.element_properties import element_property_table
from cloud.scope.elements import ATOMIC_NUMBER, SYMBOLS
from cloud.scope.format import Scope

PROPERTIES = ("Z", "X", "atomic_radius", "row", "group", "atomic_mass", "mendeleev_no")


def composition_features(texts: list[str]) -> np.ndarray:
    """Element fractions (118) + weighted mean, std, min, max of each elemental property."""
    props = element_property_table(PROPERTIES)  # NaN where pymatgen has no value
    fill = np.nanmean(props, axis=0)
    props = np.where(np.isnan(props), fill, props)
    out = np.zeros((len(texts), len(SYMBOLS) + 4 * len(PROPERTIES)))
    for row, text in enumerate(texts):
        pairs = Scope.parse(text).composition
        idx = np.array([ATOMIC_NUMBER[el] - 1 for el, _ in pairs])
        frac = np.array([float(f) for _, f in pairs])
        frac = frac / frac.sum()
        out[row, idx] = frac
        p = props[idx]
        mean = frac @ p
        std = np.sqrt(np.maximum(frac @ (p - mean) ** 2, 0))
        out[row, len(SYMBOLS):] = np.concatenate([mean, std, p.min(0), p.max(0)])
    return out


def composition_rf_predictions(train_texts, train_y, test_texts, n_estimators: int = 300,
                               seed: int = 0) -> np.ndarray:
    from sklearn.ensemble import RandomForestRegressor

    model = RandomForestRegressor(n_estimators=n_estimators, n_jobs=-1, random_state=seed)
    model.fit(composition_features(list(train_texts)), np.asarray(train_y))
    # one thread for predict: sklearn sums the trees' outputs in thread-completion order, so
    # parallel predictions differ in the last bit from run to run (fit stays parallel)
    model.set_params(n_jobs=1)
    return model.predict(composition_features(list(test_texts)))
