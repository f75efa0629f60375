"""The bare CLOUD encoder (``AutoModel``): ``self.bert`` alone, no head.

Loads from any CLOUD checkpoint (MLM, regression, CLOUD-DEBYE: their ``bert.*`` weights; the
heads are dropped) and returns the encoder's output, ``last_hidden_state[:, 0]`` being the
``[CLS]`` vector the fine-tuning heads read.
"""

from __future__ import annotations

import torch

from cloud.model.config import CloudConfig
from cloud.model.modeling import CloudPreTrainedModel


class CloudModel(CloudPreTrainedModel):
    """CLOUD encoder without a head; ``forward`` returns BERT's output (a dict-like)."""

    def __init__(self, config: CloudConfig):
        super().__init__(config)
        self._init_encoder(config)
        self.post_init()

    def get_input_embeddings(self):
        return self.bert.embeddings.word_embeddings

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                **kwargs):
        return self.encode(input_ids, attention_mask, **kwargs)


__all__ = ["CloudModel"]
