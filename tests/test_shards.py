"""Token shards of a pretraining corpus: round trip, cache, streamed pretraining and resume.

Real strings (the offline OPTIMADE sample); models are tiny and train a few steps on CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cloud.model import CloudConfig, CloudForMaskedLM
from cloud.tokenizer import build_tokenizer
from cloud.train.config import TrainConfig
from cloud.train.data import MLMCollator
from cloud.train.loop import fit
from cloud.train.shards import INDEX, ShardedTokens, cached_shards, write_shards
from tests.conftest import FailingCollator, Interrupted, optimade_sample


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="module")
def texts():
    return optimade_sample(500)


def test_shards_give_back_the_tokenizer_ids(tokenizer, texts, tmp_path):
    index = write_shards(iter(texts), tokenizer, tmp_path, shard_size=120)
    assert index["rows"] == 500 and len(index["shards"]) == 5
    ds = ShardedTokens(tmp_path)
    expected = tokenizer(texts, truncation=True, max_length=64)["input_ids"]
    assert len(ds) == 500
    for i in (0, 119, 120, 333, 499):
        assert ds[i]["input_ids"].tolist() == expected[i]
    assert ds.lengths.tolist() == [len(x) for x in expected]
    part = ds.subset(np.array([499, 3]))
    assert part[0]["input_ids"].tolist() == expected[499] and part.lengths.tolist() == [
        len(expected[499]), len(expected[3])]


def test_shards_are_written_once_per_corpus(tokenizer, texts, tmp_path):
    corpus = tmp_path / "corpus.csv"
    corpus.write_text("scope\n" + "\n".join(texts[:50]) + "\n")
    folder = cached_shards(corpus, tokenizer, tmp_path / "shards")
    first = (folder / INDEX).stat().st_mtime_ns
    assert cached_shards(corpus, tokenizer, tmp_path / "shards") == folder
    assert (folder / INDEX).stat().st_mtime_ns == first
    corpus.write_text("scope\n" + "\n".join(texts[:60]) + "\n")
    assert ShardedTokens(cached_shards(corpus, tokenizer, tmp_path / "shards")).__len__() == 60


def _tiny_mlm(tokenizer):
    torch.manual_seed(0)
    return CloudForMaskedLM(CloudConfig.preset("tiny", vocab_size=len(tokenizer),
                                               pad_token_id=tokenizer.pad_token_id))


def test_streamed_pretraining_resumes_at_the_same_step_and_data(tokenizer, texts, tmp_path):
    write_shards(iter(texts[:256]), tokenizer, tmp_path / "shards", shard_size=100)
    ds = ShardedTokens(tmp_path / "shards")
    cfg = TrainConfig(epochs=3, batch_size=32, lr=1e-3, val_fraction=0.0)
    full_model = _tiny_mlm(tokenizer)
    full = fit(full_model, ds, None, MLMCollator(tokenizer), cfg, out_dir=tmp_path / "a",
               progress=False)
    with pytest.raises(Interrupted):  # killed in the middle of the second epoch
        fit(_tiny_mlm(tokenizer), ds, None, FailingCollator(MLMCollator(tokenizer), 8 + 4), cfg,
            out_dir=tmp_path / "b", progress=False)
    resumed_model = _tiny_mlm(tokenizer)
    resumed = fit(resumed_model, ds, None, MLMCollator(tokenizer), cfg, out_dir=tmp_path / "b",
                  progress=False)
    assert resumed.resumed_from_epoch == 0
    assert resumed.steps == full.steps == 3 * 8
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in full.history]
    for (name, a), (_, b) in zip(full_model.state_dict().items(),
                                 resumed_model.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_pretrain_cli_streams_shards(texts, tmp_path):
    from cloud.train.pretrain import main

    corpus = tmp_path / "corpus.csv"
    corpus.write_text("scope\n" + "\n".join(texts[:200]) + "\n")
    out = tmp_path / "run"
    assert main(["--corpus", str(corpus), "--shards", str(tmp_path / "shards"), "--out",
                 str(out), "--preset", "tiny", "--epochs", "1", "--max-steps", "2",
                 "--batch-size", "16", "--no-progress"]) == 0
    assert (tmp_path / "shards" / INDEX).exists() and (out / "final/config.json").exists()
