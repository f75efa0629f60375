"""Configuration of CLOUD: a BERT encoder over SCOPE strings plus its fine-tuning heads.

``CloudConfig`` is a transformers 5.x config (a ``@strict`` dataclass, like ``BertConfig``):
fields are keyword-only, unknown keywords become plain attributes, and ``validate_*``
methods run on construction. It holds

* the BERT sizes, handed to ``transformers.BertModel`` through :meth:`CloudConfig.to_bert_config`;
* the MLP head on the ``[CLS]`` vector (``head_hidden_sizes``, ``head_dropout``, SiLU);
* the target standardisation statistics (``target_mean``/``target_std``, set by the trainer
  from the training fold; saved in ``config.json`` so a reloaded model predicts in original units);
* the CLOUD-DEBYE options. The Debye temperature is
  ``theta = theta_shift + theta_scale * softplus(raw)`` in K, with ``raw`` the head output.
  The defaults (``theta_shift=10``, ``theta_scale=400``) give ``10 + 400 ln 2 ~ 287 K`` for
  an untrained head (``raw ~ 0``), a typical Debye temperature, and keep ``theta >= 10 K``
  for any ``raw`` (``theta_shift`` is the floor; it must be >= 0 and the model additionally
  clamps theta at 1e-2 K so ``theta_shift=0`` stays finite).
"""

from __future__ import annotations

from typing import Literal

from huggingface_hub.dataclasses import strict
from transformers import BertConfig, PreTrainedConfig

#: Named encoder sizes: (num_hidden_layers, hidden_size, num_attention_heads).
#: ``base`` is the paper's 12 layers / 768 hidden / 12 heads; the smaller ones span the
#: scaling-law sweep (paper Table S1 uses 1, 3, 6, 12 layers and 1, 4, 12 heads).
PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"num_hidden_layers": 2, "hidden_size": 128, "num_attention_heads": 2},
    "small": {"num_hidden_layers": 4, "hidden_size": 256, "num_attention_heads": 4},
    "medium": {"num_hidden_layers": 6, "hidden_size": 384, "num_attention_heads": 6},
    "base": {"num_hidden_layers": 12, "hidden_size": 768, "num_attention_heads": 12},
}

Number = float | int


