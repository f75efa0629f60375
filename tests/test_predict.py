"""``python -m cloud.predict`` and the fine-tuned checkpoint loader, on real data.

The models are tiny CLOUD encoders fine-tuned from scratch for 2 epochs on 40 real phonon
materials (the paper's SCOPE strings and Cv at 300 K): smoke-trained, not accurate, but
saved and reloaded exactly as a benchmark fold's kept model. Inputs are real structures
(``phonon/structures.subset.json.gz``) written as CIF / POSCAR / matbench JSON, and the
paper's SCOPE strings; the one synthetic input is a malformed CIF (said where it is made).
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from cloud.debye.__main__ import main as debye_main
from cloud.debye.physics import debye_cv
from cloud.model.ensemble import save_members
from cloud.model.finetuned import CheckpointError, load_finetuned
from cloud.predict import main
from cloud.scope.encoder import ScopeEncoder
from cloud.train.finetune import DEFAULT_PRETRAINED
from tests.conftest import REPO, shared_file

N_TRAIN = 40
#: Not a CIF: a synthetic malformed file, for the error table.
MALFORMED_CIF = "data_broken\n_cell_length_a 4.0\nthis is not a CIF loop\n"


def _phonon_rows() -> list[dict]:
    with open(shared_file("scope_reference/phonon.csv"), newline="") as fh:
        return list(csv.DictReader(fh))


def _read(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def phonon():
    rows = _phonon_rows()
    with open(shared_file("phonon/cv.csv"), newline="") as fh:
        cv = {r["mp_id"]: float(r["cv"]) for r in csv.DictReader(fh)}
    with gzip.open(shared_file("phonon/structures.subset.json.gz"), "rt") as fh:
        doc = json.load(fh)
    by_id = {r["mp_id"]: r for r in rows}
    col = doc["columns"].index("structure")
    # real structures whose paper SCOPE string and atom count are known, outside training
    structures = [(i, row[col]) for i, row in zip(doc["index"], doc["data"], strict=True)
                  if i in by_id][N_TRAIN:N_TRAIN + 6]
    return {"rows": rows, "cv": cv, "doc": doc, "by_id": by_id, "structures": structures}


def _train(kind: str, phonon, folder):
    from cloud.train.config import TrainConfig
    from cloud.train.finetune import FoldData, finetune

    rows = phonon["rows"][:N_TRAIN]
    scopes = [r["scope"] for r in rows]
    n_atoms = np.array([int(r["n_atoms"]) for r in rows])
    fold = FoldData(scopes, np.array([phonon["cv"][r["mp_id"]] for r in rows]), scopes[:2],
                    train_extras={"n_atoms": n_atoms}, test_extras={"n_atoms": n_atoms[:2]})
    cfg = TrainConfig(epochs=2, batch_size=16, val_fraction=0.0)
    result = finetune(fold, kind, cfg, pretrained=None, preset="tiny", progress=False)
    result.model.save_pretrained(folder)
    result.tokenizer.save_pretrained(folder)
    return folder, result.model.eval(), result.tokenizer


@pytest.fixture(scope="module")
def regression(phonon, tmp_path_factory):
    return _train("regression", phonon, tmp_path_factory.mktemp("regression"))


@pytest.fixture(scope="module")
def debye(phonon, tmp_path_factory):
    return _train("debye", phonon, tmp_path_factory.mktemp("debye"))


def _in_memory(model, tokenizer, scopes, n_atoms=None):
    enc = tokenizer(scopes, padding=True, return_tensors="pt")
    with torch.no_grad():
        if n_atoms is None:
            return model(enc["input_ids"], enc["attention_mask"]).predictions.numpy()
        return model.compute_theta(enc["input_ids"], enc["attention_mask"])[0].numpy()


def _scope_csv(phonon, path, rows=slice(N_TRAIN, N_TRAIN + 12), n_atoms=True):
    chosen = phonon["rows"][rows]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["mp_id", "scope", *(["n_atoms"] if n_atoms else [])])
        for r in chosen:
            w.writerow([r["mp_id"], r["scope"], *([r["n_atoms"]] if n_atoms else [])])
    return chosen


def test_scope_csv_predictions_are_the_models(regression, phonon, tmp_path, capsys):
    folder, model, tokenizer = regression
    chosen = _scope_csv(phonon, tmp_path / "in.csv", n_atoms=False)
    out = tmp_path / "preds.csv"
    assert main([str(folder), str(tmp_path / "in.csv"), "--out", str(out),
                 "--batch-size", "5"]) == 0
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"12 predicted, 0 failed -> {out}"
    got = _read(out)
    assert list(got[0]) == ["id", "scope", "prediction"]
    assert [g["id"] for g in got] == [r["mp_id"] for r in chosen]
    assert [g["scope"] for g in got] == [r["scope"] for r in chosen]
    expected = _in_memory(model, tokenizer, [r["scope"] for r in chosen])
    np.testing.assert_allclose([float(g["prediction"]) for g in got], expected, rtol=1e-6)
    assert _read(tmp_path / "preds.errors.csv") == []


def test_debye_scope_csv_temperatures_and_physics(debye, phonon, tmp_path):
    folder, model, tokenizer = debye
    chosen = _scope_csv(phonon, tmp_path / "in.csv")
    with open(tmp_path / "in.csv", "a", newline="") as fh:
        head, _ = chosen[0]["scope"].rsplit(" | ", 1)
        csv.writer(fh).writerows([["mp-none", chosen[0]["scope"], ""],  # no atom count
                                  ["mp-unknown", f"{head} | Qq 1.0", "2"]])  # no element Qq
    out = tmp_path / "d.csv"
    assert main([str(folder), str(tmp_path / "in.csv"), "--out", str(out),
                 "--temperatures", "100,300,1000"]) == 0
    got = _read(out)
    assert list(got[0]) == ["id", "scope", "n_atoms", "theta_K", "cv_100K", "cv_300K",
                            "cv_1000K", "u_100K", "u_300K", "u_1000K"]
    theta = np.array([float(g["theta_K"]) for g in got])
    n = np.array([int(g["n_atoms"]) for g in got])
    np.testing.assert_allclose(theta, _in_memory(model, tokenizer, [r["scope"] for r in chosen],
                                                 n), rtol=1e-6)
    assert list(n) == [int(r["n_atoms"]) for r in chosen]
    cv300 = debye_cv(300.0, torch.tensor(theta, dtype=torch.float64),
                     torch.tensor(n, dtype=torch.float64)).numpy()
    np.testing.assert_allclose([float(g["cv_300K"]) for g in got], cv300, rtol=1e-5)
    cv = np.array([[float(g[f"cv_{t}K"]) for t in (100, 300, 1000)] for g in got])
    assert (np.diff(cv, axis=1) > 0).all()  # a Debye solid's Cv rises with T
    errors = _read(tmp_path / "d.errors.csv")
    assert [(e["id"], e["kind"]) for e in errors] == [("mp-none", "missing_n_atoms"),
                                                      ("mp-unknown", "unknown_token")]
    assert errors[1]["message"].endswith("vocabulary: Qq")


def _write_structures(phonon, folder, poscar: int = 1):
    from pymatgen.core import Structure

    folder.mkdir()
    for k, (ident, d) in enumerate(phonon["structures"]):
        name = f"{ident}.vasp" if k < poscar else f"{ident}.cif"
        Structure.from_dict(d).to(filename=str(folder / name))
    (folder / "broken.cif").write_text(MALFORMED_CIF)  # synthetic: a malformed CIF
    return phonon["structures"]


def _parts(scope: str) -> list:
    """A SCOPE string's generator part and its Wyckoff and composition parts as multisets."""
    gen, wyckoff, comp = scope.split(" | ")
    pairs = comp.split()
    return [gen, sorted(wyckoff.split()), sorted(zip(pairs[::2], pairs[1::2], strict=True))]


