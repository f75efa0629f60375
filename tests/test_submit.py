"""The submit step on committed runs (their fold records restored from git history).

It rewrites exactly the committed submission folders and YAMLs (so the committed files are
what it writes), runs the leaderboard's own MatBench CI on the folders, validates every
discovery YAML, and with a submission-info file leaves no schema error.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from benchmarks.leaderboards.discovery_check import schema_errors
from benchmarks.submit import main
from tests.conftest import SHARED_DATA, pip_target
from tests.matbench_package import MB_REQUIREMENTS

REPO = Path(__file__).resolve().parents[1]
CHECKER = SHARED_DATA.parent / "reference" / "leaderboards" / "matbench"


def restored(tmp_path: Path, run: str) -> Path:
    """A copy of ``reports/<run>`` with its fold records back from the index's commit."""
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=REPO,
                             capture_output=True, text=True)
    if shallow.returncode != 0 or shallow.stdout.strip() == "true":
        pytest.skip("needs a git checkout with its history")
    index = json.loads((REPO / "reports" / "archives.json").read_text())
    out = tmp_path / run
    shutil.copytree(REPO / "reports" / run, out)
    for rel, digest in index["runs"][run]["files"].items():
        if Path(rel).name.startswith("fold_") and rel.endswith(".json") and "_train" not in rel:
            data = subprocess.run(["git", "show", f"{index['git_commit']}:reports/{run}/{rel}"],
                                  cwd=REPO, capture_output=True, check=True).stdout
            assert hashlib.sha256(data).hexdigest() == digest
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(data)
    return out


def committed(run: Path, sub: str) -> dict[str, bytes]:
    base = REPO / "reports" / run.name / sub
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*"))
            if p.is_file()}


def test_submit_matbench_run(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CLOUD_DATA_DIR", str(SHARED_DATA))
    deps = pip_target("matbench-0.6", MB_REQUIREMENTS)
    run = restored(tmp_path, "matbench_cpu")
    code = main([str(run), "--matbench-checker", str(CHECKER), "--check-path", str(deps)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "matbench_v0.1_CLOUD: suite's reading of the CI rules: pass" in out
    assert "leaderboard CI (python scripts/test_submission.py -v" in out and "PASSED" in out
    assert "Ran 2 tests" in out and "\n    OK" in out
    assert "`dummy`: a reference row: the board already has it as matbench_v0.1_dummy" in out
    assert "No pull request was opened" in out and "git push" in out
    written = {k: v for k, v in committed(run, "matbench").items()}
    mine = {str(p.relative_to(run / "matbench")): p.read_bytes()
            for p in sorted((run / "matbench").rglob("*")) if p.is_file()
            and not p.name.startswith("results_")}
    assert mine == written  # the committed folders are what the submit step writes


def test_submit_discovery_run(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CLOUD_DATA_DIR", str(SHARED_DATA))
    run = restored(tmp_path, "discovery_cpu")
    assert main([str(run)]) == 0
    out = capsys.readouterr().out
    assert out.count("exactly the fields to fill in") == 3
    assert "nothing to submit: only stand-in tasks ran" in out
    ymls = sorted((run / "discovery" / "discovery_mpts").glob("*.yml"))
    for path in ymls:  # the committed YAMLs are what the submit step writes
        assert path.read_bytes() == (REPO / "reports" / "discovery_cpu" / "discovery" /
                                     "discovery_mpts" / path.name).read_bytes()
    info = tmp_path / "me.yml"
    info.write_text(yaml.safe_dump({
        "authors": [{"name": "A. Submitter", "email": "submitter@example.org"}],
        "repo": "https://github.com/example/model", "checkpoint_url": None,
        "pr_url": "https://github.com/janosh/matbench-discovery/pull/1", "model_params": 0}))
    assert main([str(run), "--submission-info", str(info)]) == 0
    out = capsys.readouterr().out
    assert out.count("schema (") == 3 and out.count(": valid") == 3, out
    for path in ymls:
        doc = yaml.safe_load(path.read_text())
        assert schema_errors(doc) == [] and "missing_for_submission" not in doc["notes"]
        if path.stem == "cloud":
            assert doc["model_params"] == 3355137  # counted, not the file's placeholder
    (tmp_path / "bad.yml").write_text("repo: x\nnot_a_field: 1\n")
    assert main([str(run), "--submission-info", str(tmp_path / "bad.yml")]) == 2
    assert "unknown field(s) not_a_field" in capsys.readouterr().err
