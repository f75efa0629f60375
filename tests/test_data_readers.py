"""Readers on the real data files: row counts, ids, finite targets."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cloud.data import (
    DataMissingError,
    matbench_ids,
    read_cif_csv,
    read_json,
    read_matbench_json,
    read_matbench_targets,
    read_phonon,
    read_records_json,
    read_scope_csv,
    resolve,
)
from tests.conftest import SHARED_DATA

SHARED = SHARED_DATA  # ../shared/data, or $CLOUD_DATA_DIR (tests/conftest.py)


@pytest.fixture(scope="module")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"real data directory {SHARED} not found")
    return SHARED


def finite(values: object) -> bool:
    return bool(np.isfinite(np.asarray(values, dtype=float)).all())


@pytest.mark.parametrize(
    "task,n,target,first,last",
    [
        ("matbench_jdft2d", 636, "exfoliation_en", "mb-jdft2d-001", "mb-jdft2d-636"),
        ("matbench_phonons", 1265, "last phdos peak", "mb-phonons-0001", "mb-phonons-1265"),
    ],
)
def test_matbench_json(shared: Path, task: str, n: int, target: str, first: str, last: str) -> None:
    df = read_matbench_json(resolve(task, data_dir=shared))
    assert len(df) == n and df.index.name == "mbid"
    assert df.index[0] == first and df.index[-1] == last
    assert list(df.columns) == ["structure", target]
    s = df["structure"].iloc[0]
    assert isinstance(s, dict) and s["@class"] == "Structure" and s["sites"]
    assert finite(df[target])
    # targets agree with the independent MatBench artifacts
    ref = read_matbench_targets(task, data_dir=shared)
    assert ref.index.tolist() == df.index.tolist()
    assert np.allclose(ref[target].to_numpy(), df[target].to_numpy(), rtol=1e-8, atol=1e-8)


def test_matbench_ids_padding() -> None:
    assert matbench_ids("matbench_mp_e_form", 132752)[0] == "mb-mp-e-form-000001"
    assert matbench_ids("log_gvrh", 10987)[-1] == "mb-log-gvrh-10987"


def test_perovskite_subset_keeps_its_ids(shared: Path) -> None:
    df = read_matbench_json(resolve("matbench_perovskites_subset", data_dir=shared))
    assert len(df) == 6989
    assert df.index[0] == "mb-perovskites-00004" and df.index.is_unique
    ref = read_matbench_targets("perovskites", data_dir=shared)
    assert set(df.index) <= set(ref.index)
    assert np.allclose(df["e_form"], ref.loc[df.index, "e_form"])


def test_phonon_structure_subset(shared: Path) -> None:
    df = read_matbench_json(resolve("phonon_structures_subset", data_dir=shared))
    assert len(df) == 1289 and df.index[0].startswith("mp-") and df.index.name == "id"


@pytest.mark.parametrize("kind,unit", [("cv", "J/(mol-cell K)"), ("u", "J/mol-cell")])
def test_read_phonon(shared: Path, kind: str, unit: str) -> None:
    df = read_phonon(kind, data_dir=shared, download=False)
    assert len(df) == 1512 and df["mp_id"].is_unique
    assert list(df.columns) == ["mp_id", "value", "split", "scope", "n_atoms"]
    assert df["split"].value_counts().to_dict() == {"train": 1224, "test": 288}
    assert finite(df["value"]) and (df["value"] > 0).all()
    assert df["n_atoms"].between(1, 200).all() and df["scope"].str.contains(r"\|").all()
    assert df.attrs["unit"] == unit
    if kind == "cv":  # first row of the upstream cv_test.csv (U has its own split)
        assert df.loc[df.mp_id == "mp-10748", "split"].item() == "test"


def test_read_phonon_from_raw_upstream_csvs(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the merged CSV, the two upstream CSVs (`,cif_id,property`) are read instead."""
    monkeypatch.setenv("CLOUD_CACHE_DIR", str(tmp_path / "cache"))
    merged = read_phonon("cv", data_dir=shared, download=False)
    root = tmp_path / "data"
    (root / "phonon").mkdir(parents=True)
    (root / "scope_reference").mkdir()
    shutil.copyfile(
        shared / "scope_reference" / "phonon.csv", root / "scope_reference" / "phonon.csv"
    )
    with pytest.raises(DataMissingError, match="cv_training.csv"):
        read_phonon("cv", data_dir=root, download=False)
    for split, name in (("train", "training"), ("test", "test")):
        part = merged[merged.split == split][["mp_id", "value"]]
        part.columns = ["cif_id", "property"]
        part.reset_index(drop=True).to_csv(root / "phonon" / f"cv_{name}.csv")
    raw = read_phonon("cv", data_dir=root, download=False)
    pd.testing.assert_frame_equal(raw, merged)


@pytest.mark.parametrize(
    "task,n",
    [
        ("dielectric", 4764),
        ("jdft2d", 636),
        ("log_gvrh", 10987),
        ("log_kvrh", 10987),
        ("mp_e_form", 132752),
        ("mp_gap", 106113),
        ("perovskites", 18928),
        ("phonons", 1265),
    ],
)
def test_matbench_targets(shared: Path, task: str, n: int) -> None:
    df = read_matbench_targets(task, data_dir=shared)
    assert len(df) == n and df.index.is_unique
    assert df.index.tolist() == matbench_ids(task, n)
    assert finite(df.iloc[:, 0])
    assert {"composition", "spg_num", "crys_sys"} <= set(df.columns)


def test_scope_csvs(shared: Path) -> None:
    diel = read_scope_csv(resolve("scope_matbench_dielectric", data_dir=shared))
    assert len(diel) == 4521 and diel.index.name == "mbid" and diel.index.is_unique
    assert diel.index[0] == "mb-dielectric-0001" and finite(diel["n"])
    assert diel["scope"].str.count(r"\|").eq(2).all()
    ph = read_scope_csv(resolve("scope_phonon", data_dir=shared))
    assert len(ph) == 1512 and ph.index.name == "mp_id"
    pre = read_scope_csv(resolve("scope_pretrain_optimade_10k", data_dir=shared))
    assert len(pre) == 10000 and list(pre.columns) == ["scope"]


@pytest.mark.parametrize(
    "key,n,id_name,target",
    [
        ("mpts_52_val", 5000, "material_id", "energy_above_hull"),
        ("mp_20_biternary_test", 7118, "material_id", "e_above_hull"),
        ("perov_5_val", 3787, "material_id", "heat_all"),
        ("aflow_debye_temperature_train", 3433, None, "debye_temperature"),
        ("wbm_relaxed_subset_10k", 10000, "material_id", "e_form_per_atom_wbm"),
    ],
)
def test_cif_csvs(shared: Path, key: str, n: int, id_name: str | None, target: str) -> None:
    df = read_cif_csv(resolve(key, data_dir=shared))
    assert len(df) == n and df.index.name == id_name
    assert not any(str(c).startswith("Unnamed") for c in df.columns)
    assert df["cif"].str.contains("_cell_length_a").all()
    assert finite(df[target])


def test_json_helpers(shared: Path) -> None:
    recs = read_records_json(resolve("unconv_2dmatpedia_subset", data_dir=shared))
    assert len(recs) == 1224 and recs.index.name == "material_id"
    assert recs["exfoliation_energy_per_atom"].notna().sum() == 904
    gens = read_json(resolve("scope_generator_strings", data_dir=shared))
    assert len(gens) == 230
