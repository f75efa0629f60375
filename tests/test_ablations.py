"""SCOPE input ablations (cloud.scope.ablations) and their benchmark models.

Real strings: the paper's SCOPE strings of all 1512 phonon materials and the 4521 mapped
matbench_dielectric materials; the paper's generator table is the oracle for the
space-group numbers. The runner tests train tiny smoke models on real matbench_jdft2d folds.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks.models import input_description, scope_mode_problem
from benchmarks.run import main
from benchmarks.tasks.matbench import MatbenchTask
from cloud.analysis.attention import token_sections
from cloud.scope.ablations import (
    DESCRIPTIONS,
    TRANSFORMS,
    UNKNOWN,
    kept_parts,
    no_composition,
    no_wyckoff,
    sg_number,
    transform_texts,
)
from cloud.scope.degraef import generator_table
from cloud.scope.format import Scope
from cloud.scope.space_group import PAPER_GENERATOR_STRINGS, space_group_number
from cloud.scope.wyckoff import all_wyckoff_symbols
from cloud.tokenizer import build_tokenizer
from cloud.train.finetune import DEFAULT_PRETRAINED, load_tokenizer
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def phonon() -> pd.DataFrame:
    return pd.read_csv(shared_file("scope_reference/phonon.csv"))


@pytest.fixture(scope="module")
def paper_numbers() -> dict[str, int]:
    """The paper's table, inverted: generator string -> space-group number (test oracle)."""
    table = json.loads(shared_file("scope_reference/generator_strings.json").read_text())
    return {s: int(n) for n, s in table.items()}


def _parts(text: str) -> list[list[str]]:
    return [p.split() for p in text.split("|")]


def test_sg_number_matches_the_papers_table_for_every_phonon_string(phonon, paper_numbers):
    assert len(phonon) == 1512
    groups = set()
    for text in phonon["scope"]:
        out = sg_number(text)
        (digits, wyckoff, composition), (gen, wyck, comp) = _parts(out), _parts(text)
        assert len(digits) == 3 and all(d in "0123456789" for d in digits)
        number = int("".join(digits))
        assert number == paper_numbers["".join(gen)]
        assert (wyckoff, composition) == (wyck, comp)  # the other parts are untouched
        groups.add(number)
    assert len(groups) == 93  # the distinct groups of the set, incl. the paper's 131 string
    assert 131 in groups and out.count("|") == 2


def test_sg_number_of_every_group_and_of_the_papers_three_other_strings(paper_numbers):
    for number, generator in generator_table().items():  # canonical/paper-mode encoder output
        assert space_group_number(generator) == number
        assert sg_number(f"{' '.join(generator)} | 4a | Na 1.0").startswith(
            " ".join(f"{number:03d}") + " |")
    for generator, number in PAPER_GENERATOR_STRINGS.items():
        assert paper_numbers[generator] == number
        assert generator not in generator_table().values()
    with pytest.raises(ValueError, match="unknown generator"):
        space_group_number("16aODDaDODbOOOcOOOdOOOeOOO1")


def test_sg_number_agrees_with_matbench_space_groups_on_dielectric():
    """Independent check: matbench's own space-group column (computed with other tolerances
    from the MP structures) agrees for most paper strings."""
    scopes = pd.read_csv(shared_file("scope_reference/matbench_dielectric.csv"))
    targets = pd.read_csv(shared_file("matbench/targets/matbench_dielectric.csv.gz"))
    spg = targets.set_index("mbid").loc[scopes["mbid"], "spg_num"].to_numpy()
    ours = np.array([int(sg_number(s).split("|")[0].replace(" ", "")) for s in scopes["scope"]])
    assert (ours == spg).mean() > 0.93  # measured 0.954 (4311 of 4521)


def test_no_wyckoff_and_no_composition_drop_exactly_one_part(phonon):
    wyckoff_symbols = set(all_wyckoff_symbols())
    for text in phonon["scope"]:
        parsed = Scope.parse(text)
        gen, wyck, comp = _parts(text)
        without_w, without_c = no_wyckoff(text), no_composition(text)
        assert _parts(without_w) == [gen, comp]
        assert not wyckoff_symbols & set(without_w.split())
        assert _parts(without_c) == [gen, wyck]
        assert len(without_c.split()) == len(parsed.generator) + 1 + len(parsed.wyckoff)
        assert not any("." in tok for tok in without_c.split())  # no fraction left
        for name, out in (("no_wyckoff", without_w), ("no_composition", without_c),
                          ("sg_number", sg_number(text))):
            labels = token_sections(out, kept_parts(name))
            content = [lab for lab in labels if lab != "separator"]
            assert set(content) == set(kept_parts(name))
            assert content.count("space_group") == (3 if name == "sg_number"
                                                    else len(parsed.generator))


