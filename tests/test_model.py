"""CLOUD models (cloud.model): configs, heads, save/load, attention, parameter counts.

Tiny sizes on CPU.
"""

from __future__ import annotations

import math

import pytest
import torch
from transformers import AutoConfig, AutoModelForMaskedLM, BertConfig

from cloud.model import (
    PRESETS,
    THETA_FLOOR,
    CloudConfig,
    CloudForDebye,
    CloudForMaskedLM,
    CloudForRegression,
    count_parameters,
    encoder_parameters,
    head_parameters,
    set_encoder_trainable,
)

VOCAB = 64


def small_config(**overrides) -> CloudConfig:
    sizes = dict(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        head_hidden_sizes=[16],
    )
    return CloudConfig(**{**sizes, **overrides})


def batch(b: int = 3, length: int = 12, seed: int = 0):
    """Random ids with [CLS]=2 first, right padding (pad id 0) in rows 1 and 2."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, VOCAB, (b, length), generator=g)
    ids[:, 0] = 2
    mask = torch.ones_like(ids)
    for row, keep in ((1, length - 4), (2, 5)):
        if row < b:
            ids[row, keep:] = 0
            mask[row, keep:] = 0
    return ids, mask


@pytest.fixture
def physics():
    from cloud.debye import physics

    return physics


def set_seed(seed: int = 0) -> None:
    torch.manual_seed(seed)


# --------------------------------------------------------------------------- config


def test_config_defaults_presets_and_validation(tmp_path):
    cfg = CloudConfig()
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads) == (12, 768, 12)
    assert cfg.intermediate_size == 3072 and cfg.max_position_embeddings == 64
    assert cfg.type_vocab_size == 1 and cfg.pad_token_id == 0 and cfg.head_hidden_sizes == []
    assert cfg._attn_implementation == "sdpa"
    tiny = CloudConfig.preset("tiny", vocab_size=100, head_dropout=0.0)
    assert (tiny.num_hidden_layers, tiny.hidden_size, tiny.num_attention_heads) == (2, 128, 2)
    assert tiny.intermediate_size == 512 and tiny.vocab_size == 100 and tiny.head_dropout == 0.0
    assert set(PRESETS) == {"tiny", "small", "medium", "base"}
    with pytest.raises(ValueError):
        CloudConfig.preset("huge")
    with pytest.raises(Exception, match="multiple"):
        CloudConfig(hidden_size=100, num_attention_heads=3)
    bert = tiny.to_bert_config()
    assert isinstance(bert, BertConfig) and bert.intermediate_size == 512
    assert bert._attn_implementation == "sdpa" and bert.max_position_embeddings == 64
    tiny.target_mean, tiny.target_std = 1.5, 2.0
    tiny.save_pretrained(tmp_path)
    again = CloudConfig.from_pretrained(tmp_path, head_hidden_sizes=[8])
    assert again.target_mean == 1.5 and again.target_std == 2.0 and again.head_hidden_sizes == [8]


# --------------------------------------------------------------------------- MLM


def test_mlm_tied_loss_finite_and_ignores_minus_100():
    set_seed()
    model = CloudForMaskedLM(small_config()).eval()
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    ids, mask = batch()
    labels = torch.full_like(ids, -100)
    labels[0, 3], labels[1, 2], labels[2, 4] = 7, 9, 11
    out = model(ids, attention_mask=mask, labels=labels)
    assert out.logits.shape == (3, 12, VOCAB) and torch.isfinite(out.loss)
    picked = labels != -100
    expected = torch.nn.functional.cross_entropy(out.logits[picked], labels[picked])
    torch.testing.assert_close(out.loss, expected)
    # the loss depends only on the labelled positions: relabelling them changes it
    labels2 = labels.clone()
    labels2[0, 3] = 8
    assert model(ids, attention_mask=mask, labels=labels2).loss != out.loss
    assert model(ids, attention_mask=mask).loss is None


# --------------------------------------------------------------------------- round trips


def _roundtrip(model, tmp_path, call):
    model.eval()
    with torch.no_grad():
        before = call(model)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    reloaded = type(model).from_pretrained(tmp_path).eval()
    with torch.no_grad():
        after = call(reloaded)
    torch.testing.assert_close(after, before, rtol=0, atol=0)
    return reloaded


def test_roundtrip_mlm(tmp_path):
    set_seed()
    ids, mask = batch()
    reloaded = _roundtrip(CloudForMaskedLM(small_config()), tmp_path, lambda m: m(ids, mask).logits)
    assert reloaded.cls.predictions.decoder.weight is (
        reloaded.bert.embeddings.word_embeddings.weight
    )


def test_roundtrip_regression(tmp_path):
    set_seed()
    ids, mask = batch()
    model = CloudForRegression(
        small_config(num_targets=2, target_mean=[1.0, -2.0], target_std=[3.0, 0.5])
    )
    reloaded = _roundtrip(model, tmp_path, lambda m: m(ids, mask).predictions)
    assert reloaded.config.target_mean == [1.0, -2.0]


def test_roundtrip_debye(tmp_path, physics):
    set_seed()
    ids, mask = batch()
    n_atoms = torch.tensor([2, 5, 10])
    model = CloudForDebye(small_config(debye_target="u", theta_scale=300.0))
    reloaded = _roundtrip(
        model,
        tmp_path,
        lambda m: torch.cat(
            [m(ids, mask, n_atoms=n_atoms).predictions, m(ids, mask, n_atoms=n_atoms).theta]
        ),
    )
    assert reloaded.config.debye_target == "u" and reloaded.config.theta_scale == 300.0


# --------------------------------------------------------------------------- transfer


@pytest.mark.parametrize("cls", [CloudForRegression, CloudForDebye])
def test_pretrained_encoder_loads_into_finetuning_models(tmp_path, cls):
    set_seed()
    mlm = CloudForMaskedLM(small_config(head_hidden_sizes=[]))
    mlm.save_pretrained(tmp_path)
    model, info = cls.from_pretrained(
        tmp_path, head_hidden_sizes=[24, 8], num_targets=1, output_loading_info=True
    )
    assert model.config.head_hidden_sizes == [24, 8]
    assert info["missing_keys"] and all(k.startswith("head.") for k in info["missing_keys"])
    assert info["unexpected_keys"] and all(k.startswith("cls.") for k in info["unexpected_keys"])
    assert not info["mismatched_keys"]
    source = mlm.bert.state_dict()
    target = model.bert.state_dict()
    assert source.keys() == target.keys()
    for key in source:
        assert torch.equal(source[key], target[key]), key
    # heads initialised freshly (BERT init: N(0, 0.02) weights, zero biases)
    linears = [m for m in model.head.modules() if isinstance(m, torch.nn.Linear)]
    assert [lin.out_features for lin in linears] == [24, 8, 1]
    for lin in linears:
        assert torch.all(lin.bias == 0)
        assert 0 < lin.weight.abs().max().item() < 0.15
    weights = torch.cat([lin.weight.flatten() for lin in linears])
    assert 0.015 < weights.std().item() < 0.025


# --------------------------------------------------------------------------- regression


def test_regression_standardisation_single_and_multi_target():
    set_seed()
    ids, mask = batch()
    model = CloudForRegression(small_config(target_mean=5.0, target_std=2.0)).eval()
    labels = torch.tensor([1.0, 4.0, 9.0])
    out = model(ids, mask, labels=labels)
    assert out.logits.shape == out.predictions.shape == (3,)
    torch.testing.assert_close(out.predictions, out.logits * 2.0 + 5.0)
    expected = torch.mean((out.logits - (labels - 5.0) / 2.0) ** 2)
    torch.testing.assert_close(out.loss, expected)

    model = CloudForRegression(
        small_config(num_targets=2, target_mean=[1.0, -1.0], target_std=[10.0, 0.1])
    ).eval()
    labels = torch.tensor([[1.0, 2.0], [3.0, -4.0], [0.0, 0.5]])
    out = model(ids, mask, labels=labels)
    assert out.logits.shape == out.predictions.shape == (3, 2)
    mean, std = torch.tensor([1.0, -1.0]), torch.tensor([10.0, 0.1])
    torch.testing.assert_close(out.predictions, out.logits * std + mean)
    torch.testing.assert_close(out.loss, torch.mean((out.logits - (labels - mean) / std) ** 2))


def test_head_runs_in_float32_under_bf16_autocast():
    """bf16 autocast speeds up the encoder (~2x on AVX512-BF16 CPUs) but the regression
    head must not round predictions to bf16's 8 mantissa bits."""
    set_seed()
    ids, mask = batch()
    model = CloudForRegression(small_config(target_mean=1000.0, target_std=1.0)).eval()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(ids, mask)
    assert out.logits.dtype == torch.float32
    # 1000 + small logits: bf16 could only represent multiples of 4 near 1000
    assert not torch.all(torch.remainder(out.predictions, 4.0) == 0)


