"""All 13 MatBench v0.1 tasks: registry, folds, data state, scoring offline, composition and
classification tasks through the runner.

The registry's URLs and sha256 are matminer's ``dataset_metadata.json`` (from the matminer
0.7.4 package in the test cache); the folds are the PyPI matbench 0.6 wheel's validation
file. The offline copy has data for 8 tasks only, so the composition-task runs use small
SYNTHETIC datasets written by the test (random formulas and targets, labelled so), just to
drive the runner; their results are judged by the leaderboard's own CI.
"""

from __future__ import annotations

import gzip
import hashlib
import json

import numpy as np
import pytest

from benchmarks.leaderboards.matbench_check import run_upstream_check
from benchmarks.run import main as run_main
from benchmarks.score import main as score_main
from benchmarks.score import task_states
from cloud.data import (
    MATBENCH_CLASSIFICATION_TASKS,
    MATBENCH_COMPOSITION_TASKS,
    MATBENCH_TASKS,
    load_registry,
    load_validation_folds,
    matbench_folds,
)
from tests.conftest import SHARED_DATA, pip_target
from tests.matbench_package import MB_REQUIREMENTS

CHECKER = SHARED_DATA.parent / "reference" / "leaderboards" / "matbench"
HERE = "tests.test_matbench_tasks"


@pytest.fixture(scope="module")
def wheel():
    return pip_target("matbench-0.6", MB_REQUIREMENTS)


def test_registry_is_matminers_metadata(wheel) -> None:
    meta = json.loads((wheel / "matminer" / "datasets" / "dataset_metadata.json").read_text())
    reg = load_registry()
    assert len(MATBENCH_TASKS) == 13
    for task in MATBENCH_TASKS:
        e = reg[task]
        assert (e.urls[0], e.checksum.value, e.n_rows) == (
            meta[task]["url"], meta[task]["hash"], meta[task]["num_entries"]), task
        assert e.target.column in meta[task]["columns"]
        assert ("composition" in meta[task]["columns"]) == (task in MATBENCH_COMPOSITION_TASKS)


def test_folds_of_all_13_tasks_are_the_validation_files(wheel, monkeypatch, tmp_path) -> None:
    official = load_validation_folds(wheel / "matbench" / "matbench_v0.1_validation.json")
    assert sorted(official) == sorted(MATBENCH_TASKS)
    for task in ("matbench_expt_gap", "matbench_steels"):  # KFold over the row ids: no data
        assert matbench_folds(task) == official[task]
    # classification folds are stratified by label: taken from the canonical validation file
    (tmp_path / "matbench").mkdir()
    (tmp_path / "matbench" / "matbench_v0.1_validation.json").symlink_to(
        wheel / "matbench" / "matbench_v0.1_validation.json")
    monkeypatch.setenv("CLOUD_DATA_DIR", str(tmp_path))
    for task in MATBENCH_CLASSIFICATION_TASKS:
        assert matbench_folds(task) == official[task]
    monkeypatch.setenv("CLOUD_DATA_DIR", str(SHARED_DATA))  # the offline copy: 8 tasks
    with pytest.raises(KeyError, match="8 regression tasks"):
        matbench_folds("matbench_glass")


def test_every_task_is_listed_with_its_data_state() -> None:
    states = {s["task"]: s for s in task_states(SHARED_DATA)}
    assert sorted(states) == sorted(MATBENCH_TASKS)
    assert states["matbench_jdft2d"]["data"].startswith("here: ")
    assert states["matbench_dielectric"]["data"].startswith("partial here: ")
    assert states["matbench_log_gvrh"]["data"].startswith("targets only here")
    assert states["matbench_glass"] == {
        "task": "matbench_glass", "inputs": "composition", "metric": "rocauc", "rows": 5680,
        "data": "absent: matbench_glass.json.gz downloads from "
                "https://ml.materialsproject.org/projects/matbench_glass.json.gz"}


