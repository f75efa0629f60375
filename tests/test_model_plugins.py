"""Models from outside the project, run through the model protocol by the real runner.

The models below are defined here, in the test, and named ``tests.test_model_plugins:Class``
on the command line as a user names theirs. Data: the real jdft2d structures, the paper's
dielectric SCOPE strings (no structures) and the phonon Cv strings, on smoke folds except
where the five official folds are the point.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from benchmarks.reports.matbench_results import read_matbench_results
from benchmarks.run import main
from cloud_bench import evaluate
from tests.matbench_package import matbench_load

HERE = "tests.test_model_plugins"


def fractions(compositions) -> np.ndarray:
    out = np.zeros((len(compositions), 119))
    for row, comp in enumerate(compositions):
        for el, frac in comp.items():
            out[row, el.Z] = frac
    return out


class FractionRidge:
    """Ridge regression on element fractions (input: compositions)."""

    input = "composition"

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, X, y):
        from sklearn.linear_model import Ridge

        self.ridge_ = Ridge(alpha=self.alpha).fit(fractions(X), y)
        return self

    def predict(self, X):
        return self.ridge_.predict(fractions(X))


class Fractions:
    """A featuriser step: compositions -> element fractions."""

    input = "composition"

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return fractions(X)


def fraction_pipeline():
    """A scikit-learn Pipeline, unchanged: featuriser, scaler, random forest."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import make_pipeline

    return make_pipeline(Fractions(), RandomForestRegressor(n_estimators=10, random_state=0))


class ScopeLength:
    """Linear in the SCOPE string's length (input: SCOPE strings)."""

    input = "scope"

    def fit(self, X, y):
        self.coef_ = np.polyfit([len(x) for x in X], y, 1)
        return self

    def predict(self, X):
        return np.polyval(self.coef_, [len(x) for x in X])


class StructureDensity:
    """Linear in the density (input: pymatgen Structures)."""

    input = "structure"

    def fit(self, X, y):
        from pymatgen.core import Structure

        assert all(isinstance(s, Structure) for s in X)
        self.coef_ = np.polyfit([s.density for s in X], y, 1)
        return self

    def predict(self, X):
        return np.polyval(self.coef_, [s.density for s in X])


class MeanTheta:
    """The training fold's geometric-mean Debye temperature (Cv/U through the Debye model)."""

    input = "scope"
    predicts = "debye_temperature"

    def fit(self, X, y):
        assert np.all((y > 10) & (y < 5000))  # Debye temperatures in K, not Cv values
        self.theta_ = float(np.exp(np.mean(np.log(y))))
        return self

    def predict(self, X):
        return np.full(len(X), self.theta_)


class NoInput:
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


def run(tmp_path, tasks: str, models: str, **options):
    """The models, named as a user names theirs, through ``evaluate()`` into ``<tmp>/run``."""
    return evaluate(models, tasks=tasks, out=tmp_path / "run", progress=False, **options)


def finished(res) -> bool:
    """Every row done: what exit status 0 of the command line means."""
    return bool(res.account["done"]) and not res.account["failed"] and not res.account[
        "skipped"]


