"""Robustness of a benchmark run: killed and resumed, bad input rows, corrupted files.

Complements test_runner.py (finished folds reused, --force), test_train.py (resume inside
one training), test_scope_errors.py (bad rows in the encoder and CLI) and test_data_fetch.py
(corrupted downloads and cache files refused by ``resolve``): here the same properties are
checked through the runner, and the SCOPE encoding cache of ``benchmarks/tasks/scope_inputs``.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from benchmarks.regression import REPO
from benchmarks.run import main
from benchmarks.tasks import scope_inputs
from benchmarks.tasks.base import Fold, TaskAdapter, TaskData
from benchmarks.tasks.scope_inputs import encode_structures
from cloud.data import read_matbench_json
from cloud_bench import evaluate
from tests.conftest import shared_file

JDFT2D = "matbench/matbench_jdft2d.json.gz"


@pytest.fixture(scope="module")
def jdft2d():
    return read_matbench_json(shared_file(JDFT2D))


# --- resume after a kill ----------------------------------------------------------------


def _runner(out, config, data_dir):
    return [sys.executable, "benchmarks/run.py", "--task", "matbench_jdft2d", "--smoke",
            "--models", "cloud", "--folds", "0,1", "--config", str(config), "--no-progress",
            "--data-dir", str(data_dir), "--out", str(out)]


def test_killed_run_resumes_without_redoing_finished_folds(tmp_path, shared_data):
    """SIGKILL once fold 0 is written and fold 1 has trained one epoch; the rerun keeps fold 0
    as it is, resumes fold 1, and ends with the results of an uninterrupted run."""
    config = tmp_path / "three_epochs.yaml"
    config.write_text("smoke:\n  models:\n    cloud:\n      train: {epochs: 3}\n")
    out = tmp_path / "killed"
    fold0 = out / "matbench_jdft2d" / "cloud" / "fold_0.json"
    fold1 = fold0.with_name("fold_1.json")
    state1 = fold0.with_name("fold_1_train") / "trainer_state.json"
    proc = subprocess.Popen(_runner(out, config, shared_data), cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 900
    while not (fold0.exists() and state1.exists()):
        if proc.poll() is not None:
            pytest.fail("the run ended before it could be killed: "
                        + proc.stderr.read().decode()[-2000:])
        assert time.monotonic() < deadline, "fold 1 never started training"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert not fold1.exists(), "fold 1 finished before the kill: the test proved nothing"
    assert not json.loads(state1.read_text())["finished"]
    before, stamp = fold0.read_bytes(), fold0.stat().st_mtime_ns

    rerun = subprocess.run(_runner(out, config, shared_data), cwd=REPO, capture_output=True,
                           text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "cloud fold 0:" not in rerun.stderr and "cloud fold 1:" in rerun.stderr
    assert fold0.read_bytes() == before and fold0.stat().st_mtime_ns == stamp

    reference = tmp_path / "uninterrupted"
    ref = subprocess.run(_runner(reference, config, shared_data), cwd=REPO,
                         capture_output=True, text=True, timeout=900)
    assert ref.returncode == 0, ref.stderr[-3000:]
    for name in ("fold_0.json", "fold_1.json"):
        a = json.loads((out / "matbench_jdft2d" / "cloud" / name).read_text())
        b = json.loads((reference / "matbench_jdft2d" / "cloud" / name).read_text())
        assert a["metrics"] == b["metrics"] and a["predictions"] == b["predictions"], name
        assert [r["train_loss"] for r in a["history"]] == [r["train_loss"] for r in b["history"]]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"]["matbench_jdft2d"]["models"]["cloud"]["n_folds"] == 2


# --- bad input rows ---------------------------------------------------------------------


def _bad_rows(template: dict, empty_file) -> list[tuple[str, object, float, str]]:
    """(id, structure, target, expected error kind); the structures are edits of a real one."""
    disordered = copy.deepcopy(template)
    disordered["sites"][0]["species"] = [{"element": "Fe", "occu": 0.5},
                                         {"element": "Ni", "occu": 0.5}]
    unknown = copy.deepcopy(template)
    unknown["sites"][0]["species"] = [{"element": "Xx", "occu": 1}]
    empty_file.write_text("")
    return [
        ("bad-cif", "data_broken\n_cell_length_a 3.0\nloop_\n_atom_site_label\n", 1.0, "parse"),
        ("bad-disordered", disordered, 1.0, "disordered"),
        ("bad-unknown-element", unknown, 1.0, "unknown_element"),
        ("bad-empty-file", empty_file, 1.0, "empty"),
        ("bad-nan-target", copy.deepcopy(template), float("nan"), "nan_target"),
    ]


class MixedRowsTask(TaskAdapter):
    """Real jdft2d rows (60 as structure dicts, 4 as CIF text) with bad rows in between."""

    name = "robustness_mixed_rows"
    family = "robustness"
    unit = "meV/atom"

    def __init__(self, rows):
        self.rows = rows  # (id, structure, target)

    def load(self, data_dir=None, mode="paper", progress=True) -> TaskData:
        ids, structures, targets = (list(c) for c in zip(*self.rows, strict=True))
        kept, texts, y, _, errors = encode_structures(ids, structures, targets, mode, progress)
        have = set(kept)
        test = [i for k, i in enumerate(ids) if k % 4 == 0 and i in have]
        train = [i for k, i in enumerate(ids) if k % 4 and i in have]
        return TaskData(kept, texts, y, [Fold(train, test)], len(ids), "test rows",
                        errors=errors)


def test_bad_rows_are_reported_and_no_good_row_is_lost(jdft2d, tmp_path, monkeypatch):
    from pymatgen.core import Structure

    good = [(i, s, float(t)) for i, (s, t) in
            zip(jdft2d.index[:64], jdft2d.iloc[:64].itertuples(index=False), strict=True)]
    good[60:] = [(i, Structure.from_dict(s).to(fmt="cif"), t) for i, s, t in good[60:]]
    bad = _bad_rows(good[0][1], tmp_path / "empty.cif")
    rows = good[:10] + [b[:3] for b in bad[:3]] + good[10:50] + [b[:3] for b in bad[3:]] + (
        good[50:])
    task = MixedRowsTask(rows)
    out = tmp_path / "run"
    res = evaluate(["dummy", "cloud"], tasks=[task], smoke=True, out=out, progress=False)
    assert len(res.account["done"]) == 2 and not res.account["failed"]

    with open(out / task.name / "input_errors.csv", newline="") as fh:
        errors = list(csv.DictReader(fh))
    assert {e["id"]: e["kind"] for e in errors} == {i: kind for i, _, _, kind in bad}
    assert all(e["message"] for e in errors)
    entry = json.loads((out / "summary.json").read_text())["tasks"][task.name]
    assert entry["status"] == "done"
    assert (entry["n_rows"], entry["n_input_errors"], entry["n_total"]) == (64, 5, 69)
    good_test = {i for k, (i, _, _) in enumerate(rows) if k % 4 == 0 and i.startswith("mb-")}
    for model in ("dummy", "cloud"):
        record = json.loads((out / task.name / model / "fold_0.json").read_text())
        assert set(record["predictions"]) == good_test
        assert np.isfinite(list(record["predictions"].values())).all()
        assert all(np.isfinite(v) for v in record["metrics"].values())


# --- corrupted files --------------------------------------------------------------------


def test_corrupted_data_file_is_refused_by_the_runner(tmp_path, monkeypatch):
    """A data file whose bytes changed fails its published sha256: the task is skipped with
    the reason, never run on the bad file."""
    src = shared_file(JDFT2D)
    data = tmp_path / "data" / JDFT2D
    data.parent.mkdir(parents=True)
    raw = bytearray(src.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    monkeypatch.setenv("CLOUD_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "run"
    assert main(["--task", "matbench_jdft2d", "--smoke", "--models", "dummy", "--no-progress",
                 "--data-dir", str(tmp_path / "data"), "--out", str(out)]) == 1  # task skipped
    entry = json.loads((out / "summary.json").read_text())["tasks"]["matbench_jdft2d"]
    assert entry["status"] == "skipped"
    assert "sha256" in entry["reason"].lower() or "checksum" in entry["reason"].lower()
    assert not (out / "matbench_jdft2d" / "dummy").exists()


@pytest.fixture
def counted(monkeypatch, tmp_path):
    """The SCOPE cache in a fresh folder, and a counter of the real encodings."""
    monkeypatch.setenv(scope_inputs.ENV_SCOPE_CACHE, str(tmp_path / "scope-cache"))
    calls = []
    real = scope_inputs.encode_many

    def encode_many(items, encoder, **kwargs):
        calls.append((len(items), encoder.mode))
        return real(items, encoder, workers=1, **kwargs)

    monkeypatch.setattr(scope_inputs, "encode_many", encode_many)
    return calls, tmp_path / "scope-cache"


def _encode(df, mode="paper"):
    return encode_structures(list(df.index), list(df["structure"]),
                             df["exfoliation_en"].to_numpy(), mode, progress=False)


def test_scope_cache_hits_only_identical_inputs(jdft2d, counted):
    calls, _ = counted
    rows = jdft2d.iloc[:30]
    first = _encode(rows)
    again = _encode(rows)
    assert len(calls) == 1  # the second call was served by the cache...
    for a, b in zip(first, again, strict=True):  # ...with the same result
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
    _encode(rows, "canonical")
    assert calls[-1] == (30, "canonical")  # another mode: encoded, not served
    changed = rows.copy()
    s = copy.deepcopy(changed["structure"].iloc[3])
    for site in s["sites"]:  # one structure of the "file" changed: another element
        site["species"] = [{"element": "Ne", "occu": 1}]
        site["label"] = "Ne"
    changed["structure"] = [s if k == 3 else x for k, x in enumerate(rows["structure"])]
    texts = _encode(changed)[1]
    assert len(calls) == 3 and "Ne" in texts[3] and "Ne" not in first[1][3]
    assert texts[:3] + texts[4:] == first[1][:3] + first[1][4:]
    _encode(rows.iloc[:29])  # other rows: another entry
    assert len(calls) == 4


def test_scope_cache_tolerances_are_part_of_the_key(jdft2d):
    from cloud.scope.encoder import ScopeEncoder

    items = [(str(i), s) for i, s in jdft2d["structure"].iloc[:5].items()]
    keys = {scope_inputs.cache_key(items, ScopeEncoder("paper", symprec=p)) for p in (0.01, 0.1)}
    keys.add(scope_inputs.cache_key(items, ScopeEncoder("paper", angle_tolerance=1.0)))
    assert len(keys) == 3


def test_corrupted_scope_cache_entry_is_refused(jdft2d, counted):
    calls, root = counted
    rows = jdft2d.iloc[:20]
    first = _encode(rows)
    (entry,) = root.glob("*.json")
    raw = bytearray(entry.read_bytes())
    at = raw.index(b"mb-jdft2d-005")
    raw[at + len("mb-jdft2d-00")] = ord("9")  # valid JSON, another id: only the sha256 sees it
    entry.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="fails its sha256 checksum"):
        again = _encode(rows)
    assert len(calls) == 2 and again[0] == first[0] and again[1] == first[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the entry was rewritten: a clean hit now
        assert _encode(rows)[1] == first[1]
    assert len(calls) == 2
