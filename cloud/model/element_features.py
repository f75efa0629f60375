"""Elemental properties as an extra input embedding of the composition's element tokens.

Optional (``CloudConfig.element_features``: a list of pymatgen ``Element`` property names;
``None``, the default, is the paper's CLOUD). When set, every element token of the SCOPE
composition part gets, on top of its learned token embedding, ``W @ p(element)``: a learned
linear map of the element's standardised properties. A model from scratch then starts with
a notion of which elements are alike (mass, size, electronegativity, melting point, ...),
which matters where a training set holds only a few materials with a given element.

Element symbols share token strings with other parts of SCOPE (``O``, ``B``, ``C``, ``F``,
``Y`` are also translation letters), so the embedding is applied only after the last ``|``
of each row (the composition part, also in the ablated strings of
:mod:`cloud.scope.ablations`; a string without composition gets none).

Standardisation: the properties in :data:`LOG_SCALED` are logged; each column is then
z-scored over the 118 elements and missing values (NaN in pymatgen) set to 0, the mean.
The table is a non-persistent buffer rebuilt from pymatgen when a model is built or loaded,
so checkpoints hold only the linear map.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

#: A physically motivated default: identity (Z, row, group, Mendeleev number), size and
#: bonding (atomic radius, molar volume, electronegativity) and the two quantities of
#: Lindemann's estimate of the Debye temperature (atomic mass, melting point).
DEFAULT_ELEMENT_FEATURES: tuple[str, ...] = (
    "Z", "X", "atomic_radius", "row", "group", "atomic_mass", "mendeleev_no",
    "melting_point", "molar_volume",
)
#: Positive, heavy-tailed properties, standardised on a log scale.
LOG_SCALED = frozenset({"atomic_mass", "melting_point", "molar_volume"})


def standardized_properties(properties) -> np.ndarray:
    """[118, P] z-scores of the properties (logged where in :data:`LOG_SCALED`); 0 = missing."""
    from cloud.scope.element_properties import element_property_table

    table = np.array(element_property_table(properties), dtype=np.float64)
    for j, name in enumerate(properties):
        if name in LOG_SCALED:
            table[:, j] = np.log(np.where(table[:, j] > 0, table[:, j], np.nan))
    mean, std = np.nanmean(table, axis=0), np.nanstd(table, axis=0)
    z = (table - mean) / np.where(std > 0, std, 1.0)
    return np.nan_to_num(z, nan=0.0)


def token_feature_table(properties, vocab_size: int) -> torch.Tensor:
    """[vocab_size, P] float32: an element token's standardised properties, 0 elsewhere."""
    from cloud.scope.elements import ATOMIC_NUMBER
    from cloud.tokenizer import scope_vocabulary

    z = standardized_properties(properties)
    table = torch.zeros(vocab_size, len(properties))
    for token_id, token in enumerate(scope_vocabulary()[:vocab_size]):
        if token in ATOMIC_NUMBER:
            table[token_id] = torch.as_tensor(z[ATOMIC_NUMBER[token] - 1], dtype=torch.float32)
    return table


def separator_id() -> int:
    from cloud.scope.format import SEPARATOR
    from cloud.tokenizer import scope_vocabulary

    return scope_vocabulary().index(SEPARATOR)


def last_part_mask(input_ids: torch.Tensor, separator: int) -> torch.Tensor:
    """[B, L] bool: positions after the last separator of their row (none if it has none)."""
    is_sep = input_ids == separator
    seen = is_sep.long().cumsum(dim=1)
    total = seen[:, -1:]
    return (seen == total) & (total > 0) & ~is_sep


class ElementFeatureEmbedding(nn.Module):
    """``W @ p(token)`` for the composition's element tokens, 0 for every other position."""

    def __init__(self, properties, vocab_size: int, hidden_size: int):
        super().__init__()
        self.properties = tuple(properties)
        self.vocab_size = vocab_size
        self.separator = separator_id()
        self.register_buffer(
            "table", token_feature_table(self.properties, vocab_size), persistent=False
        )
        self.projection = nn.Linear(len(self.properties), hidden_size, bias=False)

    def reset_table(self) -> torch.Tensor:
        """The buffer's values (for ``_init_weights``: loading may leave buffers empty)."""
        return token_feature_table(self.properties, self.vocab_size)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        features = self.table[input_ids]  # [B, L, P]
        mask = last_part_mask(input_ids, self.separator).unsqueeze(-1)
        return self.projection(features * mask.to(features.dtype))


__all__ = [
    "DEFAULT_ELEMENT_FEATURES",
    "LOG_SCALED",
    "ElementFeatureEmbedding",
    "last_part_mask",
    "standardized_properties",
    "token_feature_table",
]
