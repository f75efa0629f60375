"""Matbench Discovery model YAMLs against today's upstream schema (vendored, Draft 7).

Every YAML the suite commits validates once its listed submitter fields are given, and
without them the schema's errors are exactly those fields. Upstream's own accepted YAMLs of
two sequence models validate with the same validator; a YAML in the old layout does not.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from benchmarks.leaderboards.discovery_check import (
    SCHEMA_FILE,
    layout_problems,
    schema_errors,
    unfilled_fields,
)
from benchmarks.reports.discovery_yaml import apply_submission_info, model_yaml, slug
from benchmarks.tasks.discovery import MptsTask, WbmTask
from tests.conftest import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
UPSTREAM = SHARED_DATA.parent / "reference" / "leaderboards" / "matbench_discovery"
VENDORED = REPO / "benchmarks" / "reference" / "leaderboards" / SCHEMA_FILE
# what a submitter gives (example values, not anyone's real details)
SUBMITTER = {"authors": [{"name": "A. Submitter", "email": "submitter@example.org"}],
             "repo": "https://github.com/example/model", "checkpoint_url": None,
             "pr_url": "https://github.com/janosh/matbench-discovery/pull/1",
             "doi": "https://doi.org/10.0000/example", "paper": "https://example.org/paper",
             "license": {"code": "MIT", "checkpoint": "unreleased"}, "model_params": 0,
             "pred_file_url": "https://figshare.com/files/1"}


# the schema's rule for the first author's e-mail (an if/then on the array's item "0") never
# fires under Draft 7 (properties/required apply to objects only): the field is listed to fill,
# as the contributing guide asks, but it is not a schema error
EMAIL = {"authors[0].email"}


def committed_yamls() -> list[Path]:
    files = subprocess.run(["git", "ls-files", "reports"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    return [REPO / f for f in files if "/discovery/" in f and f.endswith(".yml")]


def fill(doc: dict, fields: list[str]) -> dict:
    """The submitter's values of exactly ``fields``."""
    info = {k: SUBMITTER[k] for k in fields if k in SUBMITTER}
    if "authors[0].email" in fields:
        info["authors"] = [{**doc["authors"][0], "email": "submitter@example.org"},
                           *doc["authors"][1:]]
    return apply_submission_info(doc, info)


def test_vendored_schema_is_upstreams() -> None:
    if not (UPSTREAM / "tests" / "model-schema.yml").is_file():
        pytest.skip("the leaderboard's reference copy is not here")
    lines = VENDORED.read_text().splitlines(keepends=True)
    assert lines[0].startswith("# Matbench Discovery's model schema") and "2c7f9fc42d" in lines[1]
    assert "".join(lines[3:]) == (UPSTREAM / "tests" / "model-schema.yml").read_text()


def test_upstreams_accepted_yamls_validate_and_old_layout_does_not() -> None:
    if not UPSTREAM.is_dir():
        pytest.skip("the leaderboard's reference copy is not here")
    for rel in ("alchembert/alchembert.yml", "wrenformer/wrenformer.yml"):
        doc = yaml.safe_load((UPSTREAM / "models" / rel).read_text())
        assert schema_errors(doc) == [], rel
        assert layout_problems(f"models/{rel}", doc) == []
    doc = yaml.safe_load((UPSTREAM / "models" / "alchembert" / "alchembert.yml").read_text())
    old = {**doc, "date_added": "2024-12-25", "model_type": "Transformer"}
    old["metrics"] = copy.deepcopy(doc["metrics"])
    old["metrics"]["discovery"]["pred_col"] = "e_form_per_atom"
    errors = schema_errors(old)
    assert len(errors) == 2 and all("Additional properties" in e for e in errors)


