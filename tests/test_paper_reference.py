"""The restated paper tables (benchmarks/reference/paper_results.json) and their loader."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.reference import PAPER_RESULTS_PATH, paper_results, paper_table, table_key
from tests.conftest import REPO

SHARED_REFERENCE = REPO.parent / "shared" / "reference" / "paper_results.json"


def test_json_keeps_source_and_names_itself_a_restatement() -> None:
    doc = json.loads(PAPER_RESULTS_PATH.read_text())
    assert "2506.17345" in doc["source"]
    assert all(t in doc["restatement"] for t in ("1", "S1", "S3", "S4", "S5", "S6"))
    if SHARED_REFERENCE.exists():  # same figures as the typed copy in ../shared
        shared = json.loads(SHARED_REFERENCE.read_text())
        assert {k: v for k, v in doc.items() if k != "restatement"} == shared


def test_matbench_table_s3_cloud_rows() -> None:
    s3 = paper_table("S3")
    cloud = s3.loc["CLOUD"]
    assert cloud[("matbench_jdft2d", "mean")] == pytest.approx(35.0057)
    assert cloud[("matbench_phonons", "mean")] == pytest.approx(40.6856)
    assert cloud[("matbench_dielectric", "mean")] == pytest.approx(0.3038)
    assert round(cloud[("matbench_dielectric", "mean")], 3) == 0.304
    assert cloud[("matbench_jdft2d", "std")] == pytest.approx(11.4550)
    assert np.isnan(s3.loc["Wrenformer", ("matbench_jdft2d", "std")])
    assert len(s3.columns) == 16 and "2506.17345" in s3.attrs["source"]


def test_table_1_and_other_tables() -> None:
    t1 = paper_table("Table 1")
    assert list(t1.columns.get_level_values(0).unique()) == ["Cv", "U"]
    ft = t1.loc["CLOUD-DEBYE (pretrained, fine-tuned)"]
    assert (ft[("Cv", "mean")], ft[("U", "mean")]) == (0.057, 0.055)
    assert t1.loc["CLOUD", ("Cv", "mean")] == 0.16
    s4 = paper_table("s4")
    assert s4.loc["CLOUD", "F1"] == 0.474 and s4.loc["Dummy", "DAF"] == 1.0
    s5 = paper_table("table_s5_cloud_wbm_thresholds")
    assert list(s5.index) == [-0.05, 0.0, 0.05]
    assert s5.loc[0.0].to_dict() == {k: s4.loc["CLOUD", k] for k in s5.columns}
    assert paper_table("S6").loc["CLOUD", ("2d_gap", "mean")] == 0.0919
    s1 = paper_table("S1")
    assert s1.loc["pretrain.batch_size", "value"] == 2048
    assert table_key("S3") == ("S3", "table_s3_matbench_mae")
    with pytest.raises(KeyError):
        paper_table("S2")
    paper_results()["table_s3_matbench_mae"]["rows"].clear()  # a copy: the cache is untouched
    assert "CLOUD" in paper_table("S3").index
