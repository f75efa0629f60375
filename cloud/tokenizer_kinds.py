"""The two SCOPE tokenizers and how a checkpoint says which one it needs.

* ``wordlevel`` (:mod:`cloud.tokenizer`): one id per SCOPE token, built from the grammar;
  the project's own encoders (e.g. the committed ``cloud-small-offline``) use it.
* ``paper`` (:mod:`cloud.paper_tokenizer`): the authors' WordPiece ``BertTokenizer``; their
  released checkpoint and encoders made here with the paper's recipe use it.

An encoder's embedding row *i* belongs to token *i* of one of them only, so the kind is
recorded with every checkpoint (``CloudConfig.scope_tokenizer``, and the tokenizer files
saved beside the weights) and :func:`load_saved_tokenizer` tells the kinds apart by their
vocabularies, never by file names.
"""

from __future__ import annotations

from pathlib import Path

KINDS = ("wordlevel", "paper")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")


class TokenizerMismatchError(ValueError):
    """An encoder and a tokenizer whose ids name different tokens (the message says which
    tokenizer the encoder needs)."""


def build_tokenizer_of_kind(kind: str):
    """A fresh tokenizer of ``kind`` (``wordlevel`` or ``paper``)."""
    if kind == "wordlevel":
        from cloud.tokenizer import build_tokenizer

        return build_tokenizer()
    if kind == "paper":
        from cloud.paper_tokenizer import build_paper_tokenizer

        return build_paper_tokenizer()
    raise ValueError(f"unknown tokenizer {kind!r}; choose from {KINDS}")


def tokenizer_kind(tokenizer) -> str:
    """``paper`` (exactly the authors' vocabulary) or ``wordlevel`` (whole SCOPE tokens, no
    WordPiece pieces, ``[PAD]`` = 0), from the vocabulary itself; ``ValueError`` otherwise."""
    from cloud.paper_tokenizer import paper_vocabulary

    vocab = tokenizer.get_vocab()
    if vocab == paper_vocabulary():
        return "paper"
    if not any(tok.startswith("##") for tok in vocab) and vocab.get("[PAD]") == 0:
        return "wordlevel"  # whole SCOPE tokens, [PAD] first (cloud.tokenizer)
    raise ValueError(f"a tokenizer of {len(vocab)} tokens that is neither the word-level SCOPE "
                     "tokenizer nor the paper's WordPiece tokenizer")


def has_tokenizer_files(folder: str | Path) -> bool:
    return any((Path(folder) / name).exists() for name in TOKENIZER_FILES)


def load_saved_tokenizer(folder: str | Path):
    """The tokenizer saved in a checkpoint folder (either kind, ``save_pretrained`` format)."""
    folder = Path(folder)
    if (folder / "tokenizer.json").exists():
        from transformers import PreTrainedTokenizerFast

        tokenizer = PreTrainedTokenizerFast.from_pretrained(folder)
        if tokenizer_kind(tokenizer) == "paper":  # the paper's, with BERT's own class
            from transformers import BertTokenizer

            return BertTokenizer.from_pretrained(str(folder), do_lower_case=False)
        return tokenizer
    from transformers import BertTokenizer

    return BertTokenizer.from_pretrained(str(folder), do_lower_case=False)


def check_vocabulary(kind: str, vocab_size: int, needed: str, where: str) -> None:
    """Refuse an encoder (``needed`` tokenizer, ``vocab_size`` embedding rows) fed by a
    ``kind`` tokenizer, saying which tokenizer it needs."""
    size = len(build_tokenizer_of_kind(needed))
    if kind != needed:
        raise TokenizerMismatchError(
            f"{where} needs the {needed} tokenizer (its {vocab_size} embedding rows follow that "
            f"vocabulary), not the {kind} one: set tokenizer: {needed} (or auto)")
    if vocab_size < size or (needed == "wordlevel" and vocab_size != size):
        raise TokenizerMismatchError(
            f"{where} has {vocab_size} embedding rows; the {needed} tokenizer has {size} tokens")


__all__ = ["KINDS", "TokenizerMismatchError", "build_tokenizer_of_kind", "check_vocabulary",
           "has_tokenizer_files", "load_saved_tokenizer", "tokenizer_kind"]