# --------------------------------------------------------------------------- Debye


@pytest.mark.parametrize("shift", [0.0, 10.0])
def test_debye_theta_positive_for_extreme_raw(shift, physics):
    set_seed()
    model = CloudForDebye(small_config(theta_shift=shift)).eval()
    raw = torch.tensor([-1e4, -50.0, 0.0, 50.0, 1e4])
    theta = model.theta_from_raw(raw)
    assert torch.all(theta > 0) and torch.all(torch.isfinite(theta))
    assert theta[0] >= max(shift, THETA_FLOOR)
    assert theta[2] == pytest.approx(shift + 400.0 * math.log(2.0), rel=1e-6)
    ids, mask = batch()
    n_atoms = torch.tensor([1, 4, 12])
    for bias in (-1e4, 1e4):
        with torch.no_grad():
            model.head.layers[-1].bias.fill_(bias)
        out = model(ids, mask, n_atoms=n_atoms)
        assert torch.all(out.theta > 0)
        assert torch.all(torch.isfinite(out.predictions)), out.predictions


def test_debye_untrained_theta_is_a_few_hundred_kelvin(physics):
    set_seed()
    model = CloudForDebye(small_config()).eval()
    ids, mask = batch()
    theta = model(ids, mask, n_atoms=torch.tensor([2, 2, 2])).theta
    assert torch.all((theta > 150) & (theta < 450)), theta