def test_transforms_need_the_three_parts_and_report_bad_rows(phonon):
    texts = list(phonon["scope"][:5])
    ids = list(phonon["mp_id"][:5])
    # synthetic corruption of two real rows (a dropped part, an unknown generator string)
    texts[1] = texts[1].rsplit("|", 1)[0]
    texts[3] = "9 " + texts[3]
    out, errors = transform_texts("sg_number", ids, texts)
    assert len(out) == 5 and out[1] == out[3] == UNKNOWN
    assert [(e[0], e[1]) for e in errors] == [(ids[1], "input_transform"),
                                              (ids[3], "input_transform")]
    assert "3 parts" in errors[0][2] and "unknown generator" in errors[1][2]
    assert out[0] == sg_number(texts[0])
    assert transform_texts(None, ids, texts) == (texts, [])
    with pytest.raises(ValueError, match="unknown input transform"):
        transform_texts("no_space_group", ids, texts)
    with pytest.raises(ValueError):
        no_wyckoff(no_wyckoff(texts[0]))  # an ablated string is not a SCOPE string any more


@pytest.mark.parametrize("source", ["grammar", "committed checkpoint"])
def test_tokenizers_know_every_token_of_the_transformed_strings(phonon, source):
    tokenizer = build_tokenizer() if source == "grammar" else load_tokenizer(DEFAULT_PRETRAINED)
    assert len(tokenizer) == 441
    scopes = pd.read_csv(shared_file("scope_reference/matbench_dielectric.csv"))["scope"]
    texts = [*phonon["scope"], *scopes]
    for name in TRANSFORMS:
        out, errors = transform_texts(name, [str(i) for i in range(len(texts))], texts)
        assert errors == []
        ids = tokenizer(out)["input_ids"]
        assert all(tokenizer.unk_token_id not in row for row in ids), name
        assert all(len(row) == len(t.split()) + 2 for row, t in zip(ids, out, strict=True))


def test_descriptions_and_canonical_needs_structures(shared_data):
    assert set(DESCRIPTIONS) == set(TRANSFORMS)
    assert "Wyckoff" in input_description({"input_transform": "no_wyckoff"})
    assert "canonical" in input_description({"scope_mode": "canonical"})
    assert input_description({"type": "cloud"}) == ""
    strings = MatbenchTask("dielectric").load(shared_data, "canonical", progress=False)
    assert "precomputed" in scope_mode_problem(strings, "canonical")
    assert scope_mode_problem(strings, "paper") is None
    # tasks encoded from structures in canonical mode feed a canonical model, whatever their
    # source text says (the discovery stand-ins word it "encoded (canonical)")
    from benchmarks.tasks.discovery import MptsTask

    task = MptsTask().smoke_sample(20, 10)
    assert scope_mode_problem(task.load(shared_data, "canonical", progress=False),
                              "canonical") is None


# ------------------------------------------------------------------------------- runner


@pytest.fixture(scope="module")
def ablation_run(tmp_path_factory, shared_data):
    """One smoke run: CLOUD and two ablations; attention also on for cloud_no_wyckoff."""
    out = tmp_path_factory.mktemp("ablations")
    extra = out / "extra.yaml"
    extra.write_text("tasks:\n  matbench_jdft2d:\n    models:\n"
                     "      cloud_no_wyckoff: {attention: {ks: [1, 2, 3]}}\n")
    code = main(["--task", "matbench_jdft2d", "--smoke", "--data-dir", str(shared_data),
                 "--models", "cloud,cloud_sg_number,cloud_no_wyckoff", "--config", str(extra),
                 "--no-progress", "--out", str(out / "run")])
    return code, out / "run"


def test_ablation_models_run_and_appear_in_the_reports(ablation_run):
    code, out = ablation_run
    assert code == 0
    models = json.loads((out / "summary.json").read_text())["tasks"]["matbench_jdft2d"]["models"]
    assert set(models) == {"cloud", "cloud_sg_number", "cloud_no_wyckoff"}
    board = (out / "leaderboard.md").read_text()
    for name, transform in (("cloud_sg_number", "sg_number"), ("cloud_no_wyckoff", "no_wyckoff")):
        assert models[name]["description"].endswith(DESCRIPTIONS[transform] + ", smoke")
        assert (f"**{name}** (this run, SMOKE RUN: 240 train / 80 test rows, 2 epochs; "
                f"{models[name]['description']})") in board
        assert np.isfinite(models[name]["summary"]["mae"]["mean"])
        record = json.loads((out / "matbench_jdft2d" / name / "fold_0.json").read_text())
        assert record["input_transform"] == transform and record["input_errors"] == []
    cloud = json.loads((out / "matbench_jdft2d" / "cloud" / "fold_0.json").read_text())
    sg = json.loads((out / "matbench_jdft2d" / "cloud_sg_number" / "fold_0.json").read_text())
    assert "input_transform" not in cloud
    assert sg["config"]["train"] == cloud["config"]["train"]  # same training, other input
    assert sg["predictions"].keys() == cloud["predictions"].keys()
    assert sg["predictions"] != cloud["predictions"]


