"""Frozen-encoder probes: how much a representation knows, without fine-tuning.

A probe embeds each crystal's SCOPE string once with a frozen encoder
(:class:`cloud.embeddings.CloudEmbedder`: the committed CLOUD encoder, its random-init floor,
the authors' checkpoint, any Hugging Face encoder folder) and fits a small model on the
training fold's vectors:

- :class:`RidgeProbe`: standardised features, ridge regression with the penalty chosen from
  :data:`ALPHAS` by leave-one-out cross-validation on the training fold (``RidgeCV``);
- :class:`KNNProbe`: standardised features, k nearest neighbours with k chosen from
  :data:`K_GRID` by :data:`INNER_FOLDS`-fold cross-validation on the training fold (MAE).

Each is exactly ``make_pipeline(CloudEmbedder(...), head)`` (:func:`probe_pipeline`), so a
pipeline written by hand gives the same numbers. With ``predicts="debye_temperature"`` (phonon
Cv/U) the probe is fitted to log Θ of each training label and its exp goes through the Debye
model, as the ``debye_rf`` baseline does. Embeddings go through the embedding cache: a task's
strings are embedded once per encoder and reused by every fold and probe.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from cloud.embeddings.encoder import DEFAULT_BATCH_SIZE
from cloud.embeddings.transformer import CloudEmbedder

#: Ridge penalties tried on each training fold (log-spaced, 1e-3 ... 1e5).
ALPHAS = tuple(float(a) for a in np.logspace(-3, 5, 17))
#: Neighbour counts tried on each training fold.
K_GRID = (1, 2, 3, 5, 8, 13, 21, 34)
INNER_FOLDS = 5


def ridge_head(alphas=ALPHAS):
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), RidgeCV(alphas=tuple(alphas)))


def knn_head(k_grid=K_GRID, seed: int = 0):
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    search = GridSearchCV(KNeighborsRegressor(), {"n_neighbors": list(k_grid)},
                          cv=KFold(INNER_FOLDS, shuffle=True, random_state=seed),
                          scoring="neg_mean_absolute_error")
    return make_pipeline(StandardScaler(), search)


def log_target(head):
    """``head`` fitted to log y, predicting exp (the Debye tasks' log Θ)."""
    from sklearn.compose import TransformedTargetRegressor

    return TransformedTargetRegressor(head, func=np.log, inverse_func=np.exp,
                                      check_inverse=False)


def probe_pipeline(embedder: CloudEmbedder, head):
    from sklearn.pipeline import make_pipeline

    if embedder.predicts == "debye_temperature":
        head = log_target(head)
    return make_pipeline(embedder, head)


class _Probe(BaseEstimator):
    """A frozen encoder and a head (the model protocol: ``input = "scope"``)."""

    input = "scope"

    def __init__(self, encoder: str = "default", pooling: str = "cls",
                 init: str = "pretrained", seed: int = 0, predicts: str = "target",
                 batch_size: int = DEFAULT_BATCH_SIZE, cache_dir: str | None = "auto"):
        self.encoder = encoder
        self.pooling = pooling
        self.init = init
        self.seed = seed
        self.predicts = predicts
        self.batch_size = batch_size
        self.cache_dir = cache_dir

    def embedder(self) -> CloudEmbedder:
        return CloudEmbedder(self.encoder, self.pooling, self.init, self.seed,
                             self.batch_size, self.cache_dir, self.predicts)

    def head(self):
        raise NotImplementedError

    def fit(self, X: list, y: np.ndarray):
        self.pipeline_ = probe_pipeline(self.embedder(), self.head()).fit(list(X), y)
        embedder = self.pipeline_.steps[0][1]
        self.fold_record_ = {"probe": {"encoder": embedder.describe(), **self.chosen(),
                                       "fit_embeddings": vars(embedder.last_stats_).copy()}}
        return self

    def predict(self, X: list) -> np.ndarray:
        out = self.pipeline_.predict(list(X))
        stats = self.pipeline_.steps[0][1].last_stats_
        self.fold_record_["probe"]["predict_embeddings"] = vars(stats).copy()
        return out

    def fitted_head(self):
        head = self.pipeline_.steps[-1][1]
        return head.regressor_ if hasattr(head, "regressor_") else head

    def chosen(self) -> dict:
        return {}


class RidgeProbe(_Probe):
    """Ridge regression on standardised frozen embeddings, penalty by inner LOO-CV."""

    def head(self):
        return ridge_head()

    def chosen(self) -> dict:
        return {"alpha": float(self.fitted_head().steps[-1][1].alpha_)}


class KNNProbe(_Probe):
    """k nearest neighbours on standardised frozen embeddings, k by inner 5-fold CV."""

    def head(self):
        return knn_head()

    def chosen(self) -> dict:
        return {"k": int(self.fitted_head().steps[-1][1].best_params_["n_neighbors"])}


__all__ = ["ALPHAS", "INNER_FOLDS", "K_GRID", "KNNProbe", "RidgeProbe", "knn_head",
           "log_target", "probe_pipeline", "ridge_head"]
