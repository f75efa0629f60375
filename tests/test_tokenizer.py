"""The SCOPE tokenizer: grammar-built vocabulary, no [UNK] on real strings, HF round trip."""

from __future__ import annotations

import csv
import gzip

import pytest

from cloud.tokenizer import build_tokenizer, scope_vocabulary
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


def _reference_strings(limit=None):
    with gzip.open(shared_file("scope_reference/pretrain_optimade_10k.csv.gz"), "rt") as fh:
        rows = [r["scope"] for r in csv.DictReader(fh)]
    with open(shared_file("scope_reference/phonon.csv"), newline="") as fh:
        rows += [r["scope"] for r in csv.DictReader(fh)]
    with open(shared_file("scope_reference/matbench_dielectric.csv"), newline="") as fh:
        rows += [r["scope"] for r in csv.DictReader(fh)]
    return rows[:limit]


def test_vocabulary_is_unique_and_special_first():
    vocab = scope_vocabulary()
    assert len(vocab) == len(set(vocab))
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    for token in ("a", "n", "O", "X", "|", "4a", "192l", "Og", "0.0", "0.33", "1.0"):
        assert token in vocab


def test_every_token_of_the_papers_strings_is_known(tokenizer):
    """All 16k reference SCOPE strings (OPTIMADE sample, phonon, dielectric) tokenize without
    [UNK], one token per space-separated word, wrapped in [CLS] ... [SEP]."""
    unk = tokenizer.unk_token_id
    for text in _reference_strings():
        ids = tokenizer(text, truncation=False)["input_ids"]
        assert unk not in ids, text
        assert len(ids) == len(text.split()) + 2
        assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id


def test_unknown_word_maps_to_unk(tokenizer):
    ids = tokenizer("0 1 a O O O 0 | 4a | Qq 1.0")["input_ids"]
    assert ids.count(tokenizer.unk_token_id) == 1


def test_save_and_load_round_trip(tokenizer, tmp_path):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    tokenizer.save_pretrained(tmp_path)
    for loaded in (PreTrainedTokenizerFast.from_pretrained(tmp_path),
                   AutoTokenizer.from_pretrained(tmp_path)):
        assert loaded.get_vocab() == tokenizer.get_vocab()
        texts = _reference_strings(50)
        assert loaded(texts)["input_ids"] == tokenizer(texts)["input_ids"]
        assert loaded.mask_token == "[MASK]" and loaded.pad_token_id == 0
        assert loaded.model_max_length == tokenizer.model_max_length


def test_batch_padding_is_dynamic(tokenizer):
    texts = _reference_strings(8)
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    longest = max(len(t.split()) for t in texts) + 2
    assert batch["input_ids"].shape == (8, longest)
    assert (batch["attention_mask"].sum(1) == batch["input_ids"].ne(0).sum(1)).all()