def test_a_results_file_of_all_13_tasks_scores_what_is_here(wheel, tmp_path, monkeypatch,
                                                             capsys) -> None:
    """matbench's own all-task file (random predictions, in its wheel): the 8 tasks with data
    here are scored, the 5 others are named with the file they need."""
    monkeypatch.setenv("CLOUD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("cloud.data.fetch.download", _offline)
    path = wheel / "matbench" / "tests" / "mb_all_tasks_random.json"
    code = score_main([str(path), "--name", "random", "--out", str(tmp_path / "out"),
                       "--data-dir", str(SHARED_DATA)])
    err = capsys.readouterr().err
    assert code == 0, err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert sorted(summary["tasks"]) == sorted(MATBENCH_TASKS[:8])
    for task in MATBENCH_TASKS[8:]:
        assert f"not scored ({task}): data file '{task}.json.gz'" in err


def _offline(entry, dest, **kw):
    from cloud.data import DataMissingError
    from cloud.data.fetch import missing_message

    raise DataMissingError(missing_message(entry, dest.name, "offline (test)"))


# ---------------------------------------------------------------- composition-only tasks
ELEMENTS = ("Fe", "C", "Mn", "Si", "Cr", "Ni", "Mo", "V", "Co", "Al", "Ti", "Cu")


def synthetic_task(root, task: str, seed: int = 0) -> None:
    """A SYNTHETIC dataset in the task's canonical layout (random formulas, targets from a
    fixed rule plus noise), registered in the folder's MANIFEST.json."""
    rng = np.random.default_rng(seed)
    n = load_registry()[task].n_rows
    column = load_registry()[task].target.column
    rows = []
    for _ in range(n):
        els = rng.choice(ELEMENTS, size=3, replace=False)
        amounts = rng.integers(1, 9, size=3)
        formula = "".join(f"{e}{a}" for e, a in zip(els, amounts, strict=True))
        score = float("Fe" in els) + float("Ni" in els) + rng.normal(0, 0.3)
        rows.append([formula, bool(score > 0.7) if task in MATBENCH_CLASSIFICATION_TASKS
                     else 100 * score])
    raw = gzip.compress(json.dumps({"columns": ["composition", column], "data": rows}).encode(),
                        mtime=0)
    rel = f"matbench/{task}.json.gz"
    (root / "matbench").mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(raw)
    manifest = root / "MANIFEST.json"
    entries = json.loads(manifest.read_text()) if manifest.exists() else {}
    entries[rel] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
    manifest.write_text(json.dumps(entries))


class FractionLogistic:
    """Logistic regression on element fractions: the positive class's probability."""

    input = "composition"

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression

        from tests.test_model_plugins import fractions

        self.model_ = LogisticRegression(max_iter=500).fit(fractions(X), np.asarray(y) > 0.5)
        return self

    def predict(self, X):
        from tests.test_model_plugins import fractions

        return self.model_.predict_proba(fractions(X))[:, 1]


@pytest.mark.slow
def test_composition_tasks_run_composition_models_and_pass_the_ci(wheel, tmp_path,
                                                                 monkeypatch) -> None:
    data = tmp_path / "data"
    for task in ("matbench_steels", "matbench_expt_is_metal"):
        synthetic_task(data, task)
    (data / "matbench" / "matbench_v0.1_validation.json").symlink_to(
        wheel / "matbench" / "matbench_v0.1_validation.json")
    monkeypatch.setenv("CLOUD_DATA_DIR", str(data))
    monkeypatch.setenv("CLOUD_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "run"
    code = run_main(["--task", "matbench_steels", "--models",
                     "tests.test_model_plugins:FractionRidge,dummy", "--no-progress",
                     "--out", str(out / "steels"), "--allow-skips"])
    assert code == 0
    code = run_main(["--task", "matbench_expt_is_metal", "--models",
                     f"{HERE}:FractionLogistic,dummy", "--no-progress", "--out",
                     str(out / "metal"), "--allow-skips"])
    assert code == 0
    steels = json.loads((out / "steels" / "summary.json").read_text())["tasks"]["matbench_steels"]
    assert steels["models"]["tests.test_model_plugins.FractionRidge"]["n_folds"] == 5
    assert "compositions only" in json.dumps(steels["skipped_models"]["dummy"]) or \
        "compositions only" in json.dumps(steels["rows"]["dummy"])
    metal = json.loads((out / "metal" / "summary.json").read_text())["tasks"][
        "matbench_expt_is_metal"]
    clf = metal["models"][f"{HERE}.FractionLogistic"]["summary"]
    assert set(clf) >= {"rocauc", "accuracy", "balanced_accuracy", "f1"}
    assert clf["rocauc"]["mean"] > 0.6  # the rule the synthetic labels follow is learnable
    folders = [out / "steels" / "matbench" / "matbench_v0.1_FractionRidge",
               out / "metal" / "matbench" / "matbench_v0.1_FractionLogistic"]
    result = run_upstream_check(folders, CHECKER, extra_path=[wheel])
    assert result.passed, result.output[-4000:]
    assert result.output.count("valid (True)") == 2
