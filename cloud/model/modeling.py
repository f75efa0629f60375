"""CLOUD models: a transformers ``BertModel`` encoder (``self.bert``) plus a task head.

* :class:`CloudForMaskedLM` - pre-training; BERT's MLM head, decoder tied to the input
  embeddings.
* :class:`CloudForRegression` - fine-tuning; an MLP on the final ``[CLS]`` vector.
* :class:`~cloud.model.debye.CloudForDebye` - CLOUD-DEBYE (in ``debye.py``).

All share the parameter names ``bert.*`` for the encoder, so an MLM checkpoint loads into
the fine-tuning models with ``from_pretrained`` (MLM head dropped, task head freshly
initialised).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import BertModel, PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import MaskedLMOutput
from transformers.models.bert.modeling_bert import BertLMPredictionHead, BertOnlyMLMHead
from transformers.utils import ModelOutput

from cloud.model.config import CloudConfig
from cloud.model.element_features import ElementFeatureEmbedding


class CloudMLPHead(nn.Module):
    """Dropout -> [Linear -> SiLU -> Dropout] * len(hidden_sizes) -> Linear(out_features)."""

    def __init__(
        self, in_features: int, hidden_sizes: list[int], out_features: int, dropout: float
    ):
        super().__init__()
        layers: list[nn.Module] = [nn.Dropout(dropout)]
        width = in_features
        for size in hidden_sizes:
            layers += [nn.Linear(width, int(size)), nn.SiLU(), nn.Dropout(dropout)]
            width = int(size)
        layers.append(nn.Linear(width, out_features))
        self.layers = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        # The head is tiny: run it in float32 even under bf16/fp16 autocast, so that the
        # predictions are not rounded to 8 mantissa bits.
        with torch.autocast(device_type=features.device.type, enabled=False):
            return self.layers(features.float())


class CloudPreTrainedModel(PreTrainedModel):
    """Base class: config, weight initialisation, attention/checkpointing capabilities."""

    config_class = CloudConfig
    config: CloudConfig
    base_model_prefix = "bert"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True
    _supports_attention_backend = True
    _no_split_modules = ["BertEmbeddings", "BertLayer"]

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """BERT init for the modules owned by this model (the encoder ``self.bert`` is a
        ``BertPreTrainedModel`` and is initialised by its own ``_init_weights``).

        transformers 5.x calls this once per module with a skip-if-loaded flag, so it must use
        ``transformers.initialization`` (which honours ``_is_hf_initialized``) rather than
        ``torch.nn.init`` / in-place ``.data`` writes: otherwise ``from_pretrained`` would
        overwrite loaded weights.
        """
        # normal(0, initializer_range) for Linear/Embedding, ones/zeros for LayerNorm
        super()._init_weights(module)
        if isinstance(module, BertLMPredictionHead):
            init.zeros_(module.bias)
        elif isinstance(module, ElementFeatureEmbedding):
            init.copy_(module.table, module.reset_table())

    def _init_encoder(self, config: CloudConfig) -> None:
        """``self.bert`` and, when ``config.element_features`` is set, the element-property
        embedding ``self.element_features`` (else ``None``)."""
        self.bert = BertModel(config.to_bert_config(), add_pooling_layer=False)
        self.element_features = None
        if config.element_features:
            self.element_features = ElementFeatureEmbedding(
                config.element_features, config.vocab_size, config.hidden_size
            )

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
               **kwargs):
        """The encoder's output (``self.bert``'s, as a dict): the token embeddings plus the
        element features where configured. Analyses call this rather than ``self.bert`` so
        that they see what the model sees."""
        kwargs.pop("return_dict", None)
        if self.element_features is not None:
            embeds = self.bert.embeddings.word_embeddings(input_ids)
            embeds = embeds + self.element_features(input_ids).to(embeds.dtype)
            return self.bert(inputs_embeds=embeds, attention_mask=attention_mask,
                             return_dict=True, **kwargs)
        return self.bert(input_ids, attention_mask=attention_mask, return_dict=True, **kwargs)

    def _encode_cls(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None,
        **kwargs,
    ):
        """Run the encoder; returns (its output, the final ``[CLS]`` vector [B, H])."""
        outputs = self.encode(input_ids, attention_mask, **kwargs)
        return outputs, outputs.last_hidden_state[:, 0]


class CloudForMaskedLM(CloudPreTrainedModel):
    """CLOUD pre-training model: ``self.bert`` + BERT's MLM head (decoder tied to embeddings)."""

    _tied_weights_keys = {
        "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
        "cls.predictions.decoder.bias": "cls.predictions.bias",
    }

    def __init__(self, config: CloudConfig):
        super().__init__(config)
        self._init_encoder(config)
        self.cls = BertOnlyMLMHead(config.to_bert_config())
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.cls.predictions.decoder

    def set_output_embeddings(self, new_embeddings: nn.Linear) -> None:
        self.cls.predictions.decoder = new_embeddings
        self.cls.predictions.bias = new_embeddings.bias

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ) -> MaskedLMOutput:
        """``labels`` [B, L]: token ids at masked positions, ``-100`` elsewhere (ignored)."""
        outputs = self.encode(input_ids, attention_mask, **kwargs)
        logits = self.cls(outputs.last_hidden_state)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(
                logits.view(-1, logits.size(-1)).float(),
                labels.view(-1).to(logits.device),
                ignore_index=-100,
            )
        return MaskedLMOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )


