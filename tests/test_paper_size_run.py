"""The paper-size GPU run's CPU dry run: pretrain, fine-tune jdft2d, leaderboard, manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO, shared_file


def test_dry_run_writes_leaderboard_and_manifest(tmp_path):
    shared_file("matbench/matbench_jdft2d.json.gz")
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "scripts/paper_size_run.py", "--out", str(out), "--dry-run",
         "--budget-s", "120"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["preset"] == "tiny" and manifest["dry_run"]
    assert manifest["pretrain"]["steps"] == 3
    assert manifest["timings"]["wall_s"] < 120
    assert manifest["finetune"]["mae"]  # at least one scored fold
    board = (out / "leaderboard.md").read_text()
    assert "pretrained here" in board and "35.01" in board and "47.39" in board
    assert (out / "pretrain/final/config.json").exists()
