"""The paper's recipe: its 12 x 768 encoder trains on CPU, its schedule (epoch warm-up, cosine
to a floor, layer-wise rates) is what the authors' code computes, the recipe file reaches every
CLOUD model, and MLM checkpoints made with it load as BERT checkpoints do. The few SCOPE
strings trained on are real (scope_reference/matbench_dielectric.csv)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch

from cloud.train.config import TrainConfig
from cloud.train.schedule import layer_index, layerwise_groups, make_scheduler
from tests.conftest import REPO, shared_file

RECIPE = REPO / "benchmarks" / "configs" / "paper_recipe.yaml"


def _texts(n: int) -> tuple[list[str], np.ndarray]:
    with open(shared_file("scope_reference/matbench_dielectric.csv"), newline="") as fh:
        rows = [r for _, r in zip(range(n), csv.DictReader(fh), strict=False)]
    return [r["scope"] for r in rows], np.array([float(r["n"]) for r in rows])


def test_base_preset_with_the_paper_tokenizer_trains_one_step_on_cpu():
    from cloud.train.finetune import FoldData, finetune

    texts, y = _texts(8)
    cfg = TrainConfig(epochs=1, batch_size=4, max_steps=1, val_fraction=0.0, lr=5e-5,
                      warmup_epochs=0, min_lr=1e-7, mixed_precision="no")
    result = finetune(FoldData(texts[:6], y[:6], texts[6:]), "regression", cfg,
                      pretrained=None, preset="base", tokenizer="paper", progress=False,
                      model_config={"head_hidden_sizes": [768]})
    config = result.model.config
    assert (config.num_hidden_layers, config.hidden_size, config.num_attention_heads,
            config.vocab_size, config.max_position_embeddings) == (12, 768, 12, 30522, 64)
    assert result.fit.steps == 1 and np.isfinite(result.fit.history[0]["train_loss"])
    assert result.predictions.shape == (2,) and np.isfinite(result.predictions).all()
    assert result.encoder.tokenizer == "paper" and result.encoder.format == "scratch"


def _lrs(cfg: TrainConfig, steps_per_epoch: int, total: int) -> list[float]:
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    sched = make_scheduler(opt, cfg, steps_per_epoch, total)
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_paper_schedule_is_the_authors_adjust_learning_rate():
    cfg = TrainConfig(lr=5e-5, min_lr=1e-7, warmup_epochs=10, epochs=200)
    spe = 3
    got = _lrs(cfg, spe, 200 * spe)
    for step in (0, 1, 15, 29, 30, 31, 100, 400, 599):
        epoch = step / spe  # their fractional epoch
        if epoch < 10:
            want = 5e-5 * epoch / 10
        else:
            want = 1e-7 + (5e-5 - 1e-7) * 0.5 * (1 + math.cos(math.pi * (epoch - 10) / 190))
        assert got[step] == pytest.approx(want, rel=1e-9, abs=1e-15), step


def test_default_schedule_is_transformers_cosine_unchanged():
    from transformers import get_cosine_schedule_with_warmup

    cfg = TrainConfig(lr=1e-4, warmup_ratio=0.05)
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    ref = get_cosine_schedule_with_warmup(opt, int(0.05 * 100), 100)
    assert type(make_scheduler(opt, cfg, 10, 100)) is type(ref)
    want = [ref.lr_lambdas[0](s) * 1e-4 for s in range(100)]
    assert _lrs(cfg, 10, 100) == want


def test_layerwise_rates():
    from cloud.model import CloudConfig, CloudForRegression

    model = CloudForRegression(CloudConfig.preset("tiny", vocab_size=40, head_hidden_sizes=[8]))
    cfg = TrainConfig(lr=1e-3, weight_decay=0.01, layer_lr_decay=0.9)
    layers = 2
    assert layer_index("bert.embeddings.word_embeddings.weight", layers) == 0
    assert layer_index("bert.encoder.layer.1.output.dense.weight", layers) == 2
    assert layer_index("head.layers.1.weight", layers) == 3
    groups = layerwise_groups(model, cfg)
    by_name = {id(p): g for g in groups for p in g["params"]}
    for name, p in model.named_parameters():
        g = by_name[id(p)]
        assert g["lr"] == pytest.approx(1e-3 * 0.9 ** (layers + 1 - layer_index(name, layers)))
        assert g["weight_decay"] == (0.0 if p.ndim < 2 or "LayerNorm" in name else 0.01)
    assert len(by_name) == sum(1 for _ in model.parameters())


def test_recipe_file_sets_every_cloud_model_and_no_baseline():
    from benchmarks.config import load_layers, task_config

    layers = load_layers(RECIPE)
    for task, family, smoke in (("matbench_jdft2d", "matbench", False), ("cv", "phonon", True)):
        models = task_config(layers, task, family, smoke)["models"]
        clouds = {n: s for n, s in models.items() if s.get("type") in ("cloud", "cloud_debye")}
        assert len(clouds) >= 4
        for spec in clouds.values():
            assert spec["tokenizer"] == "paper" and spec["preset"] == "base"
            assert spec["train"]["lr"] == 5e-5 and spec["train"]["val_fraction"] == 0.25
            assert spec["train"]["batch_size"] == (64 if smoke else 512)
        assert all("tokenizer" not in s for n, s in models.items() if n not in clouds)
    full = task_config(layers, "matbench_jdft2d", "matbench")["models"]["cloud"]["train"]
    assert (full["epochs"], full["warmup_epochs"], full["min_lr"]) == (200, 10, 1e-7)


def test_mlm_checkpoint_of_the_recipe_loads_as_a_bert_checkpoint(tmp_path):
    """Pretrained here with the paper's tokenizer (tiny sizes, one step): BERT's own class
    loads its weights, and the project's loader reads it as needing the paper tokenizer."""
    from transformers import BertForMaskedLM

    from cloud.model.encoder_checkpoint import resolve_encoder
    from cloud.train.pretrain import pretrain

    texts, _ = _texts(40)
    cfg = TrainConfig(epochs=1, batch_size=8, max_steps=1, val_fraction=0.2, seed=0,
                      mixed_precision="no")
    model, tokenizer, _ = pretrain(texts, tmp_path, "tiny", cfg, progress=False,
                                   tokenizer="paper")
    final = tmp_path / "final"
    source, tok = resolve_encoder(final)
    assert (source.tokenizer, source.tokenizer_source) == ("paper", "tokenizer files")
    assert model.config.vocab_size == 30522 and model.config.pad_token_id == 0
    bert = BertForMaskedLM.from_pretrained(final, config=model.config.to_bert_config())
    ours = model.state_dict()
    for name, value in bert.state_dict().items():
        assert torch.equal(value, ours[name]), name


def test_element_features_are_refused_with_the_paper_tokenizer():
    """Element features look tokens up by word-level ids: with WordPiece ids they would
    silently name other tokens, so the config refuses the pair."""
    from cloud.model import CloudConfig

    with pytest.raises(Exception, match="not available with the paper"):
        CloudConfig.preset("tiny", scope_tokenizer="paper", element_features=["X"])
    assert CloudConfig.preset("tiny", element_features=["X"]).element_features == ["X"]
