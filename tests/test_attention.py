"""[CLS] attention analysis (cloud.analysis.attention).

Real SCOPE strings from the shared phonon reference set; the model is a *tiny, randomly
initialised* CLOUD (2 layers, 2 heads): these tests check the plumbing and the statistics,
not what a trained CLOUD attends to.
"""

from __future__ import annotations

import json
import math
import runpy
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from cloud.analysis.attention import (
    SECTIONS,
    cls_attention,
    encoded_sections,
    layer_attentions,
    main,
    per_sequence_topk,
    token_sections,
    topk_statistics,
)
from cloud.model import CloudConfig, CloudForMaskedLM, CloudForRegression
from cloud.scope.format import Scope
from cloud.tokenizer import build_tokenizer
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def scopes() -> list[str]:
    return pd.read_csv(shared_file("scope_reference/phonon.csv"))["scope"].astype(str).tolist()


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="module")
def tiny_model(tokenizer):
    """A tiny randomly initialised regression model (SDPA attention, as configured)."""
    torch.manual_seed(0)
    config = CloudConfig.preset("tiny", vocab_size=len(tokenizer), pad_token_id=0)
    assert tokenizer.pad_token_id == 0
    return CloudForRegression(config)


# ------------------------------------------------------------------------------ sections


def test_token_sections_match_the_three_parts(scopes):
    with_oxygen = 0
    for text in scopes[:300]:
        labels = token_sections(text)
        parsed = Scope.parse(text)
        assert len(labels) == len(text.split())
        assert labels.count("space_group") == len(parsed.generator)
        assert labels.count("wyckoff") == len(parsed.wyckoff)
        assert labels.count("composition") == 2 * len(parsed.composition)
        assert labels.count("separator") == 2
        # labels follow the order generator | wyckoff | composition
        order = [SECTIONS.index(lab) for lab in labels if lab in SECTIONS]
        assert order == sorted(order)
        # "O" is a translation letter in the generator and oxygen in the composition
        if "O" in text.split("|")[2].split():
            with_oxygen += 1
            words = text.split()
            last_o = len(words) - 1 - words[::-1].index("O")
            assert labels[last_o] == "composition"
            assert labels[words.index("O")] == "space_group"
    assert with_oxygen > 0
    decoded = token_sections("[CLS] " + scopes[0] + " [SEP] [PAD] [PAD]")
    assert decoded[0] == "special" and decoded[-3:] == ["special"] * 3
    assert decoded[1:-3] == token_sections(scopes[0])
    with pytest.raises(ValueError):
        token_sections("1 | 4a | Na 1.0 | x")


def test_encoded_sections_align_with_the_tokenizer(scopes, tokenizer):
    texts = scopes[:20]
    for text, labels, ids in zip(
        texts, encoded_sections(tokenizer, texts), tokenizer(texts)["input_ids"], strict=True
    ):
        assert len(labels) == len(ids) == len(text.split()) + 2
        assert labels[0] == labels[-1] == "special"
        assert labels[1:-1] == token_sections(text)


# ------------------------------------------------------------------------------ attention


def test_attention_rows_sum_to_one_and_padding_does_not_matter(scopes, tokenizer, tiny_model):
    by_length = sorted(scopes[:200], key=lambda s: len(s.split()))
    texts = by_length[:3] + by_length[-3:]  # very different lengths -> heavy padding
    assert len(texts[0].split()) < len(texts[-1].split()) - 10
    batched = cls_attention(tiny_model, tokenizer, texts, batch_size=len(texts))
    single = cls_attention(tiny_model, tokenizer, texts, batch_size=1)
    for text, a, b in zip(texts, batched, single, strict=True):
        assert a.shape == b.shape == (len(text.split()) + 2,)
        assert a.sum() == pytest.approx(1.0, abs=1e-6)
        assert np.all(a > 0)
        np.testing.assert_allclose(a, b, atol=1e-6)
    # the model is left as it was: SDPA attention, training flag untouched
    assert tiny_model.config._attn_implementation == "sdpa"
    assert tiny_model.training
    # heads are averaged; layer -1 is the last layer, not the first
    rows = next(iter(layer_attentions(tiny_model, tokenizer, texts[:1])))
    assert rows.shape[:2] == (2, 2)
    np.testing.assert_allclose(rows[0].mean(axis=0), batched[0], atol=1e-6)
    last = cls_attention(tiny_model, tokenizer, texts[:1], layer=-1)[0]
    np.testing.assert_allclose(rows[1].mean(axis=0), last, atol=1e-6)
    assert not np.allclose(last, batched[0], atol=1e-4)


