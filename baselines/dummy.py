"""The dummy baseline: predict the training-fold mean for every test row (MatBench's Dummy)."""

from __future__ import annotations

import numpy as np


def dummy_predictions(train_targets: np.ndarray, n_test: int) -> np.ndarray:
    return np.full(n_test, float(np.mean(train_targets)))