def test_structure_files_with_a_malformed_cif(debye, phonon, tmp_path):
    folder, model, tokenizer = debye
    structures = _write_structures(phonon, tmp_path / "cifs")
    out = tmp_path / "d.csv"
    assert main([str(folder), str(tmp_path / "cifs"), "--out", str(out)]) == 0
    got = {g["id"]: g for g in _read(out)}
    assert sorted(got) == sorted(i for i, _ in structures)
    files = {p.name.rsplit(".", 1)[0]: p for p in (tmp_path / "cifs").iterdir()}
    for ident, d in structures:
        assert got[ident]["scope"] == ScopeEncoder().encode(files[ident])
        # paper mode lists sites in file order, which the CIF writer may change
        assert _parts(got[ident]["scope"]) == _parts(ScopeEncoder().encode(d)), ident
        # the atoms of spglib's primitive cell: the phonon data's N
        assert int(got[ident]["n_atoms"]) == int(phonon["by_id"][ident]["n_atoms"]), ident
    theta = _in_memory(model, tokenizer, [got[i]["scope"] for i, _ in structures], True)
    np.testing.assert_allclose([float(got[i]["theta_K"]) for i, _ in structures], theta,
                               rtol=1e-6)
    assert list(got[structures[0][0]]) == ["id", "scope", "n_atoms", "theta_K", "cv_300K",
                                           "u_300K"]
    errors = _read(tmp_path / "d.errors.csv")
    assert [(e["id"], e["kind"]) for e in errors] == [("broken", "parse")]