def test_composition_plugin_five_folds_loads_in_matbench(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("CLOUD_DATA_DIR", str(shared_data))
    name = f"{HERE}.FractionRidge"
    res = run(tmp_path, "matbench_jdft2d,matbench_dielectric", f"{HERE}:FractionRidge,dummy")
    assert finished(res)
    summary = res.summary
    for task in ("matbench_jdft2d", "matbench_dielectric"):  # structures; SCOPE strings only
        assert summary["tasks"][task]["models"][name]["n_folds"] == 5
        assert summary["tasks"][task]["rows"][name] == {"status": "done"}
    board = (tmp_path / "run" / "leaderboard.md").read_text()
    assert f"**{name}** (this run; plug-in {HERE}:FractionRidge)" in board
    assert (tmp_path / "run" / "matbench_jdft2d" / f"parity_{name}.png").exists()
    path = tmp_path / "run" / "matbench" / f"results_{name}.json.gz"
    folder = tmp_path / "run" / "matbench" / "matbench_v0.1_FractionRidge"
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md", "info.json", "results.json.gz", "run_fractionridge.py"]
    info = json.loads((folder / "info.json").read_text())
    assert info["authors"].startswith("FILL IN") and info["algorithm"] == "FractionRidge"
    assert "`authors`, `algorithm_long`, `bibtex_refs`" in (folder / "README.md").read_text()
    res, submitted = matbench_load([path, folder / "results.json.gz"], tmp_path)
    assert res["is_valid"] and res["is_recorded"] and submitted["tasks"] == res["tasks"]
    got = res["tasks"]["matbench_jdft2d"]
    assert got["folds"] == [f"fold_{k}" for k in range(5)] and got["n_predictions"] == 636
    ours = summary["tasks"]["matbench_jdft2d"]["models"][name]["summary"]["mae"]
    assert got["scores"]["mae"]["mean"] == pytest.approx(ours["mean"], rel=1e-12)
    assert read_matbench_results(path)["user_metadata"]["model"] == name


def test_pipeline_scope_structure_and_theta_models(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("CLOUD_DATA_DIR", str(shared_data))
    models = ["fraction_pipeline", "ScopeLength", "StructureDensity", "MeanTheta"]
    res = run(tmp_path, "matbench_jdft2d,matbench_dielectric,cv",
              ",".join(f"{HERE}:{m}" for m in models), smoke=True)
    assert res.account["skipped"] and not res.account["failed"]
    summary = res.summary
    rows = {(t, m.removeprefix(f"{HERE}.")): r for t, e in summary["tasks"].items()
            for m, r in e["rows"].items()}
    for model in ("fraction_pipeline", "ScopeLength", "StructureDensity"):
        assert rows[("matbench_jdft2d", model)]["status"] == "done"
    assert rows[("matbench_dielectric", "fraction_pipeline")]["status"] == "done"
    for task in ("matbench_dielectric", "cv"):  # precomputed SCOPE strings: no structures
        row = rows[(task, "StructureDensity")]
        assert row["status"] == "skipped"
        assert row["reason"].startswith("input = 'structure' needs structures")
    assert rows[("matbench_jdft2d", "MeanTheta")] == {
        "status": "skipped", "reason": "needs a Debye task; matbench_jdft2d is regression"}
    assert rows[("cv", "MeanTheta")]["status"] == "done"
    record = json.loads((tmp_path / "run" / "cv" / f"{HERE}.MeanTheta" / "fold_0.json")
                        .read_text())
    assert len(set(record["theta"])) == 1 and record["n_fit_rows_without_theta"] >= 0
    assert len(set(np.round(list(record["predictions"].values()), 6))) > 1  # N atoms differ


@pytest.mark.parametrize(("models", "config", "message"), [
    ("nosuch", None, "unknown model 'nosuch'"),
    ("no_such_module:Model", None, "cannot import 'no_such_module': ModuleNotFoundError"),
    (f"{HERE}:Missing", None, f"module '{HERE}' has no 'Missing'"),
    (f"{HERE}:NoInput", None, "breaks the model protocol: no 'input' attribute"),
    ("mine", {"models": {"mine": {"class": f"{HERE}:FractionRidge",
                                  "params": {"alpha": 1, "beta": 2}}}},
     "unknown setting 'beta'; its settings: alpha"),
    ("mine", {"models": {"mine": {"class": f"{HERE}:FractionRidge", "alpha": 1}}},
     "unknown key 'alpha'; a plug-in's constructor arguments go under 'params'"),
    (None, {"models": {"composition_rf": {"n_estimatorz": 5}}},
     "unknown setting 'n_estimatorz'"),
    ("mine", {"models": {"mine": {"type": "gradient_boost"}}}, "unknown type 'gradient_boost'"),
])
def test_bad_models_are_usage_errors_before_any_work(tmp_path, capsys, models, config,
                                                     message):
    args = ["--task", "matbench_jdft2d", "--smoke"]
    if models:
        args += ["--models", models]
    if config:
        (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
        args += ["--config", str(tmp_path / "c.yaml")]
    code = main([*args, "--no-progress", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err
    assert not (tmp_path / "run").exists()  # nothing trained, nothing written


def test_config_params_and_fold_reuse(tmp_path, shared_data, monkeypatch, capsys):
    monkeypatch.setenv("CLOUD_DATA_DIR", str(shared_data))

    def with_alpha(alpha):
        path = tmp_path / f"alpha{alpha}.yaml"
        path.write_text(yaml.safe_dump({"models": {"ridge": {
            "class": f"{HERE}:FractionRidge", "params": {"alpha": alpha}}}}))
        return finished(run(tmp_path, "matbench_jdft2d", "ridge", smoke=True, config=path))

    assert with_alpha(10.0)
    record = json.loads((tmp_path / "run/matbench_jdft2d/ridge/fold_0.json").read_text())
    assert record["config"]["params"] == {"alpha": 10.0}
    assert record["config"]["class"] == f"{HERE}:FractionRidge"
    assert len(record["config"]["module_sha256"]) == 64  # a changed plug-in file recomputes
    capsys.readouterr()
    assert with_alpha(10.0)
    assert "recomputing" not in capsys.readouterr().err  # same settings: the fold is reused
    assert with_alpha(0.1)
    assert "ridge fold 0: recomputing (stored result was made with other settings)" in (
        capsys.readouterr().err)


def test_installed_package_registers_a_model_by_entry_point(tmp_path, shared_data,
                                                            monkeypatch):
    """A package's ``[project.entry-points."cloud_bench.models"]`` (here: a synthetic
    installed distribution on the path) makes its model a name for ``--models``."""
    monkeypatch.setenv("CLOUD_DATA_DIR", str(shared_data))
    dist = tmp_path / "site" / "my_models-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-models\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[cloud_bench.models]\nfraction_ridge = {HERE}:FractionRidge\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    res = run(tmp_path, "matbench_jdft2d", "fraction_ridge", smoke=True)
    assert finished(res)
    entry = res.summary["tasks"]["matbench_jdft2d"]["models"]["fraction_ridge"]
    assert entry["n_folds"] == 1 and entry["type"] == "fraction_ridge"
