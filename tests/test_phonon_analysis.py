"""Phonon Cv/U analyses on the real data: Fig. 4 features and binning, crystal systems,
the AFLOW Debye-temperature reader and matching, and the family outputs of a smoke run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks.models import keeps_model
from benchmarks.reports.phonon_outputs import phonon_materials, write_phonon_outputs
from benchmarks.run import main
from cloud.analysis.phonon_errors import (
    crystal_system,
    equal_count_bins,
    error_table,
    scope_space_group,
)
from cloud.analysis.theta_validation import (
    encode_aflow,
    formula_from_cif,
    match_materials,
    read_aflow_debye,
    theta_statistics,
)
from cloud.scope.space_group import space_group_number


@pytest.fixture(scope="module")
def materials(shared_data) -> pd.DataFrame:
    return phonon_materials(shared_data)


def test_volume_bins_have_equal_counts_on_the_real_volumes(materials):
    volumes = materials["volume"].dropna()
    assert len(volumes) == 1289  # the structures file's materials; the rest have none
    bins = equal_count_bins(volumes.to_numpy())
    counts = np.bincount(bins)
    assert len(counts) == 6 and counts.max() - counts.min() <= 1 and counts.sum() == 1289
    ranges = pd.DataFrame({"v": volumes.to_numpy(), "b": bins}).groupby("b")["v"].agg(
        ["min", "max"])
    assert (ranges["max"].to_numpy()[:-1] <= ranges["min"].to_numpy()[1:]).all()
    # Si diamond: a primitive cell of 2 atoms, a = 5.47 Å -> a^3 / 4 ≈ 40.9 Å^3; corundum:
    # the hexagonal cell (6 Al2O3, about 255-262 Å^3) holds three rhombohedral cells
    assert materials.loc["mp-149", "volume"] == pytest.approx(40.9, rel=0.02)
    assert materials.loc["mp-1143", "volume"] == pytest.approx(86, rel=0.03)
    assert np.isnan(materials.loc["mp-22862", "volume"])  # NaCl: no structure in the file


def test_error_table_leaves_rows_without_structure_out_of_the_volume_bins(materials):
    ids = list(materials.index[:300])  # both kinds of row, real features
    targets = dict.fromkeys(ids, 1.0)
    table = error_table(targets, {"m": {i: 1.5 for i in ids}},
                        materials[["space_group", "crystal_system", "volume"]])
    no_volume = materials.loc[ids, "volume"].isna()
    assert no_volume.any() and (~no_volume).sum() >= 6
    assert (table.set_index("id").loc[no_volume.index[no_volume], "volume_bin"] == -1).all()
    assert np.ptp(np.bincount(table.loc[table["volume_bin"] >= 0, "volume_bin"])) <= 1
    assert table["abs_error"].eq(0.5).all()


def test_crystal_systems_of_known_materials(materials):
    known = {"mp-22862": (225, "cubic"),        # NaCl, Fm-3m
             "mp-804": (186, "hexagonal"),      # GaN wurtzite, P6_3mc
             "mp-1143": (167, "trigonal"),      # Al2O3 corundum, R-3c
             "mp-149": (227, "cubic"),          # Si diamond, Fd-3m
             "mp-1960": (225, "cubic")}         # Li2O antifluorite
    for mp_id, (number, system) in known.items():
        assert scope_space_group(materials.loc[mp_id, "scope"]) == number, mp_id
        assert materials.loc[mp_id, "crystal_system"] == system, mp_id
    edges = {2: "triclinic", 3: "monoclinic", 15: "monoclinic", 16: "orthorhombic",
             74: "orthorhombic", 75: "tetragonal", 142: "tetragonal", 143: "trigonal",
             167: "trigonal", 168: "hexagonal", 194: "hexagonal", 195: "cubic"}
    assert {n: crystal_system(n) for n in edges} == edges
    with pytest.raises(ValueError):
        crystal_system(231)


def test_space_groups_of_the_papers_generator_strings(shared_data):
    """Every string of the paper's table maps to its own space group (the three strings that
    differ from this project's map to the group the paper meant), hence its crystal system."""
    table = json.loads((shared_data / "scope_reference/generator_strings.json").read_text())
    numbers = {int(n): space_group_number(s) for n, s in table.items()}
    assert numbers == {n: n for n in range(1, 231)}
    assert crystal_system(numbers[131]) == "tetragonal" and crystal_system(39) == "orthorhombic"


def test_crystal_system_of_the_string_agrees_with_spglib_on_the_structures(shared_data,
                                                                           materials):
    from cloud.data import read_matbench_json
    from cloud.scope.encoder import encode

    structures = read_matbench_json(shared_data / "phonon/structures.subset.json.gz")
    sample = structures.index[::10]
    ours = [crystal_system(scope_space_group(encode(structures.at[i, "structure"])))
            for i in sample]
    agree = np.mean(np.array(ours) == materials.loc[sample, "crystal_system"].to_numpy())
    assert agree >= 0.97, agree


