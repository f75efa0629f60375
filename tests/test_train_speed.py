"""The fast training and prediction paths against the plain ones, tiny models, CPU.

Fast: length-grouped/sorted batches padded to their longest string, sums kept on the device.
Plain: every string padded to 64 as the CLOUD authors do. Same model, same rows, same loss.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from cloud.model import CloudConfig, CloudForRegression
from cloud.tokenizer import build_tokenizer
from cloud.train.config import TrainConfig
from cloud.train.data import RegressionCollator, ScopeDataset
from cloud.train.loop import fit, predict
from tests.conftest import REPO, optimade_sample, shared_file


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="module")
def texts():
    return optimade_sample(300)


def _regressor(tokenizer):
    torch.manual_seed(0)
    cfg = CloudConfig.preset("tiny", vocab_size=len(tokenizer),
                             pad_token_id=tokenizer.pad_token_id, max_position_embeddings=64,
                             target_mean=30.0, target_std=5.0)
    return CloudForRegression(cfg).eval()


def _targets(n):  # synthetic targets: speed and equality only
    return np.linspace(20.0, 40.0, n, dtype=np.float32)


def test_dynamic_padding_gives_the_loss_of_padding_to_64(tokenizer, texts):
    model = _regressor(tokenizer)
    rows = texts[:32]
    ds = ScopeDataset(rows, tokenizer, _targets(32))
    dynamic = RegressionCollator(tokenizer.pad_token_id)([ds[i] for i in range(32)])
    enc = tokenizer(rows, padding="max_length", max_length=64, return_tensors="pt")
    assert dynamic["input_ids"].shape[1] < 64  # the fast batch really is shorter
    with torch.no_grad():
        fast = model(**dynamic).loss
        plain = model(enc["input_ids"], enc["attention_mask"], labels=dynamic["labels"]).loss
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-6)


def test_predictions_sorted_by_length_come_back_in_order(tokenizer, texts):
    model = _regressor(tokenizer)
    ds = ScopeDataset(texts, tokenizer)
    collator = RegressionCollator(tokenizer.pad_token_id)
    fast = predict(model, ds, collator, batch_size=64)["predictions"]
    plain = predict(model, ds, collator, batch_size=64, sort_by_length=False)["predictions"]
    one_by_one = predict(model, ds, collator, batch_size=1, sort_by_length=False)["predictions"]
    assert fast.shape == (len(texts),)
    np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fast, one_by_one, rtol=1e-5, atol=1e-6)


def test_training_loss_and_tokens_are_counted_without_per_step_syncs(tokenizer, texts):
    ds = ScopeDataset(texts[:96], tokenizer, _targets(96))
    cfg = TrainConfig(epochs=1, batch_size=32, val_fraction=0.0, mixed_precision="no")
    result = fit(_regressor(tokenizer).train(), ds, None,
                 RegressionCollator(tokenizer.pad_token_id), cfg, progress=False)
    row = result.history[0]
    assert isinstance(row["train_loss"], float) and np.isfinite(row["train_loss"])
    assert result.train_tokens == sum(len(x) for x in ds.input_ids)


def test_fused_adamw_matches_the_default_optimizer(tokenizer, texts):
    ds = ScopeDataset(texts[:64], tokenizer, _targets(64))
    losses = []
    for fused in (False, True):
        cfg = TrainConfig(epochs=1, batch_size=32, val_fraction=0.0, mixed_precision="no",
                          fused_adamw=fused)
        model = _regressor(tokenizer).train()
        fit(model, ds, None, RegressionCollator(tokenizer.pad_token_id), cfg, progress=False)
        losses.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-4, atol=1e-5)


def test_throughput_benchmark_prints_every_comparison():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    shared_file("scope_reference/pretrain_optimade_10k.csv.gz")
    out = subprocess.run(
        [sys.executable, "benchmarks/perf/train_throughput.py", "--preset", "tiny",
         "--steps", "2", "--batch-size", "8", "--texts", "200"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    for word, count in (("fine-tuning", 1), ("inference", 1), ("MLM", 2)):
        found = [x for x in lines if x.startswith(word)]
        assert len(found) == count, out.stdout
        assert all(x.count(" MB)") == 2 and "x  [load" in x for x in found)


def test_sorted_predictions_through_an_accelerator(tokenizer, texts):
    from cloud.train.loop import make_accelerator

    model = _regressor(tokenizer)
    ds = ScopeDataset(texts[:50], tokenizer)
    collator = RegressionCollator(tokenizer.pad_token_id)
    accelerator = make_accelerator(TrainConfig(mixed_precision="no"), split_batches=True)
    fast = predict(model, ds, collator, 16, accelerator)["predictions"]
    plain = predict(model, ds, collator, 16, sort_by_length=False)["predictions"]
    np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-6)
