"""Test error against how often a material's chemistry was seen in training.

For each test material of a cross-validation fold: the number of training materials of that
fold that contain its *rarest* element (the least-seen element of its composition, read from
the SCOPE string). A model that must learn every element from the labelled rows alone (CLOUD
from scratch) should err more on materials whose rarest element is rare; one that brings
knowledge of the elements (a pretrained encoder, a forest on elemental properties) less so.
Errors are reported as MAE / MAD per rarity bin, MAD being the mean absolute deviation of
all the task's targets (one scale for every bin).

The training set of a fold is every other material of the task: right for K-fold
cross-validation, whose test folds partition the rows (the caller passes only CV folds).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

#: Bin edges (counts of training materials containing the rarest element): [lo, hi).
RARITY_EDGES = (0, 10, 30, 100)


def scope_elements(scope: str) -> set[str]:
    """Elements of a SCOPE string's composition part."""
    from cloud.scope.format import Scope

    return {element for element, _ in Scope.parse(scope).composition}


def rarest_element_counts(scopes: Mapping[str, str],
                          test_folds: Sequence[Sequence[str]]) -> pd.Series:
    """Per test id (index): how many materials of its fold's training set (all ids of
    ``scopes`` outside that fold) contain its rarest element."""
    elements = {i: scope_elements(s) for i, s in scopes.items()}
    total = Counter(e for els in elements.values() for e in els)
    out: dict[str, int] = {}
    for fold in test_folds:
        in_test = Counter(e for i in fold for e in elements[i])
        for i in fold:
            out[i] = min(total[e] - in_test[e] for e in elements[i])
    return pd.Series(out, name="rarest_element_count")


def rarity_bin_label(count: int, edges: Sequence[int] = RARITY_EDGES) -> str:
    """``"0-9"``, ``"10-29"``, ``"30-99"``, ``">=100"`` for the default edges."""
    for lo, hi in zip(edges, edges[1:], strict=False):
        if lo <= count < hi:
            return f"{lo}-{hi - 1}"
    return f">={edges[-1]}"


def rarity_errors(table: pd.DataFrame, counts: pd.Series, targets: Mapping[str, float],
                  edges: Sequence[int] = RARITY_EDGES) -> pd.DataFrame:
    """Per model and rarity bin: n, MAE and MAE / MAD (MAD of all ``targets``).

    ``table`` has one row per (model, id) with ``abs_error`` (as
    :func:`cloud.analysis.phonon_errors.error_table`); ids without a count are left out."""
    values = np.asarray(list(targets.values()), dtype=float)
    mad = float(np.mean(np.abs(values - values.mean())))
    t = table[table["id"].isin(counts.index)].copy()
    t["rarest_element_count"] = t["id"].map(counts).astype(int)
    t["bin"] = t["rarest_element_count"].map(lambda c: rarity_bin_label(c, edges))
    order = [rarity_bin_label(lo, edges) for lo in edges]
    out = t.groupby(["model", "bin"], sort=False).agg(n=("id", "size"),
                                                       mae=("abs_error", "mean")).reset_index()
    out["mae_over_mad"] = out["mae"] / mad
    models = list(dict.fromkeys(t["model"]))
    out["_m"], out["_b"] = out["model"].map(models.index), out["bin"].map(order.index)
    return out.sort_values(["_m", "_b"]).drop(columns=["_m", "_b"]).reset_index(drop=True)
