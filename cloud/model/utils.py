"""Parameter helpers: counts for the scaling law, encoder/head split for freezing."""

from __future__ import annotations

from collections.abc import Iterator

from torch import nn


def _encoder(model: nn.Module) -> nn.Module:
    encoder = getattr(model, "bert", None)
    if encoder is None:
        raise TypeError(f"{type(model).__name__} has no `bert` encoder")
    return encoder


def _embedding_tables(model: nn.Module) -> set[int]:
    """ids of the token, position and token-type embedding matrices (and anything tied)."""
    emb = _encoder(model).embeddings
    tables = (emb.word_embeddings, emb.position_embeddings, emb.token_type_embeddings)
    return {id(table.weight) for table in tables}


def _unique(params: Iterator[nn.Parameter]) -> list[nn.Parameter]:
    seen: set[int] = set()
    out = []
    for p in params:
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def count_parameters(
    model: nn.Module,
    non_embedding: bool = True,
    encoder_only: bool = False,
    trainable_only: bool = False,
) -> int:
    """Number of parameters of ``model`` (tied weights counted once).

    ``non_embedding`` (the scaling-law count, Kaplan et al.): leave out the token, position and
    token-type embedding matrices (the MLM decoder weight is tied to the token embeddings and
    so goes too; the embedding LayerNorm, the MLM decoder's bias and the heads stay).
    ``encoder_only``: count ``model.bert`` alone (the paper's "non-embedding parameters in the
    BERT encoder"). ``trainable_only``: only parameters with ``requires_grad``.
    """
    module = _encoder(model) if encoder_only else model
    skip = _embedding_tables(model) if non_embedding else set()
    return sum(
        p.numel()
        for p in _unique(module.parameters())
        if id(p) not in skip and (p.requires_grad or not trainable_only)
    )


def encoder_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Parameters of the BERT encoder ``model.bert`` (embeddings included)."""
    return _unique(_encoder(model).parameters())


def head_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Every parameter of ``model`` outside the encoder (the task head)."""
    enc = {id(p) for p in encoder_parameters(model)}
    return [p for p in _unique(model.parameters()) if id(p) not in enc]


def set_encoder_trainable(model: nn.Module, trainable: bool) -> None:
    """Freeze (``False``) or unfreeze (``True``) the encoder, e.g. for the first epochs.

    Dropout inside a frozen encoder still follows ``model.train()``/``eval()``.
    """
    for p in encoder_parameters(model):
        p.requires_grad_(trainable)


__all__ = ["count_parameters", "encoder_parameters", "head_parameters", "set_encoder_trainable"]
