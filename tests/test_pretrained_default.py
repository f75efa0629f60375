"""The committed default encoder loads, matches the grammar tokenizer, and knows SCOPE."""

from __future__ import annotations

import csv
import json

import torch

from cloud.tokenizer import build_tokenizer
from cloud.train.data import MLMCollator, ScopeDataset
from cloud.train.finetune import DEFAULT_PRETRAINED, build_model, load_tokenizer
from tests.conftest import shared_file


def test_checkpoint_files_and_manifest():
    for name in ("config.json", "model.safetensors", "tokenizer.json", "manifest.json",
                 "metrics.csv"):
        assert (DEFAULT_PRETRAINED / name).exists(), name
    manifest = json.loads((DEFAULT_PRETRAINED / "manifest.json").read_text())
    assert manifest["git"]["commit"] and manifest["data"] and manifest["history"]
    assert (DEFAULT_PRETRAINED / "model.safetensors").stat().st_size < 50 * 2**20


def test_tokenizer_is_the_grammar_tokenizer():
    assert load_tokenizer(DEFAULT_PRETRAINED).get_vocab() == build_tokenizer().get_vocab()


def test_loads_into_fine_tuning_models_and_beats_a_fresh_encoder_at_mlm():
    """On real strings the pretrained MLM loss is far below a randomly initialised model's."""
    from cloud.model import CloudConfig, CloudForMaskedLM

    tokenizer = load_tokenizer(DEFAULT_PRETRAINED)
    for kind in ("regression", "debye"):
        model = build_model(kind, tokenizer, DEFAULT_PRETRAINED, head_hidden_sizes=[64])
        assert model.config.num_hidden_layers == 4
    with open(shared_file("scope_reference/phonon.csv"), newline="") as fh:
        texts = [r["scope"] for r in csv.DictReader(fh)][:256]
    batch = MLMCollator(tokenizer, seed=0)([ScopeDataset(texts, tokenizer)[i]
                                            for i in range(len(texts))])
    pretrained = CloudForMaskedLM.from_pretrained(DEFAULT_PRETRAINED).eval()
    torch.manual_seed(0)
    fresh = CloudForMaskedLM(CloudConfig.from_pretrained(DEFAULT_PRETRAINED)).eval()
    with torch.no_grad():
        ours, baseline = pretrained(**batch).loss, fresh(**batch).loss
    assert ours < 0.5 * baseline
