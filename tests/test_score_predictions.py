"""benchmarks/score.py: predictions made elsewhere, checked against the official MatBench
folds and scored beside the suite's rows. Real data: the official folds and targets, and a
results file the matbench package wrote itself (random predictions, shipped in its wheel)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.score import main
from cloud.data import matbench_folds, read_matbench_targets
from tests.conftest import pip_target
from tests.matbench_package import MB_REQUIREMENTS

TASK = "matbench_jdft2d"


def dummy_rows(shared_data) -> list[tuple[int, str, float]]:
    """(fold, id, training-fold mean): MatBench's Dummy on the official folds."""
    y = read_matbench_targets(TASK, data_dir=shared_data)["exfoliation_en"]
    folds = matbench_folds(TASK, list(y.index))
    return [(k, i, float(np.mean(y.loc[list(f.train)]))) for k, f in enumerate(folds)
            for i in f.test]


def write_csv(path: Path, rows) -> Path:
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([("fold", "id", "prediction"), *rows])
    return path


def test_matbench_written_file_scores_as_matbench_scored_it(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("CLOUD_DATA_DIR", str(shared_data))
    path = pip_target("matbench-0.6", MB_REQUIREMENTS) / "matbench/tests/mb_all_tasks_random.json"
    assert main([str(path), "--name", "random", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    stored = json.loads(path.read_text())["tasks"]
    scored = [t for t in summary["tasks"]]
    # the 5 tasks without data here (offline) are named, not scored
    assert len(scored) == 8 and "matbench_steels" not in scored
    for task in scored:
        folds = summary["tasks"][task]["models"]["random"]["folds"]
        for k in range(5):
            theirs = stored[task]["results"][f"fold_{k}"]["scores"]
            for metric in ("mae", "rmse", "max_error"):
                assert folds[str(k)][metric] == pytest.approx(theirs[metric], rel=1e-9)
    board = (tmp_path / "leaderboard.md").read_text()
    assert "**random** (scored here; predictions made elsewhere: mb_all_tasks_random.json)" in board


def test_csv_dummy_is_the_matbench_dummy_beside_other_rows(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("CLOUD_DATA_DIR", str(shared_data))
    path = write_csv(tmp_path / "dummy.csv", dummy_rows(shared_data))
    out = tmp_path / "board"
    assert main([str(path), "--task", TASK, "--name", "mine", "--out", str(out)]) == 0
    assert main([str(path), "--task", TASK, "--name", "again", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    models = summary["tasks"][TASK]["models"]
    assert list(models) == ["mine", "again"]  # the second adds its row beside the first
    # matbench's own leaderboard, "Dummy" row of matbench_jdft2d: MAE 67.2851 ± 10.1832
    assert models["mine"]["summary"]["mae"]["mean"] == pytest.approx(67.2851, abs=1e-4)
    assert models["mine"]["summary"]["mae"]["std"] == pytest.approx(10.1832, abs=1e-4)
    assert (out / TASK / "mine" / "fold_4.json").exists()
    assert (out / TASK / "parity_mine.png").exists()


def test_missing_and_extra_ids_are_named(tmp_path, shared_data, monkeypatch, capsys):
    monkeypatch.setenv("CLOUD_DATA_DIR", str(shared_data))
    rows = dummy_rows(shared_data)
    dropped = rows[3]
    short = write_csv(tmp_path / "short.csv", rows[:3] + rows[4:])
    assert main([str(short), "--task", TASK, "--name", "x", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"fold {dropped[0]}: 1 test ids missing ({dropped[1]})" in err
    extra = write_csv(tmp_path / "extra.csv", [*rows, (0, "mb-jdft2d-9999", 1.0)])
    assert main([str(extra), "--task", TASK, "--name", "x", "--out", str(tmp_path / "o")]) == 2
    assert "fold 0: 1 ids not in its test fold (mb-jdft2d-9999)" in capsys.readouterr().err
    no_fold = write_csv(tmp_path / "nofold.csv", [r for r in rows if r[0] != 2])
    assert main([str(no_fold), "--task", TASK, "--name", "x", "--out", str(tmp_path / "o")]) == 2
    assert "fold 2 missing" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written for a file that does not cover
