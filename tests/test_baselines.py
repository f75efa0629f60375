"""Baselines on real data: the dummy floor and the composition-only random forest."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.composition import composition_features, composition_rf_predictions
from baselines.dummy import dummy_predictions
from benchmarks.tasks.matbench import MatbenchTask


@pytest.fixture(scope="module")
def dielectric(shared_data):
    return MatbenchTask("dielectric").load(shared_data, progress=False)


def test_features_hold_the_composition(dielectric):
    x = composition_features(dielectric.texts[:200])
    assert np.allclose(x[:, :118].sum(1), 1.0, atol=0.02)  # fractions rounded to 2 decimals
    assert np.isfinite(x).all()


def test_composition_forest_beats_the_dummy_on_fold_0(dielectric):
    fold = dielectric.folds[0]
    rng = np.random.default_rng(0)
    train = list(rng.choice(fold.train, 1500, replace=False))
    test = list(rng.choice(fold.test, 500, replace=False))
    tr_x, tr_y, _ = dielectric.subset(train)
    te_x, te_y, _ = dielectric.subset(test)
    rf = np.abs(composition_rf_predictions(tr_x, tr_y, te_x, n_estimators=100) - te_y).mean()
    dummy = np.abs(dummy_predictions(tr_y, len(te_y)) - te_y).mean()
    assert rf < 0.85 * dummy