def test_debye_prediction_shapes_and_default_temperature(physics):
    set_seed()
    model = CloudForDebye(small_config()).eval()
    ids, mask = batch()
    n_atoms = torch.tensor([2, 5, 10])
    default = model(ids, mask, n_atoms=n_atoms)
    assert default.theta.shape == default.predictions.shape == (3,)
    explicit = model(ids, mask, n_atoms=n_atoms, temperature=300.0)
    torch.testing.assert_close(default.predictions, explicit.predictions)
    torch.testing.assert_close(
        default.predictions, physics.debye_cv(300.0, default.theta, n_atoms.float())
    )
    temps = torch.tensor([10.0, 100.0, 300.0, 1000.0])
    curve = model(ids, mask, n_atoms=n_atoms, temperature=temps)
    assert curve.predictions.shape == (3, 4)
    torch.testing.assert_close(curve.predictions[:, 2], default.predictions)
    theta, cv, u = model.predict_curves(ids, mask, n_atoms, temps)
    assert theta.shape == (3,) and cv.shape == u.shape == (3, 4)
    torch.testing.assert_close(cv, curve.predictions)
    model.config.debye_target = "u"
    torch.testing.assert_close(model(ids, mask, n_atoms=n_atoms, temperature=temps).predictions, u)
    with pytest.raises(ValueError, match="n_atoms"):
        model(ids, mask)


def test_debye_loss_scaled_and_gradients_reach_encoder(physics):
    set_seed()
    model = CloudForDebye(small_config(target_std=4.0)).train()
    ids, mask = batch()
    n_atoms = torch.tensor([2, 5, 10])
    labels = torch.tensor([40.0, 110.0, 230.0])
    out = model(ids, mask, n_atoms=n_atoms, labels=labels)
    torch.testing.assert_close(out.loss, torch.mean((out.predictions - labels) ** 2) / 16.0)
    out.loss.backward()
    enc_grads = [p.grad for p in encoder_parameters(model) if p.grad is not None]
    layer_q = model.bert.encoder.layer[0].attention.self.query.weight.grad
    assert layer_q is not None and layer_q.abs().sum() > 0
    assert enc_grads and all(torch.isfinite(g).all() for g in enc_grads)
    assert model.head.layers[-1].weight.grad.abs().sum() > 0


