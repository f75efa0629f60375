"""Word-level SCOPE tokenizer built from the SCOPE grammar (not learned from a corpus).

Every token the encoder can emit has its own id: generator flags and counts (digits),
the 14 De Graef rotation letters ``a``-``n``, the translation letters, the ``|``
separator, every Wyckoff symbol of the 230 space groups (``4a``, ``192l``, ...), the 118
element symbols and every two-decimal fraction ``0.0``-``1.0`` as the encoder writes
them. Token strings are shared across parts as in the paper (``O`` is both the zero
translation and oxygen; position embeddings tell them apart).

The result is a ``transformers.PreTrainedTokenizerFast`` with BERT's special tokens that
adds ``[CLS] ... [SEP]`` and round-trips through ``save_pretrained``/``from_pretrained``.
"""

from __future__ import annotations

from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from cloud.scope.elements import SYMBOLS
from cloud.scope.format import SEPARATOR, format_fraction

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
ROTATION_LETTERS = tuple("abcdefghijklmn")
TRANSLATION_LETTERS = tuple("OABCDEFGXYZ")
DIGITS = tuple("0123456789")
DEFAULT_MAX_LENGTH = 64  # the paper's max_position_embeddings


def fraction_tokens() -> tuple[str, ...]:
    return tuple(dict.fromkeys(format_fraction(k / 100) for k in range(101)))


def scope_vocabulary() -> list[str]:
    """All tokens, special tokens first; order is stable so ids never move."""
    from cloud.scope.wyckoff import all_wyckoff_symbols

    groups = (
        SPECIAL_TOKENS,
        (SEPARATOR,),
        DIGITS,
        ROTATION_LETTERS,
        TRANSLATION_LETTERS,
        tuple(all_wyckoff_symbols()),
        SYMBOLS,
        fraction_tokens(),
    )
    return list(dict.fromkeys(tok for group in groups for tok in group))


def build_tokenizer(max_length: int = DEFAULT_MAX_LENGTH) -> PreTrainedTokenizerFast:
    vocab = {tok: i for i, tok in enumerate(scope_vocabulary())}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_length,
        padding_side="right",
    )