def test_formula_from_the_scope_string_matches_the_structures(shared_data, materials):
    from collections import Counter

    from cloud.analysis.theta_validation import reduced_formula
    from cloud.data import read_matbench_json

    structures = read_matbench_json(shared_data / "phonon/structures.subset.json.gz")
    wrong = [i for i, s in structures["structure"].items()
             if reduced_formula(Counter(site["species"][0]["element"] for site in s["sites"]))
             != materials.loc[i, "formula"]]
    assert wrong == []


def test_aflow_reader_loads_the_real_files(shared_data):
    aflow = read_aflow_debye(shared_data)
    assert len(aflow) == 3433 + 735 + 736 and aflow.index.is_unique
    assert aflow["split"].value_counts().to_dict() == {"train": 3433, "val": 735, "test": 736}
    assert aflow["theta"].between(40, 2200).all()
    assert 250 < aflow["theta"].median() < 350
    assert formula_from_cif(aflow.loc["aflow-test-000", "cif"]) == "ThCoSn"  # Th3 Co3 Sn3
    assert formula_from_cif(aflow.loc["aflow-train-0000", "cif"]) == "MnGa"
    small = read_aflow_debye(shared_data, max_rows=49)
    assert len(small) == 49 and set(small["split"]) == {"train", "val", "test"}


def test_matching_finds_the_expected_pairs(shared_data, materials):
    aflow = read_aflow_debye(shared_data)
    wanted = {"NaCl", "GaN", "MgO", "Li2O", "Al2O3", "SiC"}
    formulas = aflow["cif"].map(formula_from_cif)
    table, errors = encode_aflow(aflow[formulas.isin(wanted)], progress=False)
    assert errors == [] and set(table["formula"]) == wanted
    pairs = match_materials(materials, table)
    found = set(zip(pairs["mp_id"], pairs["aflow_id"], strict=True))
    assert {("mp-22862", "aflow-train-1297"),    # NaCl Fm-3m (AFLOW Θ 289 K)
            ("mp-804", "aflow-val-311"),          # GaN P6_3mc (606 K)
            ("mp-1265", "aflow-train-1678"),      # MgO Fm-3m (890 K)
            ("mp-1960", "aflow-val-198")} <= found  # Li2O Fm-3m (953 K)
    # GaN rock salt / zinc blende and NaCl Pm-3m have no AFLOW entry of their space group;
    # AFLOW's Al2O3 is Pbcn (60), the phonon set's corundum R-3c (167): no pair
    assert not {"mp-2853", "mp-830", "mp-22851", "mp-1143"} & set(pairs["mp_id"])
    # the rule cannot tell SiC polytypes apart: 2H, 4H and 6H (all P6_3mc) share one entry
    assert set(pairs.loc[pairs["formula"] == "SiC", "aflow_id"]) == {"aflow-train-1023"}
    assert (pairs.loc[pairs["formula"] == "SiC", "space_group"] == 186).all()


def test_theta_from_the_labels(shared_data):
    """Θ implied by the real labels reproduces them through the Debye model; U labels below
    the classical 3NRT (no Debye solid holds less at 300 K) have none."""
    from cloud.data import read_phonon
    from cloud.debye import R_GAS, debye_cv, debye_u
    from cloud.debye.inverse import theta_from_value

    cv = read_phonon("cv", data_dir=shared_data)
    theta = theta_from_value(cv["value"], cv["n_atoms"], "cv")
    assert np.isfinite(theta).all() and 50 < np.median(theta) < 1000
    back = debye_cv(300.0, np.asarray(theta)[:, None], cv["n_atoms"].to_numpy(float))
    np.testing.assert_allclose(back.numpy().ravel(), cv["value"], rtol=1e-6)
    u = read_phonon("u", data_dir=shared_data)
    theta_u = theta_from_value(u["value"], u["n_atoms"], "u")
    below = u["value"].to_numpy() < 3 * u["n_atoms"].to_numpy() * R_GAS * 300
    assert below.sum() == 64 and (np.isnan(theta_u) == below).all()
    back = debye_u(300.0, theta_u[~below][:, None], u["n_atoms"].to_numpy(float)[~below])
    np.testing.assert_allclose(back.numpy().ravel(), u["value"].to_numpy()[~below], rtol=1e-6)


def test_theta_statistics_on_a_synthetic_example():
    """Synthetic numbers (not data): a monotone but shifted prediction."""
    ref = np.array([100.0, 200.0, 300.0, 400.0])
    s = theta_statistics(ref**1.1, ref)
    assert s["spearman"] == pytest.approx(1.0) and s["n"] == 4
    assert s["mae"] == pytest.approx(np.mean(ref**1.1 - ref))
    assert np.isnan(theta_statistics([], [])["mae"])


