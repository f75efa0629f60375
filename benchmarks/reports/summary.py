"""Run reports shared by every family: summary.json, leaderboard.md, parity plots."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchmarks.metrics import summarize_folds
from benchmarks.reports.row_tables import detail_lines, interval, tie_mark
from benchmarks.reports.run_labels import (
    PAPER_OMITTED,
    SMOKE_NOTE,
    annotate_samples,
    is_smoke,
    row_label,
    run_title,
)
from cloud.fileio import write_json_atomic

METRIC_LABELS = {"mae": "MAE", "mae_over_mad": "MAE/MAD", "rmse": "RMSE", "f1": "F1",
                 "full/F1": "F1 (full test set)"}


def _fmt(mean: float, std: float | None = None) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "—"
    digits = 4 if abs(mean) < 1 else 2
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def model_summary(fold_results: dict[int, dict]) -> dict:
    """Per-fold metrics and their mean/std/min/max (population std, as matbench)."""
    folds = {k: r["metrics"] for k, r in sorted(fold_results.items())}
    return {"folds": folds, "summary": summarize_folds(list(folds.values())),
            "n_folds": len(folds)}


def write_summary(out_dir: Path, summary: dict) -> Path:
    """``summary.json``; first adds to ``summary`` (in place, so the leaderboard written from
    it next says the same) each model's sample size, epochs and smoke label, read from the
    fold records in ``out_dir`` (``run_labels.annotate_samples``)."""
    annotate_samples(out_dir, summary)
    return write_json_atomic(out_dir / "summary.json", summary)


def leaderboard_markdown(summary: dict, tasks: list) -> str:
    """One table per family: this run's models (primary metric, mean ± std over folds), then
    the paper's published rows for the same tasks. A smoke run says so in the title and in
    every row (rows, epochs) and has no paper rows (``run_labels.PAPER_OMITTED`` says why)."""
    smoke = is_smoke(summary)
    trained = sorted({d for e in summary["tasks"].values()
                      for m in e.get("models", {}).values() for d in m.get("trained_on", [])})
    lines = [f"# Leaderboard — {run_title(summary)}" if smoke else "# Leaderboard", "",
             *([SMOKE_NOTE, ""] if smoke else []),
             f"Report written {summary['run'].get('created', '')} on "
             f"{summary['run'].get('device')}, commit {summary['run'].get('commit')}."
             + (f" Folds trained on: {', '.join(trained)} (per model: `trained_on` in "
                "summary.json, the device column below; 'not recorded' = a fold file older "
                "than that field and no job table)."
                if trained and trained != [summary["run"].get("device")] else ""), ""]
    by_family: dict[str, list] = {}
    for task in tasks:
        by_family.setdefault(task.family, []).append(task)
    for family, members in by_family.items():
        labels = [METRIC_LABELS.get(t.primary_metric, t.primary_metric) for t in members]
        mixed = len(set(labels)) > 1  # e.g. discovery: F1 and a stand-in's MAE
        metric = "metric in each column" if mixed else labels[0]
        lines += [f"## {family}", "", f"Test {metric}, mean ± std over the folds run "
                  "[95 % bootstrap interval]; **best** and **≈ best** (tied with it): see the "
                  "tables below.", ""]
        header = "| model | " + " | ".join(
            f"{t.name} ({label})" if mixed else t.name
            for t, label in zip(members, labels, strict=True)) + " |"
        lines += [header, "|" + "---|" * (len(members) + 1)]
        models = list(dict.fromkeys(
            m for t in members for m in summary["tasks"].get(t.name, {}).get("models", {})))
        for model in models:
            cells = []
            for t in members:
                entry = summary["tasks"].get(t.name, {})
                res = entry.get("models", {}).get(model)
                if entry.get("status") == "skipped":
                    cells.append("skipped")
                elif res is None:
                    cells.append("—")
                else:
                    s = res["summary"].get(t.primary_metric, {})
                    other = res.get("coverage") not in (None, entry.get("coverage"))
                    ci, mark = res.get("ci95", {}).get(t.primary_metric), tie_mark(entry, model)
                    cells.append(f"{_fmt(s.get('mean'), s.get('std'))}"
                                 + (f" {interval(ci)}" if ci else "")
                                 + (f" **{mark}**" if mark else "")
                                 + f" ({res['n_folds']} folds"
                                 + (f"; {res['coverage']})" if other else ")"))
            res = next(summary["tasks"][t.name]["models"][model] for t in members
                       if model in summary["tasks"].get(t.name, {}).get("models", {}))
            lines.append(f"| {row_label(model, res, summary)} | " + " | ".join(cells) + " |")
        paper = [] if smoke else [(t, t.paper_rows()) for t in members]
        names = list(dict.fromkeys(n for _, rows in paper if rows is not None for n in rows.index))
        for name in names:
            cells = []
            for _, rows in paper:
                if rows is None or name not in rows.index:
                    cells.append("—")
                else:
                    cells.append(_fmt(rows.loc[name, "mean"], rows.loc[name, "std"]))
            lines.append(f"| {name} (paper) | " + " | ".join(cells) + " |")
        lines += ["", "Data used by this run:", ""]
        for t in members:
            entry = summary["tasks"].get(t.name, {})
            if entry.get("status") == "skipped":
                lines.append(f"- `{t.name}`: skipped — {entry.get('reason', '').splitlines()[0]}")
            else:
                lines.append(f"- `{t.name}`: {entry.get('coverage')}; {entry.get('source')}; "
                             f"{entry.get('n_input_errors', 0)} rows failed to encode "
                             f"(see `{t.name}/input_errors.csv`)")
            for model, reason in entry.get("skipped_models", {}).items():
                lines.append(f"- `{t.name}` {model}: skipped — {reason}")
            for model, res in entry.get("models", {}).items():
                for split, metrics in res.get("extra_folds", {}).items():
                    label = METRIC_LABELS.get(t.primary_metric, t.primary_metric)
                    lines.append(f"- `{t.name}` {model}, {split}: {label} "
                                 f"{_fmt(metrics.get(t.primary_metric), None)} "
                                 "(not in the mean over folds above)")
                if res.get("attention"):  # benchmarks/reports/attention_report.py
                    md = res["attention"].removesuffix(".json") + ".md"
                    lines.append(f"- `{t.name}` {model}: [CLS] attention analysis [`{md}`]({md})")
        lines.append("")
        lines += detail_lines(summary, members, labels)
        extra = getattr(members[0], "leaderboard_lines", None)  # a family's own tables
        if extra is not None:
            lines += extra(summary, members)
    if smoke:
        return "\n".join([*lines, PAPER_OMITTED, ""])
    lines += ["Paper rows: Xu, Zhu, Viswanathan, CLOUD (arXiv 2506.17345), restated in "
              "`benchmarks/reference/paper_results.json`; baselines there are the paper's, "
              "taken by it from the MatBench / Matbench Discovery leaderboards.", ""]
    return "\n".join(lines)


def points_label(y_true, y_pred) -> str:
    """``"n = N"``: the points a parity plot draws (pairs with both values finite; the
    others are named, matplotlib leaves them out)."""
    t, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    n = int(np.sum(np.isfinite(t) & np.isfinite(p)))
    return f"n = {n}" if n == t.size else f"n = {n} ({t.size - n} of {t.size} not finite)"


def parity_plot(path: Path, y_true: np.ndarray, y_pred: np.ndarray, title: str,
                unit: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 4.2), dpi=120)
    ax.scatter(y_true, y_pred, s=6, alpha=0.5, edgecolors="none")
    lo = float(np.nanmin([y_true.min(), y_pred.min()]))
    hi = float(np.nanmax([y_true.max(), y_pred.max()]))
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    mae = float(np.mean(np.abs(y_true - y_pred)))
    ax.set_xlabel(f"target {unit}".strip())
    ax.set_ylabel(f"prediction {unit}".strip())
    ax.set_title(f"{title}\n{points_label(y_true, y_pred)}, MAE {mae:.4g}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
