"""Which encoder a CLOUD model starts from, and the tokenizer it needs.

Two checkpoint formats load as the encoder of every CLOUD model (regression, input
ablations, CLOUD-DEBYE):

* the project's (``model_type: cloud``, e.g. ``cloud/pretrained/cloud-small-offline`` or what
  ``python -m cloud.train.pretrain`` writes): ``config.json`` records the tokenizer
  (``scope_tokenizer``) and the tokenizer files lie beside the weights;
* the authors' (``model_type: bert``): a ``BertForMaskedLM`` written by ``Trainer.save_model``,
  with or without tokenizer files. Without them the paper's WordPiece tokenizer is assumed
  (their release ships none) and :attr:`EncoderSource.tokenizer_source` says so.

Either way the MLM head is dropped, the encoder's own sizes are kept, and an encoder whose
embedding rows follow another tokenizer than the one asked for is refused
(:class:`~cloud.tokenizer_kinds.TokenizerMismatchError`, naming the tokenizer it needs).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from cloud.tokenizer_kinds import (
    KINDS,
    build_tokenizer_of_kind,
    check_vocabulary,
    has_tokenizer_files,
    load_saved_tokenizer,
    tokenizer_kind,
)

ASSUMED = "assumed: an authors-format BERT checkpoint without tokenizer files"


@dataclass
class EncoderSource:
    """The encoder a model starts from: ``path`` None means a fresh (scratch) encoder."""

    path: str | None
    format: str  # "cloud", "bert" (the authors') or "scratch"
    tokenizer: str  # "wordlevel" or "paper"
    tokenizer_source: str  # "tokenizer files", "config.json", ASSUMED or "chosen"

    def to_dict(self) -> dict:
        return asdict(self)


def read_config(folder: str | Path) -> dict:
    path = Path(folder) / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"{folder}: no config.json (not a save_pretrained checkpoint)")
    return json.loads(path.read_text())


def needed_tokenizer(folder: str | Path) -> tuple[str, str, str]:
    """(checkpoint format, tokenizer kind it needs, how that is known) of a folder."""
    raw = read_config(folder)
    fmt = raw.get("model_type")
    if fmt == "cloud":
        kind, source = raw.get("scope_tokenizer", "wordlevel"), "config.json"
    elif fmt == "bert":
        kind, source = "paper", ASSUMED
    else:
        raise ValueError(f"{folder}: model_type {fmt!r}; an encoder checkpoint is 'cloud' or "
                         "an authors-format 'bert'")
    if has_tokenizer_files(folder):
        saved = tokenizer_kind(load_saved_tokenizer(folder))
        if fmt == "cloud" and saved != kind:
            raise ValueError(f"{folder}: config.json says the {kind} tokenizer but the saved "
                             f"tokenizer is the {saved} one")
        kind, source = saved, "tokenizer files"
    return fmt, kind, source


def resolve_encoder(pretrained: str | Path | None, tokenizer: str = "auto"):
    """(:class:`EncoderSource`, the tokenizer to feed it) for a checkpoint folder or, with
    ``pretrained=None``, a fresh encoder (``auto`` then means the word-level tokenizer)."""
    if tokenizer not in ("auto", *KINDS):
        raise ValueError(f"tokenizer must be auto or one of {KINDS}, not {tokenizer!r}")
    if pretrained is None:
        kind = "wordlevel" if tokenizer == "auto" else tokenizer
        source = EncoderSource(None, "scratch", kind, "chosen")
        return source, build_tokenizer_of_kind(kind)
    fmt, kind, how = needed_tokenizer(pretrained)
    raw = read_config(pretrained)
    check_vocabulary(kind if tokenizer == "auto" else tokenizer, int(raw["vocab_size"]), kind,
                     f"encoder {pretrained}")
    source = EncoderSource(str(pretrained), fmt, kind, how)
    if how == "tokenizer files":
        return source, load_saved_tokenizer(pretrained)
    return source, build_tokenizer_of_kind(kind)  # no files: the one config.json names


def load_encoder_into(cls, folder: str | Path, **config):
    """A ``cls`` model (regression, Debye, MLM, bare encoder) whose encoder is loaded from
    ``folder`` (project or authors' format); ``config`` keywords set the rest."""
    raw = read_config(folder)
    if raw.get("model_type") == "bert":
        from transformers import BertConfig

        from cloud.model.config import CloudConfig

        bert = BertConfig.from_pretrained(folder)
        cfg = CloudConfig.from_bert_config(bert, scope_tokenizer="paper", **config)
        return cls.from_pretrained(folder, config=cfg)
    return cls.from_pretrained(folder, **config)


__all__ = ["ASSUMED", "EncoderSource", "load_encoder_into", "needed_tokenizer",
           "read_config", "resolve_encoder"]