def _direct_base_rates(text: str, parts: tuple[str, ...], limit: int = 62) -> dict[str, float]:
    """Share of each part's tokens among the content tokens of one encoder input (the
    first ``limit`` words fit between [CLS] and [SEP]), counted from the '|' positions."""
    counts = dict.fromkeys(parts, 0)
    part = 0
    for word in text.split()[:limit]:
        if word == "|":
            part += 1
        else:
            counts[parts[part]] += 1
    total = sum(counts.values())
    return {p: c / total for p, c in counts.items()}


def test_attention_reports_of_the_fine_tuned_fold_models(ablation_run, shared_data):
    _, out = ablation_run
    task_dir = out / "matbench_jdft2d"
    data = MatbenchTask("jdft2d").load(shared_data, "paper", progress=False)
    summary = json.loads((out / "summary.json").read_text())["tasks"]["matbench_jdft2d"]
    assert "attention" not in summary["models"]["cloud_sg_number"]  # not configured there
    assert not (task_dir / "attention_cloud_sg_number.json").exists()
    board = (out / "leaderboard.md").read_text()
    for model, transform, ks in (("cloud", None, [1, 2, 3, 4, 5]),
                                 ("cloud_no_wyckoff", "no_wyckoff", [1, 2, 3])):
        assert summary["models"][model]["attention"] == f"matbench_jdft2d/attention_{model}.json"
        assert f"(matbench_jdft2d/attention_{model}.md)" in board
        report = json.loads((task_dir / f"attention_{model}.json").read_text())
        fold = json.loads((task_dir / model / "fold_0.json").read_text())
        test_ids = list(fold["predictions"])
        assert report["n_sequences"] == len(test_ids) == 80 and report["ks"] == ks
        assert report["layer"] == 0 and report["folds"] == [0]
        parts = kept_parts(transform)
        assert list(report["sections"]) == list(parts)
        texts, _ = transform_texts(transform, test_ids, [data.texts[i] for i in
                                                         data.rows(test_ids)])
        direct = [_direct_base_rates(t, parts) for t in texts]
        for section, entry in report["sections"].items():
            assert entry["base_rate"] == pytest.approx(np.mean([d[section] for d in direct]))
            assert [row["k"] for row in entry["table"]] == ks
            for row in entry["table"]:
                for key in ("p1", "p2", "p1_ci_low", "p2_ci_high", "p1_chance"):
                    assert row[key] is not None
                assert 0.0 <= row["p1"] <= 1.0 and 0.0 <= row["p2"] <= 1.0
                assert row["p2"] <= row["p1"] + 1e-12  # a share > 0 needs a hit
        # the fold's own report is the pooled one when a single fold ran
        assert fold["attention"]["report"]["sections"] == report["sections"]
        assert report["example"]["id"] == test_ids[0]
        grid = np.asarray(report["example"]["grid"])
        assert grid.shape == (2, 2) and np.all((grid > 0) & (grid < 1))  # tiny: 2 layers x 2 heads
        for png in report["plots"].values():
            assert (task_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        md = (task_dir / f"attention_{model}.md").read_text()
        assert "## space_group" in md and ("## wyckoff" in md) == (transform is None)


def test_canonical_model_is_skipped_on_precomputed_paper_strings(tmp_path, shared_data):
    """matbench_dielectric offline has only the paper's strings: a canonical model would
    train on them under a wrong name, so the runner skips it and says why."""
    extra = tmp_path / "extra.yaml"
    extra.write_text("tasks:\n  matbench_dielectric:\n    models:\n"
                     "      cloud_canonical: {type: cloud, scope_mode: canonical}\n")
    assert main(["--task", "matbench_dielectric", "--smoke", "--data-dir", str(shared_data),
                 "--models", "cloud_canonical", "--config", str(extra), "--no-progress",
                 "--out", str(tmp_path / "run")]) == 1  # its only row skipped: nothing done
    entry = json.loads((tmp_path / "run" / "summary.json").read_text())["tasks"][
        "matbench_dielectric"]
    assert entry["models"] == {}
    assert "precomputed" in entry["skipped_models"]["cloud_canonical"]
    assert not (tmp_path / "run" / "matbench_dielectric" / "cloud_canonical").exists()
    board = (tmp_path / "run" / "leaderboard.md").read_text()
    assert "`matbench_dielectric` cloud_canonical: skipped — scope_mode canonical" in board