# ----------------------------------------------------------------------------- statistics


def test_topk_on_a_hand_computed_example():
    labels = ["special", "space_group", "space_group", "separator", "wyckoff", "separator",
              "composition", "composition", "special"]  # fmt: skip
    # [CLS] and separators get the largest weights but must be ignored
    attn = np.array([0.5, 0.05, 0.03, 0.2, 0.06, 0.1, 0.02, 0.04, 0.0])
    # eligible ranking: wyckoff .06, sg .05, comp .04, sg .03, comp .02
    d = {k: per_sequence_topk([attn], [labels], "space_group", k).iloc[0] for k in (1, 2, 3, 9)}
    assert (d[1]["hit"], d[1]["share"]) == (0.0, 0.0)
    assert (d[2]["hit"], d[2]["share"]) == (1.0, 0.5)
    assert d[3]["share"] == pytest.approx(1 / 3)
    assert d[9]["share"] == pytest.approx(2 / 5)  # k capped at the 5 eligible tokens
    assert d[1]["base"] == pytest.approx(2 / 5)
    assert d[2]["chance"] == pytest.approx(1 - 3 / 10)  # 1 - C(3,2)/C(5,2)
    w = per_sequence_topk([attn], [labels], "wyckoff", 1).iloc[0]
    assert (w["hit"], w["share"], w["base"]) == (1.0, 1.0, pytest.approx(1 / 5))


def _sections(tokenizer, scopes, n):
    return encoded_sections(tokenizer, scopes[:n])


def test_space_group_always_on_top_gives_p1_p2_one(scopes, tokenizer):
    sections = _sections(tokenizer, scopes, 400)
    rng = np.random.default_rng(1)
    attn = []
    for labels in sections:
        a = rng.uniform(0.0, 1.0, len(labels))
        a[[lab == "space_group" for lab in labels]] += 1.0  # above every content token
        a[[lab in ("special", "separator") for lab in labels]] = 5.0  # excluded anyway
        attn.append(a / a.sum())
    table = topk_statistics(attn, sections, "space_group").set_index("k")
    assert table.loc[1, "p1"] == table.loc[1, "p2"] == 1.0
    assert table.loc[1, "p1_ci_low"] == table.loc[1, "p1_ci_high"] == 1.0
    assert 0.4 < table.loc[1, "base_rate"] < 0.95
    for col in ("p1_p_half", "p2_p_half", "p2_p_base", "p2_p_paired"):
        assert table.loc[1, col] < 1e-3, col
    assert table.loc[1, "p2_t_base"] > 0
    # k = 3 needs >= 3 space-group tokens: every phonon string has them
    assert table.loc[3, "p2"] == 1.0
    # the other sections are never on top at k = 1
    comp = topk_statistics(attn, sections, "composition", ks=(1,)).iloc[0]
    assert comp["p1"] == 0.0 and comp["p1_p_half"] < 1e-3


def test_uniform_random_attention_matches_the_base_rate(scopes, tokenizer):
    sections = _sections(tokenizer, scopes, len(scopes))
    rng = np.random.default_rng(0)
    attn = [rng.uniform(size=len(labels)) for labels in sections]
    table = topk_statistics(attn, sections, "space_group")
    assert table["n_sequences"].eq(len(scopes)).all()
    for _, row in table.iterrows():
        assert row["p2"] == pytest.approx(row["base_rate"], abs=0.03)
        assert row["p1"] == pytest.approx(row["p1_chance"], abs=0.03)
        assert row["p2_p_base"] > 1e-3 and row["p2_p_paired"] > 1e-3
        assert row["p1_p_chance"] > 1e-3
    # ... whereas the base rate itself is far from 0.5 -> the 0.5 test rejects
    assert table.loc[0, "p2_p_half"] < 1e-3


# ------------------------------------------------------------------------------------ CLI


def _strict_json(text: str) -> dict:
    def reject(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=reject)


