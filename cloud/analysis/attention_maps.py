"""[CLS] attention rows of a CLOUD encoder, and the SCOPE section of every token.

The extraction the attention statistics (:mod:`cloud.analysis.attention`) and its plots
(:mod:`cloud.analysis.attention_plots`) both start from: eager attention, the ``[CLS]`` query
row of every layer and head, unpadded; section labels aligned with the encoder's tokens.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from cloud.scope.ablations import PARTS as SECTIONS  # the SCOPE parts, in order

SPECIAL_WORDS = frozenset({"[CLS]", "[SEP]", "[PAD]"})


def token_sections(text: str, parts: Sequence[str] = SECTIONS) -> list[str]:
    """Label every whitespace-separated word of a SCOPE string with its section.

    ``text`` may contain ``[CLS]``/``[SEP]``/``[PAD]`` words (e.g. a decoded encoder input);
    they are labelled ``special``. ``parts``: the sections of the string in order (fewer for
    an ablated input). Raises ``ValueError`` for more ``|`` than ``len(parts) - 1``.
    """
    labels: list[str] = []
    part = 0
    for word in text.split():
        if word in SPECIAL_WORDS:
            labels.append("special")
        elif word == "|":
            labels.append("separator")
            part += 1
            if part >= len(parts):
                raise ValueError(f"a string of parts {tuple(parts)} has at most "
                                 f"{len(parts) - 1} '|' separators: {text!r}")
        else:
            labels.append(parts[part])
    return labels


def encoded_sections(
    tokenizer, texts: Sequence[str], max_length: int | None = None,
    parts: Sequence[str] = SECTIONS,
) -> list[list[str]]:
    """Section labels aligned with the encoder input of each text (``[CLS]`` ... ``[SEP]``,
    unpadded, truncated to ``max_length`` like :func:`cls_attention`)."""
    enc = tokenizer(list(texts), truncation=max_length is not None, max_length=max_length)
    out = []
    for i, text in enumerate(texts):
        words = token_sections(text, parts)
        out.append(["special" if w is None else words[w] for w in enc.word_ids(i)])
    return out


def _encoder(model):
    """The encoder of a CLOUD model (``model.encode``: element features included), or the
    model itself (a bare ``BertModel``)."""
    return getattr(model, "encode", model)


@contextmanager
def _eager_eval(model) -> Iterator[None]:
    """Eval mode + eager attention (SDPA returns no weights); both restored afterwards."""
    previous = getattr(model.config, "_attn_implementation", None)
    was_training = model.training
    if previous != "eager":
        model.set_attn_implementation("eager")
    model.eval()
    try:
        yield
    finally:
        if previous not in (None, "eager"):
            model.set_attn_implementation(previous)
        model.train(was_training)


def input_max_length(model, tokenizer) -> int:
    """Tokens per encoder input: the smaller of the model's positions and the tokenizer's."""
    limit = getattr(model.config, "max_position_embeddings", None) or tokenizer.model_max_length
    return int(min(limit, tokenizer.model_max_length))


@torch.no_grad()
def layer_attentions(model, tokenizer, texts: Sequence[str], batch_size: int = 64):
    """Yield, per text, the ``[CLS]`` attention rows of every layer and head as an array
    ``[layers, heads, tokens]`` (unpadded tokens, float64)."""
    max_length = input_max_length(model, tokenizer)
    device = next(model.parameters()).device
    with _eager_eval(model):
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            enc = tokenizer(
                batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            )
            mask = enc["attention_mask"].to(device)
            out = _encoder(model)(
                input_ids=enc["input_ids"].to(device),
                attention_mask=mask,
                output_attentions=True,
                return_dict=True,
            )
            if out.attentions is None:
                raise RuntimeError("the encoder returned no attentions (eager attention needed)")
            # each layer: [B, heads, query, key] -> [CLS] query row -> [B, layers, heads, key]
            rows = torch.stack([a[:, :, 0, :] for a in out.attentions], dim=1)
            rows = rows.double().cpu().numpy()
            for b, n in enumerate(mask.sum(dim=1).tolist()):
                yield rows[b, :, :, : int(n)]


def cls_attention(
    model, tokenizer, texts: Sequence[str], layer: int = 0, batch_size: int = 64
) -> list[np.ndarray]:
    """Attention from ``[CLS]`` (query 0) to every token in ``layer`` (0 = first hidden
    layer; negative counts from the end), mean over heads; one unpadded array per text."""
    return [
        rows[layer].mean(axis=0) for rows in layer_attentions(model, tokenizer, texts, batch_size)
    ]
