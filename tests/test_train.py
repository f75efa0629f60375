"""The training loop on real SCOPE strings, tiny models, CPU."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest
import torch

from cloud.model import CloudConfig, CloudForMaskedLM
from cloud.tokenizer import build_tokenizer
from cloud.train.config import TrainConfig
from cloud.train.data import MLMCollator, RegressionCollator, ScopeDataset
from cloud.train.finetune import FoldData, carve_validation, finetune
from cloud.train.loop import fit
from cloud.train.sampling import EpochBatchSampler
from tests.conftest import FailingCollator, Interrupted, shared_file


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="module")
def optimade():
    with gzip.open(shared_file("scope_reference/pretrain_optimade_10k.csv.gz"), "rt") as fh:
        return [r["scope"] for r in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def phonon_cv():
    from cloud.data import read_phonon

    return read_phonon("cv", data_dir=shared_file("phonon/cv.csv").parents[1])


def _tiny(tokenizer, cls=CloudForMaskedLM, **kw):
    torch.manual_seed(0)
    cfg = CloudConfig.preset("tiny", vocab_size=len(tokenizer),
                             pad_token_id=tokenizer.pad_token_id, **kw)
    return cls(cfg)


def test_mlm_masking_rates(tokenizer, optimade):
    """15% of non-special tokens chosen; of those 80% [MASK], 10% random, 10% kept."""
    collator = MLMCollator(tokenizer, seed=3)
    ds = ScopeDataset(optimade[:4000], tokenizer)
    batch = collator([ds[i] for i in range(len(ds))])
    original = torch.nn.utils.rnn.pad_sequence(
        [torch.as_tensor(x) for x in ds.input_ids], batch_first=True, padding_value=0)
    special = torch.isin(original, torch.tensor(tokenizer.all_special_ids))
    chosen = batch["labels"] != -100
    assert not (chosen & special).any()
    assert (batch["labels"][chosen] == original[chosen]).all()
    rate = chosen.sum() / (~special).sum()
    assert abs(rate - 0.15) < 0.005
    masked = (batch["input_ids"] == tokenizer.mask_token_id) & chosen
    kept = (batch["input_ids"] == original) & chosen
    n = chosen.sum()
    assert abs(masked.sum() / n - 0.8) < 0.01
    # random replacements can hit the original token by chance (~1/vocab)
    assert abs(kept.sum() / n - 0.1) < 0.01
    assert abs((n - masked.sum() - kept.sum()) / n - 0.1) < 0.01
    assert ((batch["input_ids"] != original) == (chosen & ~kept)).all()


def test_sampler_is_reproducible_and_groups_lengths(tokenizer, optimade):
    ds = ScopeDataset(optimade[:2000], tokenizer)
    lengths = [len(x) for x in ds.input_ids]
    plain = EpochBatchSampler(lengths, 64, group_by_length=False, seed=1)
    grouped = EpochBatchSampler(lengths, 64, group_by_length=True, seed=1)
    for s in (plain, grouped):
        s.set_epoch(2)
        first, again = list(s), list(s)
        assert first == again
        assert sorted(i for b in first for i in b) == list(range(2000))
        s.set_epoch(3)
        assert list(s) != first

    def padded(sampler):
        return sum(len(b) * max(lengths[i] for i in b) for b in sampler)

    assert padded(grouped) < 0.9 * padded(plain)


def test_pretraining_lowers_validation_loss(tokenizer, optimade, tmp_path):
    model = _tiny(tokenizer)
    train = ScopeDataset(optimade[:1500], tokenizer)
    val = ScopeDataset(optimade[1500:1800], tokenizer)
    cfg = TrainConfig(epochs=3, batch_size=64, lr=2e-3, warmup_ratio=0.1)
    result = fit(model, train, val, MLMCollator(tokenizer), cfg, out_dir=tmp_path,
                 eval_collator=MLMCollator(tokenizer), progress=False)
    losses = [row["val_loss"] for row in result.history]
    assert losses[-1] < losses[0] < np.log(len(tokenizer))
    assert (tmp_path / "metrics.csv").exists() and (tmp_path / "best").exists()


def _regression_setup(tokenizer, phonon_cv):
    from cloud.model import CloudForRegression

    df = phonon_cv.iloc[:400]
    y = df["value"].to_numpy()
    train = ScopeDataset(list(df["scope"][:320]), tokenizer, y[:320])
    val = ScopeDataset(list(df["scope"][320:]), tokenizer, y[320:])
    model = _tiny(tokenizer, CloudForRegression, target_mean=float(y.mean()),
                  target_std=float(y.std()))
    return model, train, val


def test_resume_gives_identical_weights(tokenizer, phonon_cv, tmp_path):
    cfg = TrainConfig(epochs=3, batch_size=32, lr=1e-3)
    collate = RegressionCollator(tokenizer.pad_token_id)
    model_a, train, val = _regression_setup(tokenizer, phonon_cv)
    full = fit(model_a, train, val, collate, cfg, out_dir=tmp_path / "a", score="mae",
               progress=False)

    model_b, train, val = _regression_setup(tokenizer, phonon_cv)
    batches_per_epoch = -(-len(train) // 32) + 1  # + 1 validation batch
    failing = FailingCollator(RegressionCollator(tokenizer.pad_token_id),
                              fail_at=batches_per_epoch + 5)
    with pytest.raises(Interrupted):
        fit(model_b, train, val, failing, cfg, out_dir=tmp_path / "b", score="mae",
            progress=False)
    model_c, train, val = _regression_setup(tokenizer, phonon_cv)
    resumed = fit(model_c, train, val, collate, cfg, out_dir=tmp_path / "b", score="mae",
                  progress=False)
    assert resumed.resumed_from_epoch == 0
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in full.history]
    for (name, a), (_, c) in zip(model_a.state_dict().items(), model_c.state_dict().items(),
                                 strict=True):
        assert torch.equal(a, c), name
    again = fit(model_c, train, val, collate, cfg, out_dir=tmp_path / "b", score="mae",
                progress=False)
    assert again.resumed_from_epoch == 2 and again.history == resumed.history


def test_frozen_encoder_epochs(tokenizer, phonon_cv):
    model, train, val = _regression_setup(tokenizer, phonon_cv)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = TrainConfig(epochs=1, batch_size=64, lr=1e-3, freeze_encoder_epochs=1)
    fit(model, train, None, RegressionCollator(0), cfg, progress=False)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in after if k.startswith("bert."))
    assert any(not torch.equal(before[k], after[k]) for k in after if k.startswith("head."))


def test_early_stopping(tokenizer, phonon_cv):
    model, train, val = _regression_setup(tokenizer, phonon_cv)
    cfg = TrainConfig(epochs=10, batch_size=64, lr=0.0, early_stopping_patience=2)
    result = fit(model, train, val, RegressionCollator(0), cfg, score="mae", progress=False)
    assert len(result.history) == 3 and result.best_epoch == 0


def test_validation_is_carved_from_training_rows_only():
    tr, va = carve_validation(500, 0.1, seed=5)
    assert len(va) == 50 and not set(tr) & set(va) and set(tr) | set(va) == set(range(500))
    assert np.array_equal(carve_validation(500, 0.1, seed=5)[1], va)


def test_finetune_debye_on_real_cv(phonon_cv):
    """CLOUD-DEBYE learns something on the Cv data within a few epochs (tiny, scratch)."""
    df = phonon_cv.sample(600, random_state=0)
    tr, te = df.iloc[:500], df.iloc[500:]
    fold = FoldData(list(tr["scope"]), tr["value"].to_numpy(), list(te["scope"]), None,
                    {"n_atoms": tr["n_atoms"].to_numpy()}, {"n_atoms": te["n_atoms"].to_numpy()})
    cfg = TrainConfig(epochs=4, batch_size=32, lr=1e-3, val_fraction=0.1)
    result = finetune(fold, "debye", cfg, pretrained=None, preset="tiny", progress=False)
    y = te["value"].to_numpy()
    mae_over_mad = np.abs(result.predictions - y).mean() / np.abs(y - y.mean()).mean()
    assert result.n_train == 450 and result.n_val == 50
    assert np.isclose(result.target_mean, tr["value"].to_numpy()[
        carve_validation(500, 0.1, cfg.seed)[0]].mean())
    assert (result.theta > 0).all()
    assert mae_over_mad < 0.6
