"""CLOUD embeddings: order and batch independence, the cache key, CloudEmbedder as a
scikit-learn transformer, any Hugging Face encoder folder, and the embed command.

Data: the paper's real SCOPE strings of the phonon set and real jdft2d structures; encoder:
the committed small encoder (and its random-init floor). The tiny DistilBERT of
``test_any_hf_encoder_folder`` is randomly initialised here and says so.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from cloud.embeddings import CloudEmbedder, EmbeddingCache, embed, load_encoder
from tests.conftest import shared_file

ENCODER = "cloud/pretrained/cloud-small-offline"


@pytest.fixture(scope="module")
def scopes() -> list[str]:
    with open(shared_file("scope_reference/phonon.csv")) as fh:
        rows = list(csv.DictReader(fh))
    return [r["scope"] for r in rows[:90]]


@pytest.fixture(scope="module")
def encoder():
    return load_encoder(ENCODER)


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_same_vectors_whatever_the_batch_size_and_order(encoder, scopes, pooling):
    whole = embed(encoder, scopes, pooling, batch_size=256)
    small = embed(encoder, scopes, pooling, batch_size=7)
    order = np.random.default_rng(0).permutation(len(scopes))
    shuffled = embed(encoder, [scopes[i] for i in order], pooling, batch_size=16)
    assert whole.shape == (len(scopes), 256) and whole.dtype == np.float32
    np.testing.assert_allclose(small, whole, rtol=0, atol=1e-5)
    np.testing.assert_allclose(shuffled, whole[order], rtol=0, atol=1e-5)
    assert np.abs(whole[0] - whole[1]).max() > 1e-2  # different crystals, different vectors


def test_mean_pooling_ignores_padding(encoder, scopes):
    short = min(scopes, key=len)
    alone = embed(encoder, [short], "mean")
    padded = embed(encoder, [short, max(scopes, key=len)], "mean", batch_size=2)
    np.testing.assert_allclose(padded[0], alone[0], rtol=0, atol=1e-5)
    assert np.abs(embed(encoder, [short], "cls")[0] - alone[0]).max() > 1e-3


def test_random_floor_is_seeded_and_differs(encoder, scopes):
    floor = load_encoder(ENCODER, init="random", seed=0)
    again = load_encoder(ENCODER, init="random", seed=0)
    other = load_encoder(ENCODER, init="random", seed=1)
    assert floor.sha256 == again.sha256 != other.sha256 != encoder.sha256
    assert floor.info == {"path": encoder.info["path"], "format": "cloud", "init": "random",
                          "tokenizer": "wordlevel", "generators": "project", "seed": 0}
    a, b = embed(floor, scopes[:5]), embed(encoder, scopes[:5])
    assert a.shape == b.shape and np.abs(a - b).max() > 1e-2


def test_cache_reused_only_for_same_encoder_input_and_pooling(tmp_path, encoder, scopes):
    cache = EmbeddingCache(tmp_path)
    first, s1 = cache.get(encoder, scopes[:40], "cls")
    assert (s1.n_computed, s1.n_reused, s1.exact_hit) == (len(set(scopes[:40])), 0, False)
    again, s2 = EmbeddingCache(tmp_path).get(encoder, scopes[:40], "cls")  # a new process
    assert s2.exact_hit and s2.n_computed == 0
    np.testing.assert_array_equal(again, first)
    # same strings, other pooling / other encoder: computed afresh
    _, s3 = cache.get(encoder, scopes[:40], "mean")
    floor = load_encoder(ENCODER, init="random", seed=0)
    floor_vectors, s4 = cache.get(floor, scopes[:40], "cls")
    assert s3.n_computed == s4.n_computed == len(set(scopes[:40]))
    assert np.abs(floor_vectors - first).max() > 1e-2
    # another input: only its new strings are computed; a subset adds no entry
    n_files = len(list(tmp_path.rglob("*.npz")))
    sub, s5 = cache.get(encoder, scopes[10:20], "cls")
    assert (s5.n_computed, s5.n_reused, s5.entry) == (0, 10, None)
    np.testing.assert_array_equal(sub, first[10:20])
    assert len(list(tmp_path.rglob("*.npz"))) == n_files
    _, s6 = cache.get(encoder, scopes[30:60], "cls")
    assert (s6.n_computed, s6.n_reused) == (len(set(scopes[40:60]) - set(scopes[:40])), 10)


def test_entry_that_does_not_match_its_name_is_ignored(tmp_path, encoder, scopes):
    cache = EmbeddingCache(tmp_path)
    _, stats = cache.get(encoder, scopes[:5], "cls")
    entry = next(tmp_path.rglob("*.npz"))
    np.savez(entry, texts=np.array(scopes[5:10]), vectors=np.zeros((5, 256), np.float32))
    with pytest.warns(UserWarning, match="does not match its name"):
        vectors, again = EmbeddingCache(tmp_path).get(encoder, scopes[:5], "cls")
    assert again.n_computed == 5 and np.abs(vectors).max() > 0


def test_cloud_embedder_is_a_scikit_learn_transformer(tmp_path, scopes, shared_data):
    from pymatgen.core import Structure
    from sklearn.base import clone

    from cloud.data import read_matbench_structures
    from cloud.scope.encoder import ScopeEncoder

    emb = CloudEmbedder(ENCODER, pooling="mean", cache_dir=str(tmp_path))
    assert emb.get_params()["pooling"] == "mean" and not hasattr(emb, "encoder_sha256_")
    copy = clone(emb).set_params(pooling="cls")
    assert copy.pooling == "cls" and emb.pooling == "mean"
    assert emb.fit(scopes) is emb and len(emb.encoder_sha256_) == 64
    out = emb.transform(scopes[:8])
    assert out.shape == (8, 256) and emb.last_stats_.n_computed == len(set(scopes[:8]))
    assert list(emb.get_feature_names_out()[:2]) == ["mean_0", "mean_1"]
    rows = read_matbench_structures(shared_data / "matbench" / "matbench_jdft2d.json.gz")[:4]
    structures = [Structure.from_dict(d) if isinstance(d, dict) else d for _, d in rows]
    texts = [ScopeEncoder().encode(s) for s in structures]
    np.testing.assert_array_equal(emb.transform(structures), emb.transform(texts))


def test_any_hf_encoder_folder(tmp_path, scopes):
    """A tiny DistilBERT (random weights, made here) with the project's tokenizer saved."""
    from transformers import DistilBertConfig, DistilBertModel

    from cloud.tokenizer import build_tokenizer

    tokenizer = build_tokenizer()
    config = DistilBertConfig(vocab_size=len(tokenizer), dim=32, n_layers=1, n_heads=2,
                              hidden_dim=64, max_position_embeddings=64,
                              pad_token_id=tokenizer.pad_token_id)
    DistilBertModel(config).save_pretrained(tmp_path / "enc")
    tokenizer.save_pretrained(tmp_path / "enc")
    emb = CloudEmbedder(str(tmp_path / "enc"), cache_dir=None).fit()
    out = emb.transform(scopes[:6])
    assert out.shape == (6, 32) and emb.describe()["format"] == "distilbert"
    assert np.isfinite(out).all()