def test_cli_end_to_end(tmp_path, monkeypatch, capsys, tokenizer, tiny_model):
    csv = shared_file("scope_reference/phonon.csv")
    model_dir, out = tmp_path / "model", tmp_path / "out"
    tiny_model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    argv = ["--model", str(model_dir), "--scope-csv", str(csv), "--limit", "40", "--out", str(out)]
    # `python -m cloud.analysis.attention ...`, run in this interpreter (a subprocess would
    # spend ~12 s re-importing torch/transformers/matplotlib on the shared CPUs)
    monkeypatch.setattr(sys, "argv", ["cloud.analysis.attention", *argv])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'cloud.analysis.attention' found in sys.modules")
        runpy.run_module("cloud.analysis.attention", run_name="__main__", alter_sys=True)
    assert "wrote" in capsys.readouterr().out
    report = _strict_json((out / "attention.json").read_text())
    assert report["n_sequences"] == 40 and report["layer"] == 0
    assert set(report["sections"]) == set(SECTIONS)
    for entry in report["sections"].values():
        assert [row["k"] for row in entry["table"]] == [1, 2, 3, 4, 5]
        assert all(0.0 <= row["p2"] <= 1.0 for row in entry["table"])
    base = sum(e["base_rate"] for e in report["sections"].values())
    assert base == pytest.approx(1.0)
    for name in ("head_layer_map.png", "topk.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_cli_masked_lm_without_tokenizer_file(tmp_path, tokenizer, scopes):
    """An MLM checkpoint with no tokenizer.json: the built tokenizer is used (in-process)."""
    torch.manual_seed(1)
    config = CloudConfig.preset("tiny", vocab_size=len(tokenizer), pad_token_id=0)
    CloudForMaskedLM(config).save_pretrained(tmp_path / "mlm")
    csv = tmp_path / "few.csv"
    pd.DataFrame({"scope": scopes[:12]}).to_csv(csv, index=False)
    report = main(["--model", str(tmp_path / "mlm"), "--scope-csv", str(csv), "--layer", "1",
                   "--ks", "1", "2", "--out", str(tmp_path / "out")])  # fmt: skip
    assert report["layer"] == 1 and report["ks"] == [1, 2]
    p1 = report["sections"]["space_group"]["table"][0]["p1"]
    assert not math.isnan(p1)
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "attention.json",
        "head_layer_map.png",
        "topk.png",
    }


# ------------------------------------------------------- ablated inputs, benchmark folds


def test_sections_of_ablated_strings(scopes):
    from cloud.scope.ablations import TRANSFORMS, kept_parts

    text = scopes[0]
    parsed = Scope.parse(text)
    for name, fn in TRANSFORMS.items():
        labels = token_sections(fn(text), kept_parts(name))
        assert labels.count("separator") == len(kept_parts(name)) - 1
        assert [lab for lab in dict.fromkeys(labels) if lab != "separator"] == list(
            kept_parts(name))
    labels = token_sections(TRANSFORMS["no_wyckoff"](text), ("space_group", "composition"))
    assert labels.count("composition") == 2 * len(parsed.composition)
    with pytest.raises(ValueError, match="at most 1"):
        token_sections(text, ("space_group", "composition"))  # a full string has two '|'


def test_report_leaves_out_sections_the_input_lacks(scopes, tokenizer, tiny_model):
    from cloud.analysis.attention import attention_report
    from cloud.scope.ablations import no_wyckoff

    texts = [no_wyckoff(t) for t in scopes[:30]]
    report = attention_report(tiny_model, tokenizer, texts, ks=(1, 2),
                              parts=("space_group", "composition"))
    assert list(report["sections"]) == ["space_group", "composition"]
    base = sum(e["base_rate"] for e in report["sections"].values())
    assert base == pytest.approx(1.0)
    # read as a full SCOPE string, the composition would be labelled Wyckoff
    wrong = attention_report(tiny_model, tokenizer, texts, ks=(1,))
    assert list(wrong["sections"]) == ["space_group", "wyckoff"]


def test_head_layer_data_is_what_the_plot_draws(tmp_path, scopes, tokenizer, tiny_model):
    from cloud.analysis.attention_plots import (
        draw_head_layer_map,
        head_layer_data,
        head_layer_map,
        plot_head_layer_map,
    )

    text = scopes[5]
    data = json.loads(json.dumps(head_layer_data(tiny_model, tokenizer, text, layer=1)))
    grid = plot_head_layer_map(tiny_model, tokenizer, text, tmp_path / "a.png", layer=1)
    np.testing.assert_allclose(grid, head_layer_map(tiny_model, tokenizer, text))
    np.testing.assert_allclose(draw_head_layer_map(data, tmp_path / "b.png", "t"), grid)
    assert data["tokens"][0] == "[CLS]" and len(data["tokens"]) == len(text.split()) + 2
    last = cls_attention(tiny_model, tokenizer, [text], layer=1)[0]
    np.testing.assert_allclose(data["per_token"], last, atol=1e-9)
    assert (tmp_path / "b.png").stat().st_size > 5000