@pytest.mark.parametrize("path", committed_yamls(), ids=lambda p: str(p.relative_to(REPO)))
def test_committed_yaml_errors_are_exactly_the_listed_fields(path: Path) -> None:
    text = path.read_text()
    doc = yaml.safe_load(text)
    missing = doc["notes"]["missing_for_submission"]
    assert f"# To fill in before submitting: {', '.join(missing)}" in text
    assert unfilled_fields(doc) == set(missing) - EMAIL
    assert set(missing) <= {"authors[0].email", "checkpoint_url", "pr_url", "repo",
                            "model_params"}
    filled = fill(doc, missing)
    assert schema_errors(filled) == [] and "missing_for_submission" not in filled["notes"]
    family = doc["metrics"]["discovery"]["pred_file"]["name"].split("/")[1]
    assert layout_problems(f"models/{family}/{doc['model_key']}.yml", doc) == []
    assert doc["architecture_types"] == (["transformer"] if path.stem.startswith("cloud") else
                                         ["random_forest"] if "rf" in path.stem else ["unknown"])
    assert "n_estimators" not in doc  # single models: omitted, as the schema asks
    if path.stem.startswith("cloud"):  # counted from the network, not left to fill
        assert doc["model_params"] == 3355137 and "model_params" not in missing


# a synthetic fold record (shape of the runner's; values made up for this unit test)
RECORD = {"n_train": 100, "time_s": 36.0, "model_params": None,
          "metrics": {f"{p}/{k}": 1 if k in ("TP", "FP", "TN", "FN", "missing_preds") else 0.5
                      for p in ("full", "uniq_proto", "most_stable_10k")
                      for k in ("F1", "DAF", "Precision", "Recall", "Accuracy", "TPR", "FPR",
                                "TNR", "FNR", "TP", "FP", "TN", "FN", "MAE", "RMSE", "R2",
                                "missing_preds")}}


@pytest.mark.parametrize("config,expected", [
    ({"type": "plugin", "class": "mypkg.models:MyNet", "params": {"width": 8}},
     {"authors", "checkpoint_url", "doi", "license", "model_params", "paper", "pr_url",
      "repo"}),
    ({"type": "cloud", "train": {"lr": 1e-4, "batch_size": 32, "epochs": 5}, "ensemble": 3},
     {"authors[0].email", "checkpoint_url", "model_params", "pr_url", "repo"}),
])
def test_written_yaml_names_exactly_what_a_submitter_fills(config, expected) -> None:
    record = {**{k: v for k, v in RECORD.items() if v is not None}, "config": config}
    doc = model_yaml(WbmTask(), "my_model", record, {"Predictions File": "x"}, date="2026-01-02",
                     device="CPU", pred_file={"size": 10, "md5": "0" * 32})
    assert set(doc["notes"]["missing_for_submission"]) == expected
    assert unfilled_fields(doc) == expected - EMAIL
    assert doc["training_sets"] == ["MP 2022"] and doc["dates"]["benchmark_added"] == "2026-01-02"
    assert doc["metrics"]["discovery"]["pred_file"]["name"] == (
        f"models/{'my_net' if 'class' in config else 'cloud'}/{slug('my_model')}/"
        "2026-01-02-discovery.csv.gz")
    assert doc["training_cost"]["entries"] == [{"hardware": "CPU", "count": 1,
                                                "hours_per_device": 0.01}]
    assert doc["notes"]["predictions_file"] == "x"  # notes keys snake_case
    assert doc.get("n_estimators") == (3 if "ensemble" in config else None)
    filled = fill(doc, sorted(expected))
    assert schema_errors(filled) == []
    uploaded = apply_submission_info(filled, {"pred_file_url": SUBMITTER["pred_file_url"]})
    assert uploaded["metrics"]["discovery"]["pred_file"]["url"] == SUBMITTER["pred_file_url"]
    assert schema_errors(uploaded) == []


def test_stand_in_key_and_training_sets() -> None:
    record = {**{k: v for k, v in RECORD.items() if v is not None}, "config": {"type": "dummy"}}
    doc = model_yaml(MptsTask(), "dummy", record, {})
    assert doc["model_key"] == "dummy-stand-in-discovery-mpts" and "stand-in" in doc["model_name"]
    assert doc["training_sets"] == list(MptsTask.training_sets)
    assert "model_params" in doc["notes"]["missing_for_submission"]
    doc["model_params"] = 1
    assert "model_params" not in unfilled_fields(doc)