@strict
class CloudConfig(PreTrainedConfig):
    r"""CLOUD configuration (encoder sizes, regression / Debye head, target statistics).

    Args:
        vocab_size: size of the SCOPE vocabulary (``len(build_tokenizer())``).
        hidden_size, num_hidden_layers, num_attention_heads: BERT sizes (paper: 768/12/12).
        intermediate_size: feed-forward width; ``None`` means ``4 * hidden_size``.
        hidden_act: activation inside the encoder (BERT's ``gelu``).
        max_position_embeddings: 64 in the paper (SCOPE strings average ~31 tokens).
        type_vocab_size: 1 (single-segment inputs).
        head_hidden_sizes: widths of the MLP head's hidden layers; ``[]`` is a single linear
            layer (the paper's MatBench setting). Hidden layers use SiLU.
        head_dropout: dropout on the ``[CLS]`` vector and after every hidden head layer.
        num_targets: outputs of :class:`CloudForRegression`.
        target_mean, target_std: standardisation of the regression targets (a number, or
            one number per target). The Debye model uses ``target_std`` (a number) only to
            scale its loss.
        debye_target: ``"cv"`` (heat capacity, J/(mol-cell K)) or ``"u"`` (phonon internal
            energy, J/mol-cell): what :class:`CloudForDebye` predicts and is trained on.
        theta_shift, theta_scale: ``theta = theta_shift + theta_scale * softplus(raw)`` in K.
        debye_temperature: default temperature (K) of the Debye predictions (the paper's
            Cv/U data are at 300 K).
        debye_loss: ``"value"`` (the paper's: MSE of Cv or U over ``target_std**2``) or
            ``"log_theta"``: MSE of log Θ against the Θ each label implies
            (:mod:`cloud.debye.inverse`) over ``theta_log_std**2``; a label no Debye solid
            reproduces (e.g. U below 3NRT) keeps the value loss. Same labels, same model:
            only the space the error is measured in changes (see :mod:`cloud.model.debye`).
        theta_log_std: std of log Θ implied by the training labels (set by the trainer).
        element_features: pymatgen ``Element`` property names added, through a learned
            linear map, to the embeddings of the composition's element tokens
            (:mod:`cloud.model.element_features`); ``None`` (default) is the paper's CLOUD.
        scope_tokenizer: the tokenizer whose ids the embedding rows follow: ``"wordlevel"``
            (:mod:`cloud.tokenizer`, the project's encoders) or ``"paper"`` (the authors'
            WordPiece tokenizer, :mod:`cloud.paper_tokenizer`). Loaders refuse the other one.
    """

    model_type = "cloud"

    vocab_size: int = 2048
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int | None = None
    hidden_act: str = "gelu"
    hidden_dropout_prob: Number = 0.1
    attention_probs_dropout_prob: Number = 0.1
    max_position_embeddings: int = 64
    type_vocab_size: int = 1
    initializer_range: Number = 0.02
    layer_norm_eps: Number = 1e-12
    pad_token_id: int | None = 0
    tie_word_embeddings: bool = True

    head_hidden_sizes: list[int] | None = None
    head_dropout: Number = 0.1
    num_targets: int = 1
    target_mean: Number | list[Number] = 0.0
    target_std: Number | list[Number] = 1.0

    debye_target: Literal["cv", "u"] = "cv"
    theta_shift: Number = 10.0
    theta_scale: Number = 400.0
    debye_temperature: Number = 300.0
    debye_loss: Literal["value", "log_theta"] = "value"
    theta_log_std: Number = 1.0
    element_features: list[str] | None = None
    scope_tokenizer: Literal["wordlevel", "paper"] = "wordlevel"

    def __post_init__(self, **kwargs):
        if self.intermediate_size is None:
            self.intermediate_size = 4 * self.hidden_size
        if self.head_hidden_sizes is None:
            self.head_hidden_sizes = []
        # SDPA by default (transformers also falls back to it, but be explicit).
        kwargs.setdefault("attn_implementation", "sdpa")
        super().__post_init__(**kwargs)

    # ``@strict`` runs every ``validate_*`` method after construction.
    def validate_architecture(self):
        """Part of `@strict`-powered validation: sizes are consistent."""
        if self.hidden_size % self.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) is not a multiple of "
                f"num_attention_heads ({self.num_attention_heads})"
            )
        if any(int(h) <= 0 for h in self.head_hidden_sizes or []):
            raise ValueError(f"head_hidden_sizes must be positive, got {self.head_hidden_sizes}")
        if self.num_targets < 1:
            raise ValueError(f"num_targets must be >= 1, got {self.num_targets}")
        if self.element_features and self.scope_tokenizer != "wordlevel":
            raise ValueError("element_features index the word-level tokenizer's ids; they are "
                             "not available with the paper's tokenizer")

    def validate_targets(self):
        """Part of `@strict`-powered validation: standardisation and Debye options."""
        for name in ("target_mean", "target_std"):
            value = getattr(self, name)
            if isinstance(value, list) and len(value) not in (1, self.num_targets):
                raise ValueError(
                    f"{name} has {len(value)} entries but num_targets={self.num_targets}"
                )
        stds = self.target_std if isinstance(self.target_std, list) else [self.target_std]
        if any(s <= 0 for s in stds):
            raise ValueError(f"target_std must be positive, got {self.target_std}")
        if self.debye_loss not in ("value", "log_theta"):
            raise ValueError(f"debye_loss must be 'value' or 'log_theta', got {self.debye_loss!r}")
        if self.theta_log_std <= 0:
            raise ValueError(f"theta_log_std must be positive, got {self.theta_log_std}")
        if self.theta_scale <= 0 or self.theta_shift < 0:
            raise ValueError(
                f"need theta_scale > 0 and theta_shift >= 0, got {self.theta_scale}, "
                f"{self.theta_shift}"
            )

    @classmethod
    def preset(cls, name: str, **overrides) -> CloudConfig:
        """A named size (``tiny``, ``small``, ``medium``, ``base``); keywords override fields."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})

    @classmethod
    def from_bert_config(cls, bert: BertConfig, **overrides) -> CloudConfig:
        """The encoder of a ``BertConfig`` (e.g. the authors' checkpoint: 12 x 768, 64
        positions, 30522 rows) as a CLOUD config; keywords set the head and the rest."""
        names = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                 "intermediate_size", "hidden_act", "hidden_dropout_prob",
                 "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size",
                 "initializer_range", "layer_norm_eps", "pad_token_id")
        return cls(**{**{n: getattr(bert, n) for n in names}, **overrides})

    def to_bert_config(self) -> BertConfig:
        """The ``BertConfig`` of the encoder (same sizes, attention implementation kept)."""
        return BertConfig(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            intermediate_size=self.intermediate_size,
            hidden_act=self.hidden_act,
            hidden_dropout_prob=self.hidden_dropout_prob,
            attention_probs_dropout_prob=self.attention_probs_dropout_prob,
            max_position_embeddings=self.max_position_embeddings,
            type_vocab_size=self.type_vocab_size,
            initializer_range=self.initializer_range,
            layer_norm_eps=self.layer_norm_eps,
            pad_token_id=self.pad_token_id,
            tie_word_embeddings=self.tie_word_embeddings,
            is_decoder=False,
            add_cross_attention=False,
            use_cache=False,
            attn_implementation=self._attn_implementation,
            dtype=self.dtype,
        )


__all__ = ["PRESETS", "CloudConfig"]
