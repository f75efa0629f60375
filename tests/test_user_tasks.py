"""Your own dataset as a task: the YAML keys, the data formats (CSV with CIF or composition
columns, a CIF folder, matbench-style JSON), k-fold, column and given-file folds, on small
real subsets of the AFLOW bulk-modulus split and the jdft2d file (written to tmp_path)."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.tasks import select
from benchmarks.tasks.user import Task, TaskFileError
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def aflow():
    return pd.read_csv(shared_file("aflow/bulk_modulus/test.csv.gz"), index_col=0).iloc[:60]


def _yaml(path, text):
    path.write_text(text)
    return path


def test_csv_with_cif_column_kfold_and_given_files(tmp_path, aflow):
    aflow.iloc[:40].to_csv(tmp_path / "train.csv")
    aflow.iloc[40:].to_csv(tmp_path / "test.csv")
    kfold = Task.from_file(_yaml(tmp_path / "k.yaml", "name: bk\ndata: train.csv\n"
                                 "target: bulk_modulus\nfolds: {k: 4, seed: 1}\n"))
    data = kfold.load(progress=False)
    assert len(data.ids) == 40 and len(data.folds) == 4
    assert sorted(i for f in data.folds for i in f.test) == sorted(data.ids)
    given = Task.from_file(_yaml(tmp_path / "g.yaml", "name: bk\ntarget: bulk_modulus\n"
                                 "folds: {train: [train.csv], test: [test.csv]}\n"))
    (fold,) = given.load(progress=False).folds
    assert (len(fold.train), len(fold.test)) == (40, 20)
    assert fold.test[0] == "test-0"  # row numbers (no id column), unique across files


def test_fold_column_composition_csv_and_cif_folder(tmp_path, aflow):
    from pymatgen.core import Structure

    formulas = [Structure.from_str(c, fmt="cif").composition.reduced_formula
                for c in aflow["cif"]]
    table = pd.DataFrame({"id": [f"m{i}" for i in range(60)], "composition": formulas,
                          "bulk_modulus": aflow["bulk_modulus"].to_numpy(),
                          "fold": [i % 3 for i in range(60)]})
    table.loc[5, "bulk_modulus"] = float("nan")  # reported, not used
    table.to_csv(tmp_path / "comp.csv", index=False)
    task = Task.from_file(_yaml(tmp_path / "c.yaml", "name: comp\ndata: comp.csv\n"
                                "target: bulk_modulus\nfolds: {column: fold}\n"))
    data = task.load(progress=False)
    assert len(data.folds) == 3 and len(data.ids) == 59
    assert data.errors == [("m5", "nan_target", "target is NaN or infinite")]
    from benchmarks.models.inputs import input_problem, model_inputs

    comp = model_inputs(data, ["m0"], "composition")[0]
    from pymatgen.core import Composition

    assert comp.almost_equals(Composition(formulas[0]).fractional_composition)
    assert "needs structures" in input_problem(data, "scope")
    folder = tmp_path / "cifs"
    folder.mkdir()
    for i, cif in enumerate(aflow["cif"].iloc[:10]):
        (folder / f"m{i}.cif").write_text(cif)
    table.iloc[:10][["id", "bulk_modulus"]].to_csv(tmp_path / "targets.csv", index=False)
    cifs = Task("cifs", "bulk_modulus", folder, {"k": 2}, targets=tmp_path / "targets.csv")
    data = cifs.load(progress=False)
    assert len(data.ids) == 9 and data.texts[0].count("|") >= 1  # m5's target is NaN


def test_matbench_json_by_yaml_path_and_bad_files(tmp_path):
    path = shared_file("matbench/matbench_jdft2d.json.gz")
    tasks = select(str(_yaml(tmp_path / "j.yaml", f"name: j\ndata: {path}\n"
                                                  "target: exfoliation_en\nfolds: {k: 2}\n")))
    assert [t.name for t in tasks] == ["j"] and tasks[0].family == "user"
    with pytest.raises(TaskFileError, match="unknown key"):
        Task.from_file(_yaml(tmp_path / "x.yaml", "target: y\ndta: a.csv\n"))
    with pytest.raises(TaskFileError, match="give 'data'"):
        Task.from_file(_yaml(tmp_path / "y.yaml", "target: y\n"))
    from cloud.data import DataMissingError

    with pytest.raises(DataMissingError, match="not found"):
        Task("t", "y", "missing.csv", root=tmp_path).load(progress=False)
