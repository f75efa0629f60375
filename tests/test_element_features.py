"""Element-property embeddings (cloud.model.element_features) on real SCOPE strings.

Models here are randomly initialised fixtures (they test wiring, not skill); properties are
pymatgen's real values; strings are the paper's phonon strings in ../shared/data.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from cloud.model import CloudConfig, CloudForDebye, CloudForMaskedLM
from cloud.model.element_features import (
    DEFAULT_ELEMENT_FEATURES,
    last_part_mask,
    separator_id,
    standardized_properties,
    token_feature_table,
)
from cloud.scope.ablations import no_composition, no_wyckoff
from cloud.scope.element_properties import element_property_table
from cloud.scope.elements import ATOMIC_NUMBER
from cloud.tokenizer import build_tokenizer

FEATURES = list(DEFAULT_ELEMENT_FEATURES)


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="module")
def phonon_strings(shared_data):
    with open(shared_data / "scope_reference/phonon.csv", newline="") as fh:
        return [r["scope"] for r in csv.DictReader(fh)]


def _model(tokenizer, features, seed=0, cls=CloudForDebye):
    torch.manual_seed(seed)
    return cls(CloudConfig.preset("tiny", vocab_size=len(tokenizer),
                                  element_features=features)).eval()


def test_property_table_holds_pymatgen_values():
    table = element_property_table(("Z", "atomic_mass", "atomic_radius"))
    fe, o, he = (ATOMIC_NUMBER[s] - 1 for s in ("Fe", "O", "He"))
    assert table[fe, 0] == 26 and table[o, 0] == 8
    assert table[o, 1] == pytest.approx(15.999, abs=1e-3)
    assert np.isnan(table[he, 2])  # pymatgen has no radius for helium
    with pytest.raises(ValueError, match="no property 'bogus'"):
        element_property_table(("Z", "bogus"))


def test_standardised_properties_keep_the_order_of_the_elements():
    z = standardized_properties(FEATURES)
    assert z.shape == (118, len(FEATURES)) and np.isfinite(z).all()
    mass = z[:, FEATURES.index("atomic_mass")]
    assert mass[ATOMIC_NUMBER["Pb"] - 1] > mass[ATOMIC_NUMBER["Fe"] - 1] > mass[0]
    melting = z[:, FEATURES.index("melting_point")]
    assert melting[ATOMIC_NUMBER["W"] - 1] > melting[ATOMIC_NUMBER["Na"] - 1]
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=0.1)


def test_feature_table_rows_are_the_element_tokens(tokenizer):
    table = token_feature_table(FEATURES, len(tokenizer)).numpy()
    z = standardized_properties(FEATURES)
    vocab = tokenizer.get_vocab()
    for symbol in ("O", "Fe", "Y", "Na"):
        np.testing.assert_allclose(table[vocab[symbol]], z[ATOMIC_NUMBER[symbol] - 1], rtol=1e-6)
    for token in ("[CLS]", "|", "4a", "0.5", "a"):
        assert not table[vocab[token]].any()


def test_only_the_composition_part_gets_features(tokenizer, phonon_strings):
    sep = separator_id()
    assert tokenizer.convert_ids_to_tokens(sep) == "|"
    texts = phonon_strings[:50]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    mask = last_part_mask(batch.input_ids, sep)
    for row, text in enumerate(texts):
        tokens = tokenizer.convert_ids_to_tokens(batch.input_ids[row])
        flagged = [t for t, m in zip(tokens, mask[row], strict=True)
                   if m and t not in ("[SEP]", "[PAD]")]
        assert flagged == text.split("|")[2].split()
    # the generator part's translation letters (O, B, C, F, Y ...) are never flagged
    assert any(t == "O" for t in tokenizer.tokenize(texts[0].split("|")[0]))
    ablated = tokenizer([no_composition(texts[0]), no_wyckoff(texts[0])], padding=True,
                        return_tensors="pt")
    ablated_mask = last_part_mask(ablated.input_ids, sep)
    table = token_feature_table(FEATURES, len(tokenizer))
    features = table[ablated.input_ids] * ablated_mask.unsqueeze(-1)
    assert not features[0].any() and features[1].any()
    assert not last_part_mask(torch.tensor([[2, 11, 12, 3]]), sep).any()  # no separator


def test_paper_model_is_unchanged_without_features(tokenizer):
    plain = _model(tokenizer, None)
    assert plain.element_features is None
    assert not any("element" in name for name in plain.state_dict())


def test_features_change_theta_and_zero_map_recovers_the_plain_model(tokenizer, phonon_strings):
    batch = tokenizer(phonon_strings[:8], padding=True, return_tensors="pt")
    with_features = _model(tokenizer, FEATURES)
    plain = _model(tokenizer, None)
    plain.load_state_dict(with_features.state_dict(), strict=False)
    with torch.no_grad():
        theta = with_features.compute_theta(batch.input_ids, batch.attention_mask)[0]
        theta_plain = plain.compute_theta(batch.input_ids, batch.attention_mask)[0]
        assert not torch.allclose(theta, theta_plain)
        with_features.element_features.projection.weight.zero_()
        theta_zero = with_features.compute_theta(batch.input_ids, batch.attention_mask)[0]
    torch.testing.assert_close(theta_zero, theta_plain)


def test_save_load_and_start_from_an_encoder_without_features(tokenizer, phonon_strings,
                                                                tmp_path):
    batch = tokenizer(phonon_strings[:8], padding=True, return_tensors="pt")
    model = _model(tokenizer, FEATURES)
    model.save_pretrained(tmp_path / "debye")
    loaded = CloudForDebye.from_pretrained(tmp_path / "debye").eval()
    torch.testing.assert_close(loaded.element_features.table, model.element_features.table)
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.compute_theta(batch.input_ids, batch.attention_mask)[0],
            model.compute_theta(batch.input_ids, batch.attention_mask)[0])
    # a pre-trained encoder without features (the paper's) loads; the map starts fresh
    encoder = _model(tokenizer, None, seed=1, cls=CloudForMaskedLM)
    encoder.save_pretrained(tmp_path / "mlm")
    tuned = CloudForDebye.from_pretrained(tmp_path / "mlm", element_features=FEATURES)
    torch.testing.assert_close(tuned.bert.embeddings.word_embeddings.weight,
                               encoder.bert.embeddings.word_embeddings.weight)
    assert tuned.element_features.table.abs().sum() > 0
    assert tuned.element_features.projection.weight.std() > 0


def test_runner_setting_and_description():
    from benchmarks.models import describe_model, element_feature_names

    assert element_feature_names("default") == FEATURES
    assert element_feature_names(True) == FEATURES
    assert element_feature_names(["Z", "X"]) == ["Z", "X"]
    with pytest.raises(ValueError, match="element_features"):
        element_feature_names("Z")
    spec = {"type": "cloud_debye", "pretrained": "none", "preset": "tiny",
            "debye_loss": "log_theta", "element_features": "default"}
    assert describe_model(spec, False) == (
        "cloud_debye, tiny from scratch, loss on log Θ, element features")


def test_attention_analysis_sees_the_element_features(tokenizer, phonon_strings):
    from cloud.analysis.attention import layer_attentions

    model = _model(tokenizer, FEATURES)
    texts = phonon_strings[:3]
    before = [a.copy() for a in layer_attentions(model, tokenizer, texts)]
    with torch.no_grad():
        model.element_features.projection.weight.mul_(50.0)
    after = list(layer_attentions(model, tokenizer, texts))
    assert before[0].shape == after[0].shape
    assert not all(np.allclose(b, a) for b, a in zip(before, after, strict=True))
