"""The suite from a notebook: a model object defined here, plugged into ``evaluate()`` on the
real matbench_jdft2d folds (all 5) and on a user task read from a real AFLOW file; the
results as a DataFrame, equal to what the command line reports for the same settings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.run import main
from cloud_bench import Task, evaluate, load_results

HERE = "tests.test_api"


class ElementRidge:
    """A notebook's model: ridge regression on element fractions."""

    input = "composition"

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def _x(self, compositions):
        x = np.zeros((len(compositions), 119))
        for row, comp in enumerate(compositions):
            for el, frac in comp.items():
                x[row, el.Z] = frac
        return x

    def fit(self, X, y):
        from sklearn.linear_model import Ridge

        self.ridge_ = Ridge(alpha=self.alpha).fit(self._x(X), y)
        return self

    def predict(self, X):
        return self.ridge_.predict(self._x(X))


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("CLOUD_CACHE_DIR", str(path))
    return path


@pytest.fixture()
def bulk_task(tmp_path, shared_data):
    path = tmp_path / "bulk.yaml"
    path.write_text("name: aflow_bulk_modulus\n"
                    f"data: {shared_data / 'aflow/bulk_modulus/test.csv.gz'}\n"
                    "target: bulk_modulus\nunit: GPa\nfolds: {k: 3, seed: 0}\n")
    return path


def cli_means(out, task: str, model: str) -> dict:
    summary = json.loads((out / "summary.json").read_text())
    return {k: v["mean"] for k, v in summary["tasks"][task]["models"][model]["summary"].items()}


def test_a_notebook_model_on_five_folds_equals_the_command_line(tmp_path, shared_data, cache):
    res = evaluate(ElementRidge(alpha=0.5), tasks=["matbench_jdft2d"], data_dir=shared_data,
                   progress=False)
    frame = res.to_frame()
    assert list(frame.columns) == ["task", "model", "fold", "metric", "value"]
    mae = frame[frame.metric == "mae"]
    assert sorted(mae.fold) == [0, 1, 2, 3, 4] and set(mae.model) == {"ElementRidge"}
    assert mae.value.gt(0).all()
    # out=None: nothing but the fold records in the cache
    assert not any(tmp_path.glob("*/summary.json"))
    assert sorted(p.name for p in (cache / "evaluate" / "matbench_jdft2d" / "ElementRidge")
                  .glob("fold_*.json")) == [f"fold_{k}.json" for k in range(5)]
    # the same model named as the command line names it: the same numbers
    out = tmp_path / "cli"
    assert main(["--task", "matbench_jdft2d", "--models", f"{HERE}:ElementRidge",
                 "--data-dir", str(shared_data), "--out", str(out), "--no-progress"]) == 0
    cli = cli_means(out, "matbench_jdft2d", f"{HERE}.ElementRidge")  # alpha 1 (default)
    res1 = evaluate({"ridge": ElementRidge()}, tasks="matbench_jdft2d", data_dir=shared_data,
                    progress=False)
    assert res1.tasks["matbench_jdft2d"].metric("ridge")["mean"] == cli["mae"]
    assert res.tasks["matbench_jdft2d"].metric("ElementRidge")["mean"] != cli["mae"]
    # a second call reuses the cached folds by job key (same records, same start times)
    again = evaluate({"ridge": ElementRidge()}, tasks="matbench_jdft2d", data_dir=shared_data,
                     progress=False)
    starts = [[f.record["started_unix"] for f in r.folds] for r in (res1, again)]
    assert starts[0] == starts[1]


def test_a_user_task_from_a_file_with_a_mixed_model_list(tmp_path, shared_data, bulk_task,
                                                         cache):
    task = Task.from_file(bulk_task)
    assert (task.name, task.target, task.unit) == ("aflow_bulk_modulus", "bulk_modulus", "GPa")
    res = evaluate([ElementRidge(), "dummy"], tasks=[task], data_dir=shared_data,
                   out=tmp_path / "api", progress=False)
    frame = res.to_frame()
    assert set(frame.model) == {"ElementRidge", "dummy"} and sorted(set(frame.fold)) == [0, 1, 2]
    data = task.load(shared_data, progress=False)
    assert sum(len(f.test) for f in data.folds) == len(data.ids) == 736
    assert "aflow_bulk_modulus" in res.leaderboard() and "## user" in res.leaderboard()
    assert res.leaderboard() == (tmp_path / "api" / "leaderboard.md").read_text()
    # the command line on the task file: the same numbers
    out = tmp_path / "cli"
    assert main(["--task", str(bulk_task), "--models", f"{HERE}:ElementRidge,dummy",
                 "--data-dir", str(shared_data), "--out", str(out), "--no-progress"]) == 0
    for api_name, cli_name in (("ElementRidge", f"{HERE}.ElementRidge"), ("dummy", "dummy")):
        assert res.tasks["aflow_bulk_modulus"].metric(api_name)["mean"] == cli_means(
            out, "aflow_bulk_modulus", cli_name)["mae"]
    # saved and loaded back: the same table
    loaded = load_results(res.save(tmp_path / "saved"))
    assert loaded.to_frame().equals(frame)
    assert load_results(out).to_frame()["value"].sum() == pytest.approx(frame["value"].sum())


def test_requests_naming_what_does_not_exist_fail_before_any_work(shared_data, cache):
    from benchmarks.plan import UsageError

    with pytest.raises(UsageError, match="unknown model 'nope'"):
        evaluate("nope", tasks="matbench_jdft2d", data_dir=shared_data)
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        evaluate("dummy", tasks="nope")
    with pytest.raises(Exception, match="breaks the model protocol"):
        evaluate(object(), tasks="matbench_jdft2d")
