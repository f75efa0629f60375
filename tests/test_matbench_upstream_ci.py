"""MatBench submission folders judged by the leaderboard's own CI.

``scripts/test_submission.py`` and the ``matbench`` package of materialsproject/matbench's
main branch (the reference copy named in ``../shared/reference/leaderboards/README.md``; its
validation JSON from the PyPI 0.6 wheel, byte-identical) run in a temporary tree laid out
like that repository, on every committed submission folder and on the folders a real
five-fold run of matbench_jdft2d writes. The classification scores are compared with that
package's own ``score_array``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.leaderboards.matbench_check import run_upstream_check
from benchmarks.metrics import matbench_classification_metrics
from benchmarks.reports.matbench_folder import existing_submissions, folder_problems, name_clash
from benchmarks.run import main
from tests.conftest import SHARED_DATA, pip_target
from tests.matbench_package import MB_REQUIREMENTS, matbench_load

REPO = Path(__file__).resolve().parents[1]
REFERENCE = SHARED_DATA.parent / "reference" / "leaderboards"
CHECKER = REFERENCE / "matbench"
HERE = "tests.test_model_plugins"


@pytest.fixture(scope="module")
def deps() -> Path:
    """matminer 0.7.4 and the PyPI 0.6 wheel (its validation JSON) for the CI's package."""
    if not (CHECKER / "test_submission.py").is_file():
        pytest.skip(f"the leaderboard's reference copy {CHECKER} is not here")
    return pip_target("matbench-0.6", MB_REQUIREMENTS)


def committed_folders() -> dict[Path, list[Path]]:
    """Per run folder, its committed submission folders (from ``git ls-files``)."""
    files = subprocess.run(["git", "ls-files", "reports"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    out: dict[Path, list[Path]] = {}
    for f in files:
        p = REPO / f
        if p.name == "results.json.gz" and p.parent.name.startswith("matbench_v0.1_"):
            out.setdefault(p.parent.parent.parent, []).append(p.parent)
    return out


def test_committed_folders_pass_the_leaderboards_ci(deps) -> None:
    runs = committed_folders()
    assert len(runs) >= 2 and sum(map(len, runs.values())) >= 6
    for run, folders in runs.items():
        result = run_upstream_check(folders, CHECKER, extra_path=[deps])
        assert result.passed, (run, result.output[-4000:])
        for folder in folders:
            assert f"checking benchmark <tmp>/scripts/../benchmarks/{folder.name}" in \
                result.output
            assert folder_problems(folder) == []
        assert "Ran 2 tests" in result.output and result.output.rstrip().endswith("OK")
        # the suite's baselines are reference rows, not submissions
        names = {json.loads((f / "info.json").read_text())["algorithm"] for f in folders}
        assert not names & {"Dummy", "Composition_rf"}
        tasks = json.loads((run / "summary.json").read_text())["tasks"].values()
        baselines = {m for t in tasks for m in t.get("models", {})} & {"dummy", "composition_rf"}
        readme = (run / "matbench" / "README.md").read_text()
        assert all(f"`{m}`: a reference row" in readme for m in sorted(baselines)), run


def test_a_plain_json_folder_fails_the_ci(deps, tmp_path) -> None:
    """The check can fail: a folder whose results.json.gz is plain JSON (what matbench 0.6
    writes) is rejected with the error the leaderboard's CI gives."""
    folder = next(iter(committed_folders().values()))[0]
    bad = tmp_path / folder.name
    bad.mkdir()
    for p in folder.iterdir():
        (bad / p.name).write_bytes(p.read_bytes())
    import gzip

    (bad / "results.json.gz").write_bytes(gzip.decompress(
        (folder / "results.json.gz").read_bytes()))
    result = run_upstream_check([bad], CHECKER, extra_path=[deps])
    assert not result.passed and "Not a gzipped file" in result.output
    assert folder_problems(bad) == ["results.json.gz: not gzip (gzip.open fails)"]


@pytest.mark.slow
def test_jdft2d_run_folders_pass_the_ci_and_load_in_matbench_06(deps, tmp_path, shared_data,
                                                               monkeypatch) -> None:
    monkeypatch.setenv("CLOUD_DATA_DIR", str(shared_data))
    out = tmp_path / "run"
    code = main(["--task", "matbench_jdft2d", "--models", f"{HERE}:FractionRidge,dummy",
                 "--no-progress", "--out", str(out)])
    assert code == 0
    base = out / "matbench"
    folders = sorted(p for p in base.iterdir() if p.is_dir())
    assert [p.name for p in folders] == ["matbench_v0.1_FractionRidge"]  # dummy: reference row
    assert (base / "results_dummy.json.gz").is_file()
    assert "`dummy`: a reference row: the board already has it as matbench_v0.1_dummy" in \
        (base / "README.md").read_text()
    result = run_upstream_check(folders, CHECKER, extra_path=[deps])
    print(result.output)
    assert result.passed, result.output[-4000:]
    assert "valid (True), complete (False), recorded (True)" in result.output
    res = matbench_load([folders[0] / "results.json.gz"], tmp_path)[0]  # the 0.6 one-liner
    assert res["is_valid"] and res["is_recorded"]
    assert res["tasks"]["matbench_jdft2d"]["n_predictions"] == 636


def test_board_names_are_not_reused() -> None:
    board = existing_submissions()
    assert len(board) == 28 and board["matbench_v0.1_dummy"] == "Dummy"
    assert "exists on the board" in name_clash("matbench_v0.1_Dummy", "Dummy")
    assert "exists on the board (matbench_v0.1_rf)" in name_clash("matbench_v0.1_other", "rf-scm/magpie")
    assert name_clash("matbench_v0.1_CLOUD", "CLOUD") is None


SCORE = r"""
import json, sys
from matbench.data_ops import score_array
cases = json.load(open(sys.argv[1]))
print(json.dumps([{k: float(v) for k, v in score_array(c["true"], c["pred"],
                                                     "classification").items()} for c in cases]))
"""


def test_classification_scores_are_the_leaderboards(deps, tmp_path) -> None:
    """ROC-AUC and the other classification scores equal the CI package's ``score_array``
    on the same arrays (probabilities, labels, an imbalanced fold)."""
    rng = np.random.default_rng(3)
    truth = (rng.random(500) < 0.4).tolist()
    cases = [{"true": truth, "pred": rng.random(500).tolist()},
             {"true": truth, "pred": (rng.random(500) < 0.5).tolist()},
             {"true": (rng.random(300) < 0.1).tolist(), "pred": rng.random(300).tolist()}]
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    pkg = tmp_path / "site" / "matbench"  # the CI's package, its validation JSON beside it
    pkg.mkdir(parents=True)
    for p in (CHECKER / "upstream" / "matbench").iterdir():
        (pkg / p.name).symlink_to(p)
    (pkg / "matbench_v0.1_validation.json").symlink_to(
        deps / "matbench" / "matbench_v0.1_validation.json")
    proc = subprocess.run([sys.executable, "-c", SCORE, str(tmp_path / "cases.json")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": f"{pkg.parent}{os.pathsep}{deps}"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    for case, want in zip(cases, theirs, strict=True):
        assert matbench_classification_metrics(case["true"], case["pred"]) == \
            pytest.approx(want, rel=1e-12, abs=0)
