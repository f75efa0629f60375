"""Run reports of ``benchmarks/reports/summary.py`` and ``run_labels.py``: parity plots,
smoke-run labels of summary.json and leaderboard.md."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.reports.summary import (
    leaderboard_markdown,
    parity_plot,
    points_label,
    write_summary,
)
from benchmarks.tasks import select


@pytest.fixture
def drawn_titles(monkeypatch):
    """The axes titles of every figure saved while the test runs."""
    from matplotlib.figure import Figure

    titles: list[str] = []
    save = Figure.savefig

    def record(fig, *args, **kwargs):
        titles.extend(ax.get_title() for ax in fig.axes)
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    return titles


def test_parity_plot_title_counts_the_points(tmp_path, drawn_titles):
    """Synthetic arrays: 37 pairs, then the same with two predictions not finite."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=37)
    parity_plot(tmp_path / "a.png", y, y + 0.1, "task — model", "eV")
    assert "n = 37," in drawn_titles[-1] and drawn_titles[-1].startswith("task — model\n")
    pred = y.copy()
    pred[[3, 5]] = np.nan
    parity_plot(tmp_path / "b.png", y, pred, "task — model")
    assert "n = 35 (2 of 37 not finite)" in drawn_titles[-1]
    assert points_label([1.0, 2.0], [1.0, 2.5]) == "n = 2"


def _synthetic_run(out: Path, smoke: bool) -> dict:
    """Synthetic: a summary of one matbench_jdft2d fold of two models and their fold records
    (240/80 rows; CLOUD configured for 2 epochs and stopped after 1), as the runner writes."""
    records = {"cloud": {"n_train": 240, "n_test": 80, "history": [{"epoch": 0}],
                         "config": {"type": "cloud", "train": {"epochs": 2}}},
               "dummy": {"n_train": 240, "n_test": 80, "config": {"type": "dummy"}}}
    models = {}
    for name, record in records.items():
        (out / "matbench_jdft2d" / name).mkdir(parents=True)
        (out / "matbench_jdft2d" / name / "fold_0.json").write_text(json.dumps(record))
        models[name] = {"folds": {0: {"mae": 50.0}}, "n_folds": 1, "coverage": "complete",
                        "summary": {"mae": {"mean": 50.0, "std": 0.0}},
                        "description": name + (", smoke" if smoke else "")}
    return {"run": {"created": "now", "device": "CPU", "commit": "abc", "smoke": smoke},
            "tasks": {"matbench_jdft2d": {"family": "matbench", "status": "done",
                                          "coverage": "complete", "models": models}}}


def test_smoke_leaderboard_and_summary_are_labelled(tmp_path):
    tasks = select("matbench_jdft2d")
    summary = _synthetic_run(tmp_path, smoke=True)
    write_summary(tmp_path, summary)
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["run"]["label"].startswith(
        "SMOKE RUN, 240 train / 80 test rows, 2 epochs (ran 1): pipeline check")
    cloud = written["tasks"]["matbench_jdft2d"]["models"]["cloud"]
    assert cloud["label"] == "SMOKE RUN: 240 train / 80 test rows, 2 epochs (ran 1)"
    assert cloud["sample"]["folds"]["0"] == {"n_train": 240, "n_test": 80, "epochs": 2,
                                             "epochs_run": 1}
    board = leaderboard_markdown(summary, tasks)
    assert board.splitlines()[0].startswith("# Leaderboard — SMOKE RUN, 240 train / 80 test")
    rows = [line for line in board.splitlines() if line.startswith("| **")]
    assert len(rows) == 2 and all("SMOKE RUN: 240 train / 80 test rows" in r for r in rows)
    assert "2 epochs (ran 1)" in rows[0] and "not trained in epochs" in rows[1]
    assert "(paper)" not in board and "35.01" not in board
    assert "left out of a smoke leaderboard" in board


def test_full_run_leaderboard_keeps_the_paper_rows(tmp_path):
    summary = _synthetic_run(tmp_path, smoke=False)
    write_summary(tmp_path, summary)
    assert json.loads((tmp_path / "summary.json").read_text())["run"]["label"] == "full run"
    board = leaderboard_markdown(summary, select("matbench_jdft2d"))
    assert board.startswith("# Leaderboard\n") and "SMOKE" not in board
    assert "| CLOUD (paper) | 35.01 ± 11.46 |" in board
    assert "| **cloud** (this run; cloud) |" in board
