"""The dummy baseline: predict the training-fold mean for every test row (MatBench's Dummy)."""

from __future__ import annotations

import numpy as np


class MeanRegressor:
    """The training targets' mean for every row (the model protocol; any input)."""

    input = "scope"

    def fit(self, X: list, y: np.ndarray) -> MeanRegressor:
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X: list) -> np.ndarray:
        return np.full(len(X), self.mean_)


def dummy_predictions(train_targets: np.ndarray, n_test: int) -> np.ndarray:
    return np.full(n_test, float(np.mean(train_targets)))
