"""``CloudEmbedder``: a frozen encoder as a scikit-learn transformer.

::

    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from cloud.embeddings import CloudEmbedder

    model = make_pipeline(CloudEmbedder("cloud/pretrained/cloud-small-offline"), RidgeCV())
    model.fit(scopes_or_structures, y).predict(more)

``fit`` learns nothing; ``transform`` maps SCOPE strings or pymatgen ``Structure`` objects
(encoded to paper-mode SCOPE strings) to an [N, hidden] array, through the embedding cache.
The class declares the model protocol's ``input = "scope"``, so such a pipeline runs through
``benchmarks/run.py`` as a plug-in on every task; on a Debye task (phonon Cv/U) set
``predicts="debye_temperature"`` and the runner fits the pipeline to each label's Θ.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from cloud.embeddings.cache import cached_embed
from cloud.embeddings.encoder import DEFAULT_BATCH_SIZE, load_encoder


def as_scopes(X) -> list[str]:
    """SCOPE strings of ``X``: strings as they are, structures encoded (paper mode)."""
    items = list(X)
    todo = [i for i, x in enumerate(items) if not isinstance(x, str)]
    if todo:
        from cloud.scope.encoder import ScopeEncoder

        encoder = ScopeEncoder()
        for i in todo:
            try:
                items[i] = encoder.encode(items[i])
            except Exception as exc:  # a transformer must keep every row: say which failed
                raise ValueError(f"row {i}: cannot encode {type(items[i]).__name__} as SCOPE: "
                                 f"{type(exc).__name__}: {exc}") from exc
    return items


class CloudEmbedder(TransformerMixin, BaseEstimator):
    """Frozen-encoder features of crystals.

    encoder: ``default`` (the committed small CLOUD encoder), a CLOUD or authors-format
    checkpoint folder, or any Hugging Face encoder folder reading SCOPE strings;
    pooling: ``cls`` or ``mean`` (over the non-padding tokens); init: ``pretrained``, or
    ``random`` for the same architecture randomly initialised from ``seed`` (the floor);
    cache_dir: ``auto`` (``$CLOUD_EMBEDDING_CACHE``), a folder, or None (no cache);
    predicts: the model protocol's declaration for the pipeline this step starts.
    """

    input = "scope"

    def __init__(self, encoder: str = "default", pooling: str = "cls",
                 init: str = "pretrained", seed: int = 0,
                 batch_size: int = DEFAULT_BATCH_SIZE, cache_dir: str | None = "auto",
                 predicts: str = "target"):
        self.encoder = encoder
        self.pooling = pooling
        self.init = init
        self.seed = seed
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self.predicts = predicts

    def frozen_encoder(self):
        return load_encoder(self.encoder, self.init, self.seed)

    def fit(self, X=None, y=None):
        encoder = self.frozen_encoder()
        self.encoder_sha256_ = encoder.sha256
        self.n_features_out_ = encoder.hidden_size
        return self

    def transform(self, X) -> np.ndarray:
        encoder = self.frozen_encoder()
        vectors, stats = cached_embed(encoder, as_scopes(X), self.pooling,
                                      int(self.batch_size), self.cache_dir)
        self.last_stats_ = stats
        return vectors

    def describe(self) -> dict:
        """What the features are: the encoder (path, format, init, seed, sha256), pooling."""
        encoder = self.frozen_encoder()
        return {**encoder.info, "sha256": encoder.sha256, "pooling": self.pooling,
                "hidden_size": encoder.hidden_size}

    def get_feature_names_out(self, input_features=None):
        n = self.frozen_encoder().hidden_size
        return np.array([f"{self.pooling}_{j}" for j in range(n)], dtype=object)


__all__ = ["CloudEmbedder", "as_scopes"]