def test_only_failures_exit_1(regression, tmp_path, capsys):
    (tmp_path / "broken.cif").write_text(MALFORMED_CIF)  # synthetic: a malformed CIF
    out = tmp_path / "p.csv"
    assert main([str(regression[0]), str(tmp_path / "broken.cif"), "--out", str(out)]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"0 predicted, 1 failed -> {out}"
    assert [e["kind"] for e in _read(tmp_path / "p.errors.csv")] == ["parse"]


def test_matbench_json_as_a_subprocess(regression, phonon, tmp_path):
    folder, model, tokenizer = regression
    doc, n = phonon["doc"], 5
    small = {"index": doc["index"][:n], "columns": doc["columns"], "data": doc["data"][:n]}
    with gzip.open(tmp_path / "five.json.gz", "wt") as fh:
        json.dump(small, fh)
    out = tmp_path / "mb.csv"
    proc = subprocess.run([sys.executable, "-m", "cloud.predict", str(folder),
                           str(tmp_path / "five.json.gz"), "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"5 predicted, 0 failed -> {out}"
    assert "Traceback" not in proc.stderr and "Loading weights" not in proc.stderr
    got = _read(out)
    assert [g["id"] for g in got] == doc["index"][:n]
    col = doc["columns"].index("structure")
    assert [g["scope"] for g in got] == [ScopeEncoder().encode(r[col]) for r in doc["data"][:n]]
    expected = _in_memory(model, tokenizer, [g["scope"] for g in got])
    np.testing.assert_allclose([float(g["prediction"]) for g in got], expected, rtol=1e-6)


def test_seed_ensembles_load_and_predict(regression, debye, phonon, tmp_path):
    rows = phonon["rows"][N_TRAIN:N_TRAIN + 4]
    scopes = [r["scope"] for r in rows]
    for folder, model, tokenizer in (regression, debye):
        save_members([model, model], tmp_path / folder.name, tokenizer)
        loaded = load_finetuned(tmp_path / folder.name)
        assert loaded.n_members == 2
        n = [int(r["n_atoms"]) for r in rows] if loaded.kind == "debye" else None
        # two identical members: the ensemble answers as the one model
        np.testing.assert_allclose(_in_memory(loaded.model, loaded.tokenizer, scopes, n),
                                   _in_memory(model, tokenizer, scopes, n), rtol=1e-6)


def test_pretraining_checkpoint_is_refused_by_both_commands(phonon, tmp_path, capsys):
    _scope_csv(phonon, tmp_path / "in.csv")
    assert main([str(DEFAULT_PRETRAINED), str(tmp_path / "in.csv"),
                 "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no trained head" in err and "CloudForMaskedLM" in err
    assert not (tmp_path / "p.csv").exists()
    assert debye_main(["predict", "--model", str(DEFAULT_PRETRAINED), "--mp-id", "mp-1000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no trained head" in err
    proc = subprocess.run([sys.executable, "-m", "cloud.debye", "predict", "--model",
                           str(DEFAULT_PRETRAINED), "--scope", phonon["rows"][0]["scope"],
                           "--n-atoms", "2"], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stdout == "" and "no trained head" in proc.stderr


def test_weights_without_the_head_are_refused(regression, tmp_path):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "headless"
    shutil.copytree(regression[0], folder)
    tensors = load_file(folder / "model.safetensors")
    save_file({k: v for k, v in tensors.items() if not k.startswith("head.")},
              folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="no trained head .*head.layers.1.weight"):
        load_finetuned(folder)
    with pytest.raises(CheckpointError, match="need a debye one"):
        load_finetuned(regression[0], kind="debye")


def test_help_has_purpose_and_example(capsys):
    for run in (lambda: main(["--help"]), lambda: debye_main(["predict", "--help"])):
        with pytest.raises(SystemExit) as exc:
            run()
        assert exc.value.code == 0
        text = capsys.readouterr().out
        assert "fine-tuned CLOUD" in text and "Example:" in text