# --------------------------------------------------------------------------- attention


@pytest.mark.parametrize("cls", [CloudForMaskedLM, CloudForRegression])
def test_sdpa_and_eager_agree(tmp_path, cls):
    set_seed()
    model = cls(small_config()).eval()
    assert model.config._attn_implementation == "sdpa"
    assert model.bert.config._attn_implementation == "sdpa"
    ids, mask = batch()
    with torch.no_grad():
        sdpa = model(ids, mask).logits
        model.save_pretrained(tmp_path)
        eager_loaded = cls.from_pretrained(tmp_path, attn_implementation="eager").eval()
        assert eager_loaded.bert.config._attn_implementation == "eager"
        loaded = eager_loaded(ids, mask).logits
        model.set_attn_implementation("eager")
        assert model.bert.config._attn_implementation == "eager"
        switched = model(ids, mask).logits
    valid = mask.bool() if sdpa.dim() == 3 else slice(None)
    torch.testing.assert_close(loaded[valid], sdpa[valid], rtol=0, atol=1e-5)
    torch.testing.assert_close(switched[valid], sdpa[valid], rtol=0, atol=1e-5)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_padding_invariance_of_cls(attn):
    set_seed()
    model = CloudForRegression(small_config(attn_implementation=attn)).eval()
    ids, mask = batch()
    with torch.no_grad():
        padded = model.bert(ids, attention_mask=mask).last_hidden_state[:, 0]
        padded_out = model(ids, mask).logits
        for row in range(ids.shape[0]):
            n = int(mask[row].sum())
            alone = model.bert(ids[row : row + 1, :n]).last_hidden_state[:, 0]
            torch.testing.assert_close(padded[row : row + 1], alone, rtol=0, atol=1e-5)
            single = model(ids[row : row + 1, :n]).logits
            torch.testing.assert_close(padded_out[row : row + 1], single, rtol=0, atol=1e-5)


# --------------------------------------------------------------------------- auto / utils


def test_auto_registration(tmp_path):
    set_seed()
    model = CloudForMaskedLM(small_config()).eval()
    model.save_pretrained(tmp_path)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), CloudConfig)
    assert isinstance(AutoConfig.for_model("cloud", vocab_size=10), CloudConfig)
    auto = AutoModelForMaskedLM.from_pretrained(tmp_path).eval()
    assert type(auto) is CloudForMaskedLM
    ids, mask = batch()
    with torch.no_grad():
        torch.testing.assert_close(auto(ids, mask).logits, model(ids, mask).logits)
    assert isinstance(AutoModelForMaskedLM.from_config(small_config()), CloudForMaskedLM)


def test_count_parameters_matches_hand_count():
    cfg = CloudConfig.preset("tiny", vocab_size=100, head_hidden_sizes=[16])
    h, layers, ffn, v, pos = 128, 2, 512, 100, 64
    per_layer = 4 * (h * h + h) + 2 * h + (h * ffn + ffn) + (ffn * h + h) + 2 * h
    encoder_non_emb = layers * per_layer + 2 * h  # + embedding LayerNorm
    embeddings = v * h + pos * h + 1 * h  # token, position, token-type tables
    mlm_head = (h * h + h) + 2 * h + v  # transform dense + LayerNorm + decoder bias (tied W)
    reg_head = (h * 16 + 16) + (16 + 1)

    mlm, reg = CloudForMaskedLM(cfg), CloudForRegression(cfg)
    assert count_parameters(mlm, encoder_only=True) == encoder_non_emb == 396_800
    assert count_parameters(mlm) == encoder_non_emb + mlm_head
    assert count_parameters(mlm, non_embedding=False) == encoder_non_emb + embeddings + mlm_head
    assert count_parameters(mlm, non_embedding=False) == sum(p.numel() for p in mlm.parameters())
    assert count_parameters(reg) == encoder_non_emb + reg_head
    assert count_parameters(reg, non_embedding=False) == encoder_non_emb + embeddings + reg_head