@dataclass
class CloudRegressionOutput(ModelOutput):
    """Output of :class:`CloudForRegression`.

    loss: MSE between ``logits`` and the standardised labels (when labels are given).
    logits: standardised predictions, [B] if ``num_targets == 1`` else [B, num_targets].
    predictions: ``logits * target_std + target_mean``, in the targets' original units.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    predictions: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


def _stat(value, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(value, dtype=like.dtype, device=like.device)


class CloudForRegression(CloudPreTrainedModel):
    """CLOUD fine-tuning model: MLP head on the final ``[CLS]`` vector.

    The head is trained on standardised targets: labels (original units) are mapped to
    ``(y - target_mean) / target_std`` inside ``forward`` using the config's statistics, which
    the trainer sets from the training fold before training.
    """

    def __init__(self, config: CloudConfig):
        super().__init__(config)
        self._init_encoder(config)
        self.head = CloudMLPHead(
            config.hidden_size, config.head_hidden_sizes, config.num_targets, config.head_dropout
        )
        self.post_init()

    def standardize(self, values: torch.Tensor) -> torch.Tensor:
        """Original units -> standardised (uses ``config.target_mean/std``)."""
        return (values - _stat(self.config.target_mean, values)) / _stat(
            self.config.target_std, values
        )

    def destandardize(self, values: torch.Tensor) -> torch.Tensor:
        """Standardised -> original units."""
        return values * _stat(self.config.target_std, values) + _stat(
            self.config.target_mean, values
        )

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ) -> CloudRegressionOutput:
        """``labels``: [B] or [B, num_targets] in the targets' original units."""
        outputs, cls = self._encode_cls(input_ids, attention_mask, **kwargs)
        logits = self.head(cls)  # [B, num_targets]
        if self.config.num_targets == 1:
            logits = logits.squeeze(-1)
        predictions = self.destandardize(logits)
        loss = None
        if labels is not None:
            target = self.standardize(labels.to(logits).reshape(logits.shape))
            loss = nn.functional.mse_loss(logits.float(), target.float())
        return CloudRegressionOutput(
            loss=loss,
            logits=logits,
            predictions=predictions,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )


__all__ = [
    "CloudForMaskedLM",
    "CloudForRegression",
    "CloudMLPHead",
    "CloudPreTrainedModel",
    "CloudRegressionOutput",
]
