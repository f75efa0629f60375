"""Shared input step of the adapters: structures -> SCOPE strings, with a per-row error table."""

from __future__ import annotations

import numpy as np

from cloud.scope.batch import encode_many
from cloud.scope.encoder import ScopeEncoder


def encode_structures(ids, structures, targets, mode: str = "paper", progress: bool = True):
    """Encode; drop (and report) rows whose structure fails or whose target is not finite.

    Returns (ids, texts, targets, kept row positions, errors) with errors as (id, kind, message).
    """
    targets = np.asarray(targets, dtype=float)
    errors = [(str(i), "nan_target", "target is NaN or infinite")
              for i, t in zip(ids, targets, strict=True) if not np.isfinite(t)]
    finite = {str(i) for i, t in zip(ids, targets, strict=True) if np.isfinite(t)}
    items = [(str(i), s) for i, s in zip(ids, structures, strict=True) if str(i) in finite]
    result = encode_many(items, ScopeEncoder(mode), progress=progress)
    errors += result.errors
    scopes = dict(result.rows)
    pos = [k for k, i in enumerate(ids) if str(i) in scopes]
    kept_ids = [str(ids[k]) for k in pos]
    return kept_ids, [scopes[i] for i in kept_ids], targets[pos], np.array(pos, int), errors
