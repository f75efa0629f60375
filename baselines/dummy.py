"""The dummy baseline: predict the training-fold mean for every test row (MatBench's Dummy)."""

from __future__ import annotations

import numpy as np


class MeanRegressor:
    """The training targets' mean for every row (the model protocol; any input)."""

    input = "scope"
    # the board's own row for this baseline: a reference, not a submission of the suite
    matbench_reference = "matbench_v0.1_dummy"

    def fit(self, X: list, y: np.ndarray) -> MeanRegressor:
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X: list) -> np.ndarray:
        return np.full(len(X), self.mean_)

    def parameter_count(self) -> int:
        """One number: the mean."""
        return 1


def dummy_predictions(train_targets: np.ndarray, n_test: int) -> np.ndarray:
    return np.full(n_test, float(np.mean(train_targets)))
