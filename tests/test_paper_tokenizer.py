"""The paper's WordPiece tokenizer gives the authors' token ids on the authors' own SCOPE
strings (real data: scope_reference/matbench_dielectric.csv and phonon.csv), reads the
project's paper-mode strings without [UNK], and is told apart from the word-level one."""

from __future__ import annotations

import csv
import json
from functools import cache

import pytest

from cloud.paper_tokenizer import FILES_DIR, PAPER_VOCAB_SIZE, build_paper_tokenizer
from cloud.tokenizer import build_tokenizer, scope_vocabulary
from cloud.tokenizer_kinds import load_saved_tokenizer, tokenizer_kind
from tests.conftest import REPO, shared_file

AUTHORS_DIR = REPO.parent / "shared" / "reference" / "cloud_authors"
FILES = ("vocab.txt", "added_tokens.json", "special_tokens_map.json", "tokenizer_config.json")


def _strings(name: str) -> list[str]:
    with open(shared_file(f"scope_reference/{name}"), newline="") as fh:
        return [row["scope"] for row in csv.DictReader(fh)]


@cache
def _authors_files() -> tuple[dict, dict]:
    vocab = {t: i for i, t in enumerate((AUTHORS_DIR / "vocab.txt").read_text().splitlines())}
    return vocab, json.loads((AUTHORS_DIR / "added_tokens.json").read_text())


def _authors_ids(text: str) -> list[int]:
    """The ids BERT's tokenizer gives with the authors' files, computed here from those files
    alone: added tokens (the fractions) whole, other words greedy longest-match WordPiece
    after BERT's split at punctuation (``.``)."""
    vocab, added = _authors_files()
    ids = [vocab["[CLS]"]]
    for word in text.split():
        if word in added:
            ids.append(added[word])
            continue
        pieces = word.replace(".", " . ").split()
        for piece in pieces:
            start = 0
            while start < len(piece):
                end = len(piece)
                while end > start:
                    sub = piece[start:end] if start == 0 else "##" + piece[start:end]
                    if sub in vocab:
                        ids.append(vocab[sub])
                        break
                    end -= 1
                else:
                    ids.append(vocab["[UNK]"])
                    break
                start = end
    return ids + [vocab["[SEP]"]]


@pytest.fixture(scope="module")
def paper():
    return build_paper_tokenizer()


def test_package_copy_is_the_authors_files():
    if not AUTHORS_DIR.exists():
        pytest.skip(f"{AUTHORS_DIR} not found")
    for name in FILES:
        assert (FILES_DIR / name).read_bytes() == (AUTHORS_DIR / name).read_bytes(), name


@pytest.mark.parametrize("name", ["matbench_dielectric.csv", "phonon.csv"])
def test_authors_ids_on_the_authors_strings(paper, name):
    if not AUTHORS_DIR.exists():
        pytest.skip(f"{AUTHORS_DIR} not found")
    texts = _strings(name)
    assert len(texts) > 1000
    encoded = paper(texts)["input_ids"]
    unk = paper.unk_token_id
    for text, ids in zip(texts, encoded, strict=True):
        assert unk not in ids, text
        assert ids == _authors_ids(text), text
        back = paper.decode(ids, skip_special_tokens=True)
        assert back.split() == text.split(), text
    # fractions are matched whole: one token each, ids 463-563
    fracs = [i for ids in encoded for i in ids if 463 <= i <= 563]
    assert len(fracs) == sum(len(t.split(" | ")[2].split()) // 2 for t in texts)


def test_every_token_the_project_writes_reads_without_unk(paper):
    """Every token of the project's SCOPE grammar (generator letters, every Wyckoff symbol of
    the 230 groups, 118 elements, every fraction): no [UNK], decoded back to itself."""
    tokens = [t for t in scope_vocabulary() if not t.startswith("[")]
    for token in tokens:
        ids = paper(token, add_special_tokens=False)["input_ids"]
        assert paper.unk_token_id not in ids, token
        assert paper.decode(ids) == token, token


def test_paper_mode_strings_read_as_the_authors_strings(paper):
    """The project's paper-mode writer on real structures (the phonon subset), generator
    strings from the paper's table: token ids as the authors' tokenizer gives them, no [UNK];
    where a string equals the authors' own for that material, the ids are the same."""
    if not AUTHORS_DIR.exists():
        pytest.skip(f"{AUTHORS_DIR} not found")
    from cloud.scope.encoder import ScopeEncoder
    from cloud.scope.inputs import read_inputs

    structures = dict(read_inputs(shared_file("phonon/structures.subset.json.gz")))
    with open(shared_file("scope_reference/phonon.csv"), newline="") as fh:
        authors = {row["mp_id"]: row["scope"] for row in csv.DictReader(fh)}
    encoder = ScopeEncoder(generators="table")
    same = 0
    for mp_id in sorted(structures)[:150]:
        text = encoder.encode(structures[mp_id])
        ids = paper(text)["input_ids"]
        assert paper.unk_token_id not in ids and ids == _authors_ids(text), text
        if text == authors[mp_id]:
            same += 1
            assert ids == paper(authors[mp_id])["input_ids"]
    assert same > 20


def test_shape_and_special_ids(paper):
    assert len(paper) == 564 < PAPER_VOCAB_SIZE
    assert (paper.cls_token_id, paper.pad_token_id, paper.sep_token_id) == (0, 1, 2)
    assert paper.model_max_length == 64


def test_kinds_are_told_apart_and_survive_save_pretrained(paper, tmp_path):
    word = build_tokenizer()
    assert tokenizer_kind(paper) == "paper" and tokenizer_kind(word) == "wordlevel"
    for tok, kind in ((paper, "paper"), (word, "wordlevel")):
        tok.save_pretrained(tmp_path / kind)
        again = load_saved_tokenizer(tmp_path / kind)
        assert tokenizer_kind(again) == kind
        text = "1 6 a O D D | 4a 4b | Na 0.5 Cl 0.5"
        assert again(text)["input_ids"] == tok(text)["input_ids"]
    assert load_saved_tokenizer(AUTHORS_DIR if AUTHORS_DIR.exists() else FILES_DIR).get_vocab() \
        == paper.get_vocab()


def test_table_generators_for_the_three_errata_only():
    from cloud.scope.degraef import generator_string
    from cloud.scope.errata import apply_generator_table, with_table_generators

    table = json.loads(shared_file("scope_reference/generator_strings.json").read_text())
    for number in range(1, 231):
        text = " ".join(generator_string(number)) + " | 4a | Na 1.0"
        out = with_table_generators(text)
        assert out.split(" | ")[0].replace(" ", "") == table[str(number)], number
        assert out.split(" | ")[1:] == ["4a", "Na 1.0"]
        assert (out != text) == (number in (39, 131, 222))
        assert with_table_generators(out) == out  # table strings stay as they are
    assert apply_generator_table(["x | y"], "project") == ["x | y"]
    with pytest.raises(ValueError):
        apply_generator_table([], "paper")
