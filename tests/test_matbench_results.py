"""Our MatBench results files against matbench 0.6 itself.

matbench 0.6 pins scikit-learn 1.0.1 and matminer 0.7.4, so it is installed with ``--no-deps``
(with matminer 0.7.4 and six, the only extra imports it needs here) into a cache directory and
run in a subprocess: ``MatbenchBenchmark.from_file`` must load and validate our file, and
matbench recording the same predictions must write the very same bytes. Data: the real jdft2d
targets and official folds, with the train-fold-mean dummy predictions.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.metrics import matbench_classification_metrics, regression_metrics, summarize_folds
from benchmarks.reports.matbench_folder import info_json, write_submission_folder
from benchmarks.reports.matbench_results import (
    REGRESSION_SCORES,
    content_hash,
    predictions_from_results,
    read_matbench_results,
    task_scores,
    write_matbench_results,
)
from cloud.data.folds import load_validation_folds
from cloud.data.readers import read_matbench_targets
from tests.conftest import pip_target, shared_file

TASK = "matbench_jdft2d"
DATESTAMP = "2025.06.20 12:34.56"
MB_REQUIREMENTS = ["matbench==0.6", "matminer==0.7.4", "six==1.17.0"]


@pytest.fixture(scope="module")
def jdft2d() -> tuple[pd.Series, list, list[dict[str, float]]]:
    """Targets, official folds and train-mean dummy predictions for jdft2d (all 5 folds)."""
    data_dir = shared_file("matbench/targets/matbench_jdft2d.csv.gz").parents[2]
    shared_file("matbench/matbench_v0.1_validation.json.gz")
    y = read_matbench_targets(TASK, data_dir=data_dir)["exfoliation_en"]
    folds = load_validation_folds(data_dir=data_dir)[TASK]
    preds = [{i: float(y.loc[list(f.train)].mean()) for i in f.test} for f in folds]
    return y, folds, preds


def _write(path: Path, jdft2d, **kw) -> dict:
    y, folds, preds = jdft2d
    kw.setdefault("datestamp", DATESTAMP)
    return write_matbench_results(
        path, {TASK: preds}, targets={TASK: y.to_dict()}, folds={TASK: folds}, **kw
    )


def test_dummy_scores_match_metrics_and_the_leaderboard(tmp_path: Path, jdft2d) -> None:
    y, folds, preds = jdft2d
    doc = _write(tmp_path / "r.json.gz", jdft2d)
    back = read_matbench_results(tmp_path / "r.json.gz")
    assert back == doc
    per_fold = [regression_metrics(y.loc[f.test], [p[i] for i in f.test]) for f, p in
                zip(folds, preds, strict=True)]  # fmt: skip
    for k, scores in enumerate(per_fold):
        stored = doc["tasks"][TASK]["results"][f"fold_{k}"]["scores"]
        assert list(stored) == sorted(REGRESSION_SCORES)  # mae, mape, max_error, rmse
        assert stored == {m: scores[m] for m in REGRESSION_SCORES}
    summary = task_scores(doc)[TASK]
    expected = summarize_folds(per_fold)
    assert summary == {m: expected[m] for m in REGRESSION_SCORES}
    # matbench's own leaderboard, "Dummy" row of matbench_v0.1 matbench_jdft2d (mean strategy):
    # mean mae 67.2851, std mae 10.1832 (population std), mean rmse 126.8446, max max_error 1491.7993
    assert summary["mae"]["mean"] == pytest.approx(67.2851, abs=1e-4)
    assert summary["mae"]["std"] == pytest.approx(10.1832, abs=1e-4)
    assert summary["rmse"]["mean"] == pytest.approx(126.8446, abs=1e-4)
    assert summary["max_error"]["max"] == pytest.approx(1491.7993, abs=1e-4)


def test_roundtrip_compression_and_tampering(tmp_path: Path, jdft2d) -> None:
    meta = {"model": "dummy", "layers": [1, 2], "nested": {"b": 1, "a": np.float64(0.5)}}
    doc = _write(tmp_path / "a.json", jdft2d, user_metadata=meta, parameters={TASK: {"k": 1}})
    _write(tmp_path / "a.json.gz", jdft2d, user_metadata=meta, parameters={TASK: {"k": 1}},
           compress=True)
    plain = (tmp_path / "a.json").read_bytes()
    assert gzip.decompress((tmp_path / "a.json.gz").read_bytes()) == plain
    _write(tmp_path / "b.json.gz", jdft2d, user_metadata=meta, parameters={TASK: {"k": 1}})
    # a .gz name is gzip by default (the leaderboard's matbench opens it with gzip.open)
    assert (tmp_path / "b.json.gz").read_bytes() == (tmp_path / "a.json.gz").read_bytes()
    _write(tmp_path / "c.json.gz", jdft2d, user_metadata=meta, parameters={TASK: {"k": 1}},
           compress=False)
    assert (tmp_path / "c.json.gz").read_bytes() == plain
    assert list(json.loads(plain)) == [
        "@module", "@class", "version", "tasks", "user_metadata", "benchmark_name", "datestamp",
        "hash",
    ]  # fmt: skip
    assert doc["user_metadata"] == {
        "layers": [1, 2],
        "model": "dummy",
        "nested": {"a": 0.5, "b": 1},
    }
    # what we read back re-writes to the same bytes
    again = read_matbench_results(tmp_path / "a.json.gz")
    write_matbench_results(
        tmp_path / "b.json", predictions_from_results(again), user_metadata=again["user_metadata"],
        parameters={TASK: {"k": 1}}, targets={TASK: jdft2d[0].to_dict()},
        folds={TASK: jdft2d[1]}, datestamp=again["datestamp"],
    )  # fmt: skip
    assert (tmp_path / "b.json").read_bytes() == plain
    tampered = json.loads(plain)
    tampered["tasks"][TASK]["results"]["fold_0"]["scores"]["mae"] = 1.0
    (tmp_path / "t.json").write_text(json.dumps(tampered))
    with pytest.raises(ValueError, match="hash"):
        read_matbench_results(tmp_path / "t.json")


def test_partial_and_invalid_predictions(tmp_path: Path, jdft2d) -> None:
    y, folds, preds = jdft2d
    with pytest.warns(UserWarning, match="folds missing"):
        doc = _write(tmp_path / "p.json", (y, folds, [preds[0], None, None, None, None]))
    assert doc["tasks"][TASK]["results"]["fold_1"] == {"data": {}}
    assert task_scores(doc) == {}
    assert predictions_from_results(doc)[TASK][1:] == [None] * 4
    bad = dict(preds[0])
    bad.pop(next(iter(bad)))
    with pytest.raises(ValueError, match="missing"):
        _write(tmp_path / "x.json", (y, folds, [bad, *preds[1:]]))
    nan = {**preds[0], next(iter(preds[0])): float("nan")}
    with pytest.raises(ValueError, match="finite"):
        _write(tmp_path / "x.json", (y, folds, [nan, *preds[1:]]))
    with pytest.raises(KeyError):
        write_matbench_results(tmp_path / "x.json", {"matbench_nope": preds})


def test_submission_folder(tmp_path: Path, jdft2d) -> None:
    _write(tmp_path / "r.json", jdft2d)  # plain: gzipped on copy
    script = tmp_path / "run_cloud.py"
    script.write_text("print('predict')\n")
    info = info_json(authors="A. Person", notes="5 folds")
    out = write_submission_folder(
        tmp_path / "matbench_v0.1_CLOUD", tmp_path / "r.json", info, commit="abc1234",
        script=script)
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "info.json", "results.json.gz", "run_cloud.py"]
    readme = (out / "README.md").read_text()
    assert "git show abc1234:benchmarks/run.py > run.py" in readme
    # gzip, as the leaderboard's matbench opens a .gz name
    assert json.loads(gzip.decompress((out / "results.json.gz").read_bytes()))
    assert read_matbench_results(out / "results.json.gz")["hash"] == content_hash(
        read_matbench_results(tmp_path / "r.json")
    )
    loaded = json.loads((out / "info.json").read_text())
    assert set(loaded) == {"authors", "algorithm", "algorithm_long", "bibtex_refs", "notes",
                           "requirements"}  # fmt: skip
    assert "matbench==0.6" in loaded["requirements"]["python"]
    with pytest.raises(ValueError):
        write_submission_folder(tmp_path / "matbench_v0.1_x", tmp_path / "r.json", {}, "abc1234")
    with pytest.raises(ValueError, match="commit"):
        write_submission_folder(tmp_path / "matbench_v0.1_y", tmp_path / "r.json", info, "",
                                script=script)
    with pytest.raises(ValueError, match=r"\.py or \.ipynb"):
        write_submission_folder(tmp_path / "matbench_v0.1_z", tmp_path / "r.json", info,
                                "abc1234")


def test_hash_of_matbench_written_files() -> None:
    """Files matbench itself wrote (shipped in its wheel) carry the hash our code computes."""
    target = pip_target("matbench-0.6", MB_REQUIREMENTS)
    for name in ("mb_3_tasks_random.json", "mb_all_tasks_random.json"):
        path = target / "matbench" / "tests" / name
        doc = read_matbench_results(path)  # raises on a hash mismatch
        assert doc["hash"] == content_hash(json.loads(path.read_text()))
        assert len(task_scores(doc)) == len(doc["tasks"])


MB_SCRIPT = r"""
import datetime, json, sys, types
import pandas as pd
import matbench.bench as mbb
from matbench.bench import MatbenchBenchmark
from matbench.data_ops import score_array
a = json.load(open(sys.argv[1]))
mb = MatbenchBenchmark.from_file(a["ours"])
out = {"is_valid": bool(mb.is_valid), "is_recorded": bool(mb.is_recorded)}
out["scores"] = {t: {m: {k: float(v) for k, v in s.items()} for m, s in sc.items()}
                 for t, sc in mb.scores.items()}