def test_encoder_head_split_and_freezing():
    set_seed()
    model = CloudForRegression(small_config())
    enc, head = encoder_parameters(model), head_parameters(model)
    assert {id(p) for p in enc}.isdisjoint({id(p) for p in head})
    assert len(enc) + len(head) == len(list(model.parameters()))
    assert {id(p) for p in head} == {id(p) for p in model.head.parameters()}
    set_encoder_trainable(model, False)
    assert not any(p.requires_grad for p in enc) and all(p.requires_grad for p in head)
    assert count_parameters(model, trainable_only=True) == sum(p.numel() for p in head)
    ids, mask = batch()
    model(ids, mask, labels=torch.zeros(3)).loss.backward()
    assert all(p.grad is None for p in enc) and all(p.grad is not None for p in head)
    set_encoder_trainable(model, True)
    assert all(p.requires_grad for p in model.parameters())


def test_gradient_checkpointing_trains():
    set_seed()
    model = CloudForRegression(small_config()).train()
    model.activation_checkpointing_enable()
    ids, mask = batch()
    model(ids, mask, labels=torch.ones(3)).loss.backward()
    grad = model.bert.encoder.layer[0].output.dense.weight.grad
    assert grad is not None and torch.isfinite(grad).all()


def test_with_scope_tokenizer():
    from cloud.tokenizer import build_tokenizer

    tokenizer = build_tokenizer()
    cfg = small_config(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    assert cfg.max_position_embeddings == tokenizer.model_max_length
    enc = tokenizer(["1 a O | Fe O", "Na Cl"], padding=True, return_tensors="pt")
    assert torch.all(enc["input_ids"][:, 0] == tokenizer.cls_token_id)
    set_seed()
    model = CloudForMaskedLM(cfg).eval()
    labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
    out = model(enc["input_ids"], enc["attention_mask"], labels=labels)
    assert out.logits.shape[-1] == len(tokenizer) and torch.isfinite(out.loss)


def test_debye_log_theta_loss(physics):
    """log_theta: zero at the implied Θ, (ln 2 / theta_log_std)^2 at twice it; a label no
    Debye solid reproduces (U below 3NRT) keeps the value loss."""
    from cloud.debye import R_GAS, debye_cv, debye_u

    model = CloudForDebye(small_config(debye_loss="log_theta", theta_log_std=0.5,
                                       target_std=4.0))
    n_atoms = torch.tensor([2.0, 5.0, 10.0])
    theta = torch.tensor([150.0, 450.0, 900.0], dtype=torch.float64)
    labels = debye_cv(300.0, theta, n_atoms)
    assert float(model.loss(labels, theta, labels, n_atoms)) < 1e-10
    preds = debye_cv(300.0, 2 * theta, n_atoms)
    loss = model.loss(preds, 2 * theta, labels, n_atoms)
    assert float(loss) == pytest.approx((math.log(2) / 0.5) ** 2, rel=1e-6)
    # a given label_theta is used as is (here: wrong on purpose, so the loss changes)
    assert float(model.loss(labels, theta, labels, n_atoms, label_theta=2 * theta)) == (
        pytest.approx((math.log(2) / 0.5) ** 2, rel=1e-6))
    model.config.debye_target = "u"
    u_labels = debye_u(300.0, theta, n_atoms)
    u_labels[1] = 0.9 * 3 * 5 * R_GAS * 300  # below the classical limit: no Θ
    u_preds = debye_u(300.0, theta, n_atoms)
    per_row_value = ((u_preds[1] - u_labels[1]) / 4.0) ** 2
    loss = model.loss(u_preds, theta, u_labels, n_atoms)
    assert float(loss) == pytest.approx(float(per_row_value) / 3, rel=1e-6)
    with pytest.raises(Exception, match="debye_loss"):  # hub's strict-validation error
        small_config(debye_loss="theta")


def test_debye_log_theta_forward_trains(physics):
    set_seed()
    model = CloudForDebye(small_config(debye_loss="log_theta")).train()
    ids, mask = batch()
    out = model(ids, mask, n_atoms=torch.tensor([2, 5, 10]),
                labels=torch.tensor([40.0, 110.0, 230.0]))
    out.loss.backward()
    assert torch.isfinite(out.loss) and model.head.layers[-1].weight.grad.abs().sum() > 0
