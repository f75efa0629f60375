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


@pytest.fixture(scope="module")
def phonon_tasks(shared_data):
    from benchmarks.tasks import select

    return {name: select(name)[0].load(shared_data, "paper_strings", progress=False)
            for name in ("cv", "u")}


@pytest.mark.parametrize("name", ["cv", "u"])
def test_debye_forest_on_the_real_phonon_folds(phonon_tasks, name):
    """Composition forest on the Θ the labels imply + the Debye model, fold 0 of the 5-fold
    split: far better than the forest on the value itself (it knows atoms per cell through
    the physics); U labels below 3NRT have no Θ and are counted."""
    from baselines.debye_rf import debye_rf_predictions
    from benchmarks.metrics import mae_over_mad

    data = phonon_tasks[name]
    fold = data.folds[0]
    tr_x, tr_y, tr_e = data.subset(fold.train)
    te_x, te_y, te_e = data.subset(fold.test)
    out = debye_rf_predictions(tr_x, tr_y, tr_e["n_atoms"], te_x, te_e["n_atoms"],
                               target=name, n_estimators=100)
    score = mae_over_mad(te_y, out["predictions"])
    plain = mae_over_mad(te_y, composition_rf_predictions(tr_x, tr_y, te_x, n_estimators=100))
    assert score < 0.1 and score < 0.25 * plain
    assert np.all((out["theta"] > 10) & (out["theta"] < 3000))
    below = tr_y < 3 * tr_e["n_atoms"] * 8.314 * 300
    assert out["n_without_theta"] == (int(below.sum()) if name == "u" else 0)
    assert name == "cv" or out["n_without_theta"] > 0