def test_embed_command_on_a_real_scope_csv(tmp_path, scopes, monkeypatch, capsys):
    from cloud.embeddings.cli import main

    monkeypatch.setenv("CLOUD_EMBEDDING_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "in.csv"
    with src.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["mp_id", "scope"])
        writer.writerows([[f"m{i}", s] for i, s in enumerate(scopes[:12])] + [["bad", ""]])
    assert main([ENCODER, str(src), "--out", str(tmp_path / "e.parquet"), "--no-progress"]) == 0
    import pandas as pd

    table = pd.read_parquet(tmp_path / "e.parquet")
    assert list(table["id"]) == [f"m{i}" for i in range(12)] and table.shape == (12, 258)
    np.testing.assert_allclose(table.filter(like="cls_").to_numpy(),
                               embed(load_encoder(ENCODER), scopes[:12]), rtol=0, atol=1e-5)
    errors = (tmp_path / "e.errors.csv").read_text().splitlines()
    assert errors == ["id,kind,message", "bad,empty,no SCOPE string"]
    meta = json.loads((tmp_path / "e.meta.json").read_text())
    assert meta["n_rows"] == 12 and meta["n_errors"] == 1 and meta["pooling"] == "cls"
    assert "12 embedded (0 from the cache), 1 failed" in capsys.readouterr().err
    assert main([ENCODER, str(src), "--out", str(tmp_path / "e.npy"), "--no-progress"]) == 0
    assert "12 embedded (12 from the cache)" in capsys.readouterr().err
    np.testing.assert_array_equal(np.load(tmp_path / "e.npy"),
                                  table.filter(like="cls_").to_numpy())
    assert (tmp_path / "e.ids.csv").read_text().splitlines()[1].startswith("m0,")
    assert main([ENCODER, str(src), "--out", str(tmp_path / "e.csv")]) == 2
    assert main(["no/such/encoder", str(src), "--out", str(tmp_path / "x.npy")]) == 2
