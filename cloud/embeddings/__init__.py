"""CLOUD embeddings: frozen-encoder vectors of crystals, cached, as a product feature.

- :mod:`cloud.embeddings.encoder`: load an encoder (CLOUD, authors' format, random-init
  floor, any Hugging Face encoder folder) and embed SCOPE strings (``cls`` / ``mean``);
- :mod:`cloud.embeddings.cache`: the disk cache keyed by (encoder sha256, input checksum,
  pooling);
- :mod:`cloud.embeddings.transformer`: :class:`CloudEmbedder`, the scikit-learn transformer;
- :mod:`cloud.embeddings.cli`: ``python -m cloud.embeddings MODEL INPUTS --out X.parquet``.
"""

from cloud.embeddings.cache import CacheStats, EmbeddingCache, cached_embed, input_checksum
from cloud.embeddings.encoder import POOLINGS, FrozenEncoder, embed, load_encoder
from cloud.embeddings.transformer import CloudEmbedder

__all__ = ["POOLINGS", "CacheStats", "CloudEmbedder", "EmbeddingCache", "FrozenEncoder",
           "cached_embed", "embed", "input_checksum", "load_encoder"]
