"""Composition-only baseline: element fractions plus composition-weighted elemental
properties, fed to a scikit-learn random forest.

Features come from the composition part of the SCOPE string, so the baseline runs on every
input the suite has (structures or precomputed strings) and sees exactly the chemistry
CLOUD sees, without the symmetry.
"""

from __future__ import annotations

import math

import numpy as np

from cloud.scope.element_properties import element_property_table
from cloud.scope.elements import ATOMIC_NUMBER, SYMBOLS
from cloud.scope.format import Scope

PROPERTIES = ("Z", "X", "atomic_radius", "row", "group", "atomic_mass", "mendeleev_no")


def composition_features(texts: list[str]) -> np.ndarray:
    """Element fractions (118) + weighted mean, std, min, max of each elemental property.

    Every sum is an exactly rounded ``math.fsum`` over the elements in atomic-number order,
    never a BLAS product: the features are then the same to the last bit on every processor
    and thread count, and whatever order the SCOPE string lists its elements in. (They were
    ``frac @ props`` before; OpenBLAS picks its kernel by processor, the last bits moved, and
    the random forest, which breaks ties between equally good splits by those bits, grew
    other trees on other machines.) Squares are products, never ``**`` (libm's ``pow``,
    whose glibc variant is chosen by processor: with or without FMA).
    """
    props = element_property_table(PROPERTIES)  # NaN where pymatgen has no value
    fill = [math.fsum(c[~np.isnan(c)]) / int((~np.isnan(c)).sum()) for c in props.T]
    props = np.where(np.isnan(props), fill, props)
    n_props = len(PROPERTIES)
    out = np.zeros((len(texts), len(SYMBOLS) + 4 * n_props))
    for row, text in enumerate(texts):
        pairs = sorted((ATOMIC_NUMBER[el] - 1, float(f)) for el, f in Scope.parse(text).composition)
        idx = np.array([i for i, _ in pairs])
        total = math.fsum(f for _, f in pairs)
        frac = [f / total for _, f in pairs]
        out[row, idx] = frac
        p = props[idx]
        for j in range(n_props):
            col = p[:, j]
            mean = math.fsum(w * v for w, v in zip(frac, col, strict=True))
            dev = [v - mean for v in col]  # squared as d * d: ** calls libm's pow (FMA variant)
            var = math.fsum(w * (d * d) for w, d in zip(frac, dev, strict=True))
            out[row, len(SYMBOLS) + j::n_props][:4] = (mean, math.sqrt(max(var, 0.0)),
                                                        col.min(), col.max())
    return out


class CompositionRF:
    """Random forest on :func:`composition_features` of SCOPE strings (the model protocol:
    ``input = "scope"``)."""

    input = "scope"
    # the board's random-forest row (RF-SCM/Magpie): a reference, not a submission of the suite
    matbench_reference = "matbench_v0.1_rf"
    submission = {"model_type": "RF", "architecture": "random forest on composition features",
                  "architecture_type": "random_forest"}

    def __init__(self, n_estimators: int = 300, seed: int = 0):
        self.n_estimators = n_estimators
        self.seed = seed

    def fit(self, X: list, y: np.ndarray) -> CompositionRF:
        from sklearn.ensemble import RandomForestRegressor

        self.forest_ = RandomForestRegressor(n_estimators=int(self.n_estimators), n_jobs=-1,
                                             random_state=int(self.seed))
        self.forest_.fit(composition_features(list(X)), np.asarray(y))
        return self

    def predict(self, X: list) -> np.ndarray:
        # one thread for predict: sklearn sums the trees' outputs in thread-completion order,
        # so parallel predictions differ in the last bit from run to run (fit stays parallel)
        self.forest_.set_params(n_jobs=1)
        return self.forest_.predict(composition_features(list(X)))


def composition_rf_predictions(train_texts, train_y, test_texts, n_estimators: int = 300,
                               seed: int = 0) -> np.ndarray:
    model = CompositionRF(n_estimators, seed).fit(list(train_texts), train_y)
    return model.predict(list(test_texts))
