"""The dataset registry: complete fields, and offline entries that match the real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cloud.data import (
    FAMILIES,
    MATBENCH_TASKS,
    UNCONVBENCH_TASKS,
    get_entry,
    load_registry,
    sha256sum,
    validate_registry,
    verify_detail,
)
from cloud.data.registry import validate_entry
from tests.conftest import SHARED_DATA

SHARED = SHARED_DATA  # ../shared/data, or $CLOUD_DATA_DIR (tests/conftest.py)
REQUIRED = (
    "key",
    "family",
    "urls",
    "checksum",
    "checksum_source",
    "format",
    "path",
    "target",
    "n_rows",
    "offline",
)


@pytest.fixture(scope="module")
def shared() -> Path:
    if not (SHARED / "MANIFEST.json").is_file():
        pytest.skip(f"real data directory {SHARED} (with MANIFEST.json) not found")
    return SHARED


@pytest.fixture(scope="module")
def manifest(shared: Path) -> dict[str, dict]:
    return json.loads((shared / "MANIFEST.json").read_text())


def test_registry_yaml_has_every_required_field() -> None:
    doc = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "cloud" / "data" / "registry.yaml").read_text()
    )
    assert doc["entries"]
    for d in doc["entries"]:
        missing = [f for f in REQUIRED if f not in d]
        assert not missing, f"{d.get('key')}: missing {missing}"
        assert d["offline"]["status"] in ("complete", "partial", "absent")
        assert d["offline"].get("note"), d["key"]


def test_registry_is_consistent() -> None:
    assert validate_registry() == []
    reg = load_registry()
    assert {e.family for e in reg} <= set(FAMILIES)
    for e in reg:
        assert validate_entry(e) == []


def test_registry_covers_the_suite() -> None:
    reg = load_registry()
    for task in MATBENCH_TASKS:
        e = reg[task]
        assert e.family == "matbench" and e.path == f"matbench/{task}.json.gz"
        assert e.checksum is not None and e.checksum.algorithm == "sha256"
        assert "matminer" in e.checksum_source and e.urls and e.target and e.n_rows
        # the offline copy has targets tables of the 8 regression tasks only
        assert (f"{task}_targets" in reg) == (task in MATBENCH_TASKS[:8])
    for t in UNCONVBENCH_TASKS:
        e = reg[f"unconvbench_{t}"]
        assert e.figshare is not None and e.figshare.article_id == 26657428
        assert e.checksum is None and "TBA" in e.checksum_source  # none published: said so
    for kind in ("cv", "u"):
        for split in ("train", "test"):
            e = reg[f"phonon_{kind}_{split}"]
            assert all("examining-GNN-for-crystal-periodicity" in u for u in e.urls)
    v = reg["matbench_v0.1_validation"]
    assert v.checksum is not None and v.checksum.value.startswith("94c17bc3")
    assert v.urls[0].startswith("https://raw.githubusercontent.com/materialsproject/matbench/")
    assert v.download_path == "matbench/matbench_v0.1_validation.json"


def test_lookup_by_key_and_path() -> None:
    assert get_entry("matbench/matbench_jdft2d.json.gz").key == "matbench_jdft2d"
    assert get_entry("matbench/matbench_v0.1_validation.json").key == "matbench_v0.1_validation"
    with pytest.raises(KeyError, match="matbench_jdft2d"):
        get_entry("jdft2d")


def test_discovery_entries_restate_data_files_yml(shared: Path) -> None:
    upstream = yaml.safe_load((shared / "discovery" / "data-files.yml").read_text())
    public = {k: v for k, v in upstream.items() if not k.startswith("_")}
    reg = load_registry()
    assert {e.key for e in reg.family("discovery")} == set(public)
    for key, v in public.items():
        e = reg[key]
        assert list(e.urls) == ([v["url"]] if v.get("url") else [])
        assert e.upstream_path == v["path"]
        if v.get("md5"):
            assert e.checksum is not None and str(e.checksum) == f"md5:{v['md5']}"
        else:
            assert e.checksum is None


def test_offline_copies_exist_and_match_manifest(shared: Path, manifest: dict) -> None:
    reg = load_registry()
    present = [e for e in reg if e.offline.status != "absent"]
    assert len(present) >= len(manifest)
    for e in present:
        path = shared / e.path
        assert path.is_file(), f"{e.key}: {path} missing"
        assert manifest[e.path]["sha256"] == e.offline.sha256, e.key
        assert manifest[e.path]["bytes"] == e.offline.bytes == path.stat().st_size, e.key
        assert sha256sum(path) == e.offline.sha256, e.key
        if e.family == "offline":
            assert e.checksum is not None and e.checksum.value == e.offline.sha256
    # every file of the offline copy is registered
    assert set(manifest) <= {e.path for e in present}


@pytest.mark.parametrize(
    "key,against",
    [
        ("mp_elemental_ref_entries", "canonical"),  # byte-identical to figshare (md5)
        ("wbm_dft_geo_opt_symprec_1e_2", "canonical"),  # stored as wbm_relaxed_symmetry.csv.gz
        ("matbench_jdft2d", "manifest"),  # converted copy, not canonical bytes
        ("matbench_v0.1_validation", "manifest"),
        ("scope_phonon", "canonical"),  # offline entry: checksum = MANIFEST sha256
    ],
)
def test_offline_files_verify(shared: Path, key: str, against: str) -> None:
    e = get_entry(key)
    assert verify_detail(shared / e.path, e).against == against