def test_keep_model_folds_selects_folds():
    from benchmarks.models import model_spec
    from benchmarks.plan import RunOptions, fold_spec

    def kept(entry, k, save_models=False):
        return keeps_model(fold_spec(model_spec("m", entry), k,
                                     RunOptions(save_models=save_models)))

    assert kept({"type": "cloud_debye", "keep_model_folds": [5]}, 5)
    assert not kept({"type": "cloud_debye", "keep_model_folds": [5]}, 0)
    assert kept({"type": "cloud", "keep_model": True}, 0)
    assert not kept({"type": "cloud"}, 0)
    # --save-models keeps every fold's model; baselines have none to keep
    assert kept({"type": "cloud"}, 3, save_models=True)
    assert not kept({"type": "dummy"}, 3, save_models=True)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, shared_data):
    out = tmp_path_factory.mktemp("phonon") / "run"
    code = main(["--task", "cv", "--smoke", "--models", "cloud,cloud_debye", "--no-progress",
                 "--data-dir", str(shared_data), "--out", str(out)])
    return code, out


def test_smoke_run_writes_the_analysis(smoke):
    code, out = smoke
    assert code == 0
    adir = out / "cv" / "analysis"
    report = json.loads((adir / "analysis.json").read_text())
    fig4 = report["fig4"]
    assert fig4["folds"] == {"cloud": [0], "cloud_debye": [0]} and fig4["n_materials"] == 80
    counts = {int(k): v for k, v in fig4["volume_bin_counts"].items()}
    assert counts.get(-1, 0) == fig4["n_without_structure"]
    bins = [counts[k] for k in range(6)]
    assert max(bins) - min(bins) <= 1 and sum(bins) + counts.get(-1, 0) == 80
    errors = pd.read_csv(adir / "fig4_errors.csv")
    assert len(errors) == 160 and set(errors["model"]) == {"cloud", "cloud_debye"}
    for name in ("fig4.png", "curves_cloud_debye_cv.png", "curves_cloud_debye_u.png",
                 "theta_cloud_debye.png"):
        assert (adir / name).stat().st_size > 1000, name

    entry = report["debye_models"]["cloud_debye"]
    assert entry["kept_model"]["fold"] == 0 and entry["kept_model"]["trained_on"] == "cv"
    curves = json.loads((adir / "curves_cloud_debye.json").read_text())
    assert curves["formulas_not_in_data"] == ["CaTiO3"]
    assert {m["mp_id"] for m in curves["materials"]} == {"mp-1143", "mp-1960", "mp-2853",
                                                         "mp-804", "mp-830"}
    # a 2-epoch model, yet the Debye form guarantees every check on the wide grid
    assert curves["all_checks_pass"]
    for m in curves["materials"]:
        assert set(m["checks"]) == {"cv_monotone", "u_monotone", "dulong_petit", "t3_law"}
    theta = pd.read_csv(adir / "theta_aflow_cloud_debye.csv")
    assert len(theta) == entry["aflow_all"]["n"] == 60 and theta["theta_predicted"].gt(0).all()
    assert "cloud" not in report["debye_models"]  # CLOUD predicts Cv directly: no Θ
    assert report["target_theta"]["n"] == 1512 and report["target_theta"]["n_undefined"] == 0
    assert not list(out.rglob("*.tmp"))


def test_outputs_say_when_no_model_was_kept(smoke, shared_data, tmp_path):
    _, out = smoke
    record = json.loads((out / "cv" / "cloud_debye" / "fold_0.json").read_text())
    record.pop("model_dir")
    record["config"]["analysis"] = {"aflow_max_rows": 3}
    targets = dict.fromkeys(record["predictions"], 40.0)
    results = {"cv": {"partial": False, "targets": targets,
                      "models": {"cloud_debye": {0: record}}}}
    write_phonon_outputs(tmp_path, results, shared_data, progress=False)
    report = json.loads((tmp_path / "cv" / "analysis" / "analysis.json").read_text())
    assert report["debye_models"]["cloud_debye"]["kept_model"].startswith("none:")
    assert not list((tmp_path / "cv" / "analysis").glob("curves_*"))
    assert (tmp_path / "cv" / "analysis" / "theta_matched_cloud_debye.csv").exists()


def test_requested_curve_materials_are_added_or_reported(smoke, shared_data, tmp_path):
    _, out = smoke
    record = json.loads((out / "cv" / "cloud_debye" / "fold_0.json").read_text())
    record["config"]["analysis"] = {"aflow_max_rows": 3, "curve_materials": ["mp-149", "mp-0"]}
    results = {"cv": {"partial": False, "targets": dict.fromkeys(record["predictions"], 40.0),
                      "models": {"cloud_debye": {0: record}}}}
    write_phonon_outputs(tmp_path, results, shared_data, progress=False)
    curves = json.loads((tmp_path / "cv" / "analysis" / "curves_cloud_debye.json").read_text())
    assert curves["materials"][-1]["mp_id"] == "mp-149" and len(curves["materials"]) == 6
    assert curves["input_errors"] == [["mp-0", "not_in_data",
                                       "mp id not among the phonon materials"]]
    table = pd.read_csv(tmp_path / "cv" / "analysis" / "curves_cloud_debye.csv")
    assert table["T"].min() == 1 and table["T"].max() == 2000
    assert len(table) == 6 * table["T"].nunique()