mb2 = MatbenchBenchmark(autoload=False, subset=[a["task"]])
task = getattr(mb2, a["task"])
md = task.metadata
task.df = pd.DataFrame({md.input_type: None, md.target: pd.Series(a["targets"])})
out["folds"] = [list(task.validation[task.folds_map[k]].test) for k in task.folds]
for k, preds in enumerate(a["predictions"]):
    test = task.validation[task.folds_map[k]].test
    task.record(k, [preds[i] for i in test], params=a["parameters"])
mb2.add_metadata(a["user_metadata"])
fixed = datetime.datetime.strptime(a["datestamp"], "%Y.%m.%d %H:%M.%S")
class Frozen(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return fixed
mbb.datetime = types.SimpleNamespace(datetime=Frozen)
mb2.to_file(a["theirs"])
out["clf"] = [{k: float(v) for k, v in score_array(c["true"], c["pred"], "classification").items()}
              for c in a["clf"]]
print(json.dumps(out))
"""


def test_matbench_loads_our_file_and_writes_the_same_bytes(tmp_path: Path, jdft2d) -> None:
    target = pip_target("matbench-0.6", MB_REQUIREMENTS)
    y, folds, preds = jdft2d
    meta, params = {"algorithm": "dummy", "tags": ["mean", 1]}, {"strategy": "mean", "seed": 0}
    ours = _write(tmp_path / "ours.json", jdft2d, user_metadata=meta,
                  parameters={TASK: params}, compress=False)  # fmt: skip
    rng = np.random.default_rng(5)
    truth = (rng.random(400) < 0.45).tolist()
    clf = [{"true": truth, "pred": rng.random(400).tolist()},
           {"true": truth, "pred": (rng.random(400) < 0.5).tolist()}]  # fmt: skip
    args = {"ours": str(tmp_path / "ours.json"), "theirs": str(tmp_path / "theirs.json"),
            "task": TASK, "targets": y.to_dict(), "predictions": preds, "parameters": params,
            "user_metadata": meta, "datestamp": DATESTAMP, "clf": clf}  # fmt: skip
    (tmp_path / "args.json").write_text(json.dumps(args))
    env = {**os.environ, "PYTHONPATH": str(target), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", MB_SCRIPT, str(tmp_path / "args.json")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)  # fmt: skip
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["is_valid"] and res["is_recorded"]
    assert res["folds"] == [list(f.test) for f in folds]  # the suite's folds are matbench's
    assert res["scores"] == task_scores(ours)  # np.mean/std/max/min of the stored fold scores
    # matbench recording the same predictions writes exactly our bytes (same datestamp)
    assert (tmp_path / "theirs.json").read_bytes() == (tmp_path / "ours.json").read_bytes()
    for case, theirs in zip(clf, res["clf"], strict=True):
        ours_clf = matbench_classification_metrics(case["true"], case["pred"])
        assert ours_clf == pytest.approx(theirs, rel=1e-12)
