"""Bad inputs become rows of the error table with a reason; good rows are all kept."""

from __future__ import annotations

import copy
import csv
import gzip
import os

import pytest

from cloud.scope.batch import encode_many
from cloud.scope.cli import main
from cloud.scope.encoder import ScopeEncoder
from cloud.scope.errors import DisorderedSiteError, ParseError, UnknownElementError
from cloud.scope.inputs import read_inputs
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def good_rows():
    return read_inputs(shared_file("matbench/matbench_jdft2d.json.gz"))[:40]


def _bad_rows(template):
    disordered = copy.deepcopy(template)
    disordered["sites"][0]["species"] = [
        {"element": "Fe", "occu": 0.5},
        {"element": "Ni", "occu": 0.5},
    ]
    vacancy = copy.deepcopy(template)
    vacancy["sites"][0]["species"] = [{"element": "Fe", "occu": 0.9}]
    unknown = copy.deepcopy(template)
    unknown["sites"][0]["species"] = [{"element": "Xx", "occu": 1}]
    empty = copy.deepcopy(template)
    empty["sites"] = []
    return [
        ("bad-disordered", disordered, "disordered"),
        ("bad-vacancy", vacancy, "disordered"),
        ("bad-unknown", unknown, "unknown_element"),
        ("bad-empty", empty, "empty"),
        ("bad-cif", "data_broken\n_cell_length_a 3.0\nloop_\n_atom_site_label\n", "parse"),
        ("bad-none", None, "empty"),
    ]


@pytest.mark.parametrize("workers", [1, 2])
def test_batch_keeps_every_row(good_rows, workers):
    bad = _bad_rows(good_rows[0][1])
    items = good_rows[:20] + [(i, s) for i, s, _ in bad] + good_rows[20:]
    result = encode_many(items, ScopeEncoder(), workers=workers, chunksize=7, progress=False)
    assert [i for i, _ in result.rows] == [i for i, _ in good_rows]
    assert {i: k for i, k, _ in result.errors} == {i: k for i, _, k in bad}
    assert all(msg for _, _, msg in result.errors)


class _KillingEncoder(ScopeEncoder):
    """Synthetic fault injection (test only): the worker process dies on one id, as when the
    kernel kills it for memory (a canonical-mode moyopy hang once grew a worker to 12 GB)."""

    def encode(self, structure):
        if isinstance(structure, dict) and structure.get("kill_me"):
            os._exit(9)
        return super().encode(structure)


def test_batch_survives_a_dying_worker(good_rows):
    killer = dict(copy.deepcopy(good_rows[0][1]), kill_me=True)
    items = good_rows[:25] + [("bad-kills-worker", killer)] + good_rows[25:]
    result = encode_many(items, _KillingEncoder(), workers=2, chunksize=4, progress=False)
    assert [i for i, _ in result.rows] == [i for i, _ in good_rows]
    assert [(i, k) for i, k, _ in result.errors] == [("bad-kills-worker", "crash")]
    expected = dict(encode_many(good_rows, ScopeEncoder(), workers=1, progress=False).rows)
    assert dict(result.rows) == expected


def test_single_encode_raises_typed_errors(good_rows):
    bad = {i: s for i, s, _ in _bad_rows(good_rows[0][1])}
    enc = ScopeEncoder()
    with pytest.raises(DisorderedSiteError, match="site 0"):
        enc.encode(bad["bad-disordered"])
    with pytest.raises(UnknownElementError, match="Xx"):
        enc.encode(bad["bad-unknown"])
    with pytest.raises(ParseError):
        enc.encode(bad["bad-cif"])


def test_cli_cif_csv_with_bad_rows(tmp_path):
    """A CSV(.gz) with a cif column: real CIFs plus a malformed and an empty one."""
    src = shared_file("stability/mp_20_biternary_val.csv.gz")
    with gzip.open(src, "rt", newline="") as fh:
        rows = [r for _, r in zip(range(30), csv.DictReader(fh), strict=False)]
    rows.append({**rows[0], "material_id": "broken", "cif": "data_x\n_cell_length_a 1\n"})
    rows.append({**rows[0], "material_id": "empty", "cif": ""})
    path = tmp_path / "in.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out.csv"
    assert main([str(path), "--out", str(out), "--no-progress", "--mode", "canonical"]) == 0
    with open(out, newline="") as fh:
        ok = {r["id"] for r in csv.DictReader(fh)}
    with open(tmp_path / "out.errors.csv", newline="") as fh:
        errors = {r["id"]: r["kind"] for r in csv.DictReader(fh)}
    assert errors == {"broken": "parse", "empty": "empty"}
    assert ok == {r["material_id"] for r in rows[:30]}


def test_cli_cif_directory(tmp_path):
    src = shared_file("aflow/debye_temperature/val.csv.gz")
    with gzip.open(src, "rt", newline="") as fh:
        rows = [r for _, r in zip(range(5), csv.DictReader(fh), strict=False)]
    for i, row in enumerate(rows):
        (tmp_path / f"s{i}.cif").write_text(row["cif"])
    (tmp_path / "garbage.cif").write_text("not a cif at all")
    out = tmp_path / "o" / "scope.csv"
    assert main([str(tmp_path), "--out", str(out), "--no-progress", "--workers", "1"]) == 0
    with open(out, newline="") as fh:
        assert {r["id"] for r in csv.DictReader(fh)} == {f"s{i}" for i in range(5)}
    with open(out.with_name("scope.errors.csv"), newline="") as fh:
        assert [r["id"] for r in csv.DictReader(fh)] == ["garbage"]


def test_cli_registry_key_reads_local_data_dir(tmp_path, shared_data):
    out = tmp_path / "jdft2d.csv"
    assert main(["matbench_jdft2d", "--data-dir", str(shared_data), "--out", str(out),
                 "--no-progress"]) == 0
    with open(out, newline="") as fh:
        ids = [r["id"] for r in csv.DictReader(fh)]
    assert ids[0] == "mb-jdft2d-001" and len(ids) == 636


def test_cli_missing_file_names_file_and_source(tmp_path, shared_data, capsys, monkeypatch):
    """matbench_dielectric has no structures offline: a clear message, not a traceback."""
    monkeypatch.setenv("CLOUD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("urllib.request.urlopen", _offline)
    code = main(["matbench_dielectric", "--data-dir", str(shared_data),
                 "--out", str(tmp_path / "x.csv"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "matbench_dielectric.json.gz" in err
    assert "https://" in err


def _offline(*args, **kwargs):
    raise OSError("network is unreachable (test)")