def test_benchmark_folds_pool_to_the_report_of_all_their_sequences(tmp_path, scopes, tokenizer,
                                                                  tiny_model):
    """Two 'folds' analysed separately (as the runner does) and pooled by the report writer
    give exactly the statistics of one analysis of all their strings."""
    from benchmarks.reports.attention_report import (
        attention_options,
        fold_attention,
        write_attention_report,
    )
    from cloud.analysis.attention import SECTIONS, attention_report

    texts, ids = scopes[:50], [f"row-{i}" for i in range(50)]
    opts = attention_options({"example": "row-33", "ks": [1, 3]})
    results = {k: {"attention": fold_attention(tiny_model, tokenizer, ids[s], texts[s], opts,
                                               SECTIONS)}
               for k, s in ((0, slice(0, 20)), (1, slice(20, 50)))}
    results[2] = {"predictions": {}}  # a fold without attention is ignored
    path = write_attention_report(tmp_path, "task", "cloud", results, "tiny")
    report = _strict_json(path.read_text())
    direct = attention_report(tiny_model, tokenizer, texts, ks=(1, 3))
    assert report["n_sequences"] == 50 and report["folds"] == [0, 1]
    for section in SECTIONS:
        for ours, theirs in zip(report["sections"][section]["table"],
                                direct["sections"][section]["table"], strict=True):
            for key, value in theirs.items():
                assert ours[key] == (pytest.approx(value, rel=1e-9, abs=1e-12)
                                     if isinstance(value, float) else value), key
    assert report["example"]["id"] == "row-33"  # found in fold 1
    assert set(report["per_fold"]) == {"0", "1"}
    assert {p.name for p in tmp_path.iterdir()} == {
        "attention_cloud.json", "attention_cloud.md", "attention_cloud_topk.png",
        "attention_cloud_head_layer.png"}
    assert "| 3 |" in (tmp_path / "attention_cloud.md").read_text()
    assert write_attention_report(tmp_path, "task", "cloud", {0: {"predictions": {}}}) is None
    assert attention_options(False) is None and attention_options(True)["layer"] == 0
    with pytest.raises(ValueError, match="unknown attention options"):
        attention_options({"layers": 1})


def test_too_few_sequences_get_no_p_value(scopes, tokenizer):
    """Random attention over real strings: below MIN_N_FOR_P (30) sequences the report and
    its markdown give no t statistic or p-value but say why; from 30 on they do."""
    from benchmarks.reports.attention_report import attention_markdown
    from cloud.analysis.attention import report_from_attention
    from cloud.analysis.significance import MIN_N_FOR_P

    assert MIN_N_FOR_P == 30
    sections = _sections(tokenizer, scopes, 30)
    rng = np.random.default_rng(2)
    attn = [rng.uniform(size=len(labels)) for labels in sections]
    extra = {"task": "t", "model": "m", "folds": [0], "parts": list(SECTIONS), "per_fold": {},
             "example": {"id": "x", "text": "x"}, "plots": {"topk": "a", "head_layer": "b"}}
    for n in (29, 30):
        report = report_from_attention(attn[:n], sections[:n], ks=(1, 2))
        why = f"n too small (n = {n} < 30)" if n < 30 else None
        assert report["p_values_withheld"] == why and report["min_n_for_p_values"] == 30
        rows = [r for e in report["sections"].values() for r in e["table"]]
        assert all(r["n_sequences"] == n and r["p_values_withheld"] == why for r in rows)
        tests = [v for r in rows for k, v in r.items() if k.startswith(("p1_p_", "p2_p_",
                                                                         "p1_t_", "p2_t_"))]
        assert len(tests) == 12 * len(rows)  # 6 tests (t, p) a row
        if why:
            assert all(v is None for v in tests)
        else:
            assert all(0.0 <= r["p2_p_base"] <= 1.0 for r in rows)
        md = attention_markdown({**report, **extra})
        table = [line.split(" | ") for line in md.splitlines() if line.startswith("| 1 | ")]
        assert len(table) == len(report["sections"])
        for cells in table:
            assert cells[1] == str(n)  # the n column
            p_cells = [cells[i] for i in (3, 4, 7)] + [cells[8].rstrip(" |")]
            if why:
                assert p_cells == [why] * 4
            else:
                assert all(0.0 <= float(c) <= 1.0 for c in p_cells), p_cells
