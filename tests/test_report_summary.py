"""Run reports of ``benchmarks/reports/summary.py``: parity plots and leaderboard labels."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.reports.summary import parity_plot, points_label


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
