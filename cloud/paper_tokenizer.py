"""The paper's WordPiece tokenizer: the one the authors' released checkpoint was trained with.

Built from the authors' own files (``cloud/paper_tokenizer_files/``, see ``SOURCE.md``
there): a case-sensitive BERT WordPiece vocabulary of 463 entries plus the 101 composition
fractions ``0.0`` ... ``1.0`` as added tokens (matched whole), 564 ids in all. The authors'
checkpoint keeps ``BertConfig``'s default of 30522 embedding rows; rows 564 and up are never
used. Sequences get ``[CLS] ... [SEP]`` and at most 64 tokens, as in the authors' code.

Note the ids of the special tokens differ from the word-level tokenizer's: here ``[CLS]`` is
0 and ``[PAD]`` is 1.
"""

from __future__ import annotations

from pathlib import Path

FILES_DIR = Path(__file__).with_name("paper_tokenizer_files")
#: Embedding rows of the authors' checkpoint (``BertConfig``'s default ``vocab_size``).
PAPER_VOCAB_SIZE = 30522
PAPER_MAX_LENGTH = 64
#: The BERT settings of the authors' encoder that are not sizes (their ``BertConfig`` keeps
#: the defaults: ``pad_token_id`` 0, which in their vocabulary is ``[CLS]``).
PAPER_BERT_SETTINGS = {"vocab_size": PAPER_VOCAB_SIZE, "pad_token_id": 0,
                       "max_position_embeddings": PAPER_MAX_LENGTH, "type_vocab_size": 1}


def build_paper_tokenizer(max_length: int = PAPER_MAX_LENGTH):
    """The authors' ``BertTokenizer`` (``do_lower_case=False``), ``model_max_length`` 64."""
    from transformers import BertTokenizer

    return BertTokenizer.from_pretrained(str(FILES_DIR), do_lower_case=False,
                                         model_max_length=max_length)


def paper_vocabulary() -> dict[str, int]:
    """Token -> id of the paper's tokenizer (WordPiece entries and added fractions)."""
    import json

    vocab = {line.rstrip("\n"): i for i, line in
             enumerate((FILES_DIR / "vocab.txt").read_text().splitlines())}
    vocab.update(json.loads((FILES_DIR / "added_tokens.json").read_text()))
    return vocab


__all__ = ["FILES_DIR", "PAPER_BERT_SETTINGS", "PAPER_MAX_LENGTH", "PAPER_VOCAB_SIZE",
           "build_paper_tokenizer", "paper_vocabulary"]
