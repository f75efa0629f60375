"""Family outputs of the Matbench Discovery tasks, under ``<out>/discovery/<task>/``:

- ``<model>-preds.csv``: ``material_id,e_form_per_atom`` (Matbench Discovery's prediction
  file layout); a stand-in's file starts with a ``# STAND-IN ...`` comment line;
- ``<model>.yml``: the model YAML in today's Matbench Discovery model schema
  (:mod:`benchmarks.reports.discovery_yaml`), ``<model_key>/<yyyy-mm-dd>-discovery.csv.gz``
  its predictions file as upstream names and shapes it; stand-ins say so in ``model_name``,
  ``model_key``, a leading comment and ``notes.stand_in``; fields only a submitter can fill
  are left out and listed in ``notes.missing_for_submission`` instead of being invented;
- ``<model>-roc.png``: ROC curve of the stability classification (full test set and unique
  prototypes), ``<model>-thresholds.csv``: the prediction-threshold table (Table S5 form);
- ``data.json``: the task's data source, counts (duplicates merged, leaked ids removed,
  encoding failures), stand-in label and (stability tasks) ``skill``: the class balance,
  every model's ROC-AUC and whether the baselines' F1/DAF show skill
  (``benchmarks/reports/discovery_skill.py``);
- ``report.md`` (stability tasks): the same in words, with the files written.

``leaderboard_lines`` adds the discovery tables of ``leaderboard.md``: this run's stability
metrics next to the paper's WBM rows (Tables S4, S5 and the ROC-AUC quoted in its text),
each row naming its data, and per stability task its class balance and baseline skill.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from benchmarks.metrics import roc_curve_points
from benchmarks.reports.discovery_skill import skill_lines, skill_summary
from benchmarks.reports.discovery_yaml import (
    PRED_COL,
    model_key,
    model_yaml,
    pred_file_name,
    write_prediction_file,
)
from benchmarks.tasks.discovery_scores import (
    predicted_hull,
    subset_metrics,
    threshold_key,
)

BOARD_COLS = ("F1", "DAF", "Precision", "Recall", "Accuracy", "TPR", "TNR", "MAE", "RMSE", "R2")
S5_COLS = ("F1", "DAF", "Precision", "Accuracy", "TPR", "TNR")


# ---------------------------------------------------------------- files per model
def device_name() -> str:
    from cloud.manifest import device_name as name

    return name()


def write_predictions(path: Path, predictions: dict[str, float], stand_in: str | None) -> Path:
    df = pd.DataFrame({"material_id": list(predictions), PRED_COL: list(predictions.values())})
    with open(path, "w", newline="") as fh:
        if stand_in:
            fh.write(f"# {stand_in}\n")
        df.to_csv(fh, index=False)
    return path


def roc_plot(path: Path, each_true, each_pred, uniq, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.4, 4.2), dpi=120)
    for mask, label in ((np.ones(len(each_true), bool), "full test set"),
                        (np.asarray(uniq, bool), "unique prototypes")):
        try:
            fpr, tpr, _ = roc_curve_points(each_true[mask], each_pred[mask])
        except ValueError:  # one class only (e.g. a tiny smoke fold)
            continue
        auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
        ax.plot(fpr, tpr, lw=1.2, label=f"{label} (AUC {auc:.3f}, n={int(mask.sum())})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def threshold_table(metrics: dict[str, float], thresholds) -> pd.DataFrame:
    rows = {float(t): subset_metrics(metrics, f"full@{threshold_key(t)}") for t in thresholds}
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "threshold"
    return df


def _finite(obj):
    """NaN -> None, so the YAML holds plain numbers or nulls."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_model_yaml(path: Path, doc: dict, stand_in: str | None) -> Path:
    """The YAML, after a comment naming the stand-in and the fields still to fill in."""
    text = yaml.safe_dump(_finite(doc), sort_keys=False, allow_unicode=True, width=100)
    todo = doc.get("notes", {}).get("missing_for_submission")
    head = (f"# {stand_in}\n" if stand_in else "") + (
        f"# To fill in before submitting: {', '.join(todo)} (cloud-bench submit RUN_DIR "
        "--submission-info FILE)\n" if todo else "")
    path.write_text(head + text)
    return path


def run_skill(res: dict) -> dict | None:
    """``skill_summary`` of one task's family results (each model's first fold record)."""
    models = {}
    for model, folds in res["models"].items():
        record = folds[min(folds)]  # the family has one fold
        models[model] = (record.get("config", {}).get("type"), record["metrics"])
    return skill_summary(models)


def summary_skill(entry: dict) -> dict | None:
    """``skill_summary`` of a task's entry in summary.json (means over its folds)."""
    models = {}
    for model, res in entry.get("models", {}).items():
        kind = res.get("sample", {}).get("model_type") or res.get("description", "").split(",")[0]
        models[model] = (kind, {k: v["mean"] for k, v in res["summary"].items()})
    return skill_summary(models)


def report_markdown(task, data, skill: dict, files: list[Path]) -> str:
    """``report.md`` of a stability task: what the data are, the class balance, the
    ROC-AUCs and what they say about F1/DAF (all from this run's metrics)."""
    return "\n".join([
        f"# {task.name}: stability classification" + (" — STAND-IN" if task.stand_in else ""),
        "", task.stand_in or task.data_label, "", f"Data: {data.source}.", "",
        *skill_lines(skill), "",
        "Files: " + ", ".join(f"[`{p.name}`]({p.name})" for p in files), ""])


def write_outputs(out_dir: Path, results: dict, adapters: dict) -> list[Path]:
    """Every discovery output for the tasks and models in ``results`` (the runner's
    family results); see the module docstring."""
    written: list[Path] = []
    wbm10k = results.get("discovery_wbm10k", {}).get("models", {})
    for name, res in results.items():
        task = adapters[name]
        data = res.get("data")  # the TaskData the run loaded
        folder = out_dir / "discovery" / name
        folder.mkdir(parents=True, exist_ok=True)
        skill = run_skill(res) if task.stability else None
        first = len(written)
        if data is not None:
            info = {"task": name, "source": data.source, "stand_in": task.stand_in,
                    "data_label": task.data_label, "coverage": data.coverage,
                    "prototype_key": data.meta.get("prototype_key"),
                    "counts": data.meta.get("counts", {}), "checksums": data.checksums,
                    **({"skill": _finite(skill)} if skill else {})}
            path = folder / "data.json"
            path.write_text(json.dumps(info, indent=1))
            written.append(path)
        for model, folds in res["models"].items():
            preds = {i: p for rec in folds.values() for i, p in rec["predictions"].items()}
            written.append(write_predictions(folder / f"{model}-preds.csv", preds,
                                             task.stand_in))
            if not task.stability or data is None:
                continue
            date = dt.date.today().isoformat()
            key_dir = folder / model_key(task, model)
            pred_ref = write_prediction_file(key_dir, date, preds)
            written.append(key_dir / pred_file_name(date))
            record = folds[min(folds)]  # the family has one fold
            ids = list(record["predictions"])
            idx = data.rows(ids)
            each_true = data.meta["e_above_hull"][idx]
            each_pred = predicted_hull(each_true, data.targets[idx],
                                       np.array([record["predictions"][i] for i in ids]))
            title = f"{name} - {model}\n{task.stand_in or task.data_label}"
            written.append(roc_plot(folder / f"{model}-roc.png", each_true, each_pred,
                                    data.meta["unique_prototype"][idx], title[:160]))
            path = folder / f"{model}-thresholds.csv"
            threshold_table(record["metrics"], task.thresholds).to_csv(path)
            written.append(path)
            notes = {"data": task.data_label, "source": data.source,
                     "counts": data.meta.get("counts", {}),
                     "predictions_file": f"{model}-preds.csv",
                     **({"skill": skill["verdict"]} if skill else {})}
            if model in wbm10k:
                rec10k = wbm10k[model][min(wbm10k[model])]
                notes["wbm10k_stand_in"] = {
                    "data": adapters["discovery_wbm10k"].stand_in,
                    **{k: rec10k["metrics"][k] for k in ("mae", "rmse", "r2")}}
            doc = model_yaml(task, model, record, notes, date=date, device=device_name(),
                             pred_file=pred_ref)
            written.append(write_model_yaml(folder / f"{model}.yml", doc, task.stand_in))
        if skill and data is not None:
            path = folder / "report.md"
            path.write_text(report_markdown(task, data, skill, written[first:]))
            written.append(path)
    return written


# ---------------------------------------------------------------- leaderboard.md
def _cell(summary_stats: dict, key: str) -> str:
    from benchmarks.reports.summary import _fmt

    stats = summary_stats.get(key)
    return _fmt(stats["mean"]) if stats else "—"


def paper_roc_auc() -> float | None:
    """CLOUD's WBM ROC-AUC, quoted in the paper's text (restated in Table S4's note)."""
    from benchmarks.reference import paper_table

    hit = re.search(r"ROC-AUC[^0-9]*([0-9]*\.[0-9]+)", paper_table("S4").attrs.get("note", ""))
    return float(hit.group(1)) if hit else None


def leaderboard_lines(summary: dict, members: list) -> list[str]:
    """Stability tables: this run's models on each stability task (full test set and
    unique prototypes; thresholds) next to the paper's CLOUD rows on WBM (not in a smoke
    run: ``run_labels.PAPER_OMITTED``)."""
    from benchmarks.reference import paper_table
    from benchmarks.reports.run_labels import is_smoke, row_label
    from benchmarks.reports.summary import _fmt

    head = "| row | data | " + " | ".join(BOARD_COLS) + " | ROC-AUC |"
    lines = ["### Stability classification (labels and predictions at 0 eV/atom)", "",
             head, "|" + "---|" * (len(BOARD_COLS) + 3)]
    sweep = ["### Prediction thresholds (labels at 0; the paper's Table S5)", "",
             "| row | data | threshold | " + " | ".join(S5_COLS) + " |",
             "|" + "---|" * (len(S5_COLS) + 3)]
    for t in (m for m in members if m.stability):
        entry = summary["tasks"].get(t.name, {})
        for model, res in entry.get("models", {}).items():
            s = res["summary"]
            who = row_label(model, res, summary)
            for prefix, label, auc in (("full", "full test set", "roc_auc"),
                                       ("uniq_proto", "unique prototypes",
                                        "uniq_proto/roc_auc")):
                cells = [_cell(s, f"{prefix}/{k}") for k in BOARD_COLS] + [_cell(s, auc)]
                lines.append(f"| {who} | {t.data_label}; {label}; {res.get('coverage', '')} | "
                             + " | ".join(cells) + " |")
            for thr in t.thresholds:
                cells = [_cell(s, f"full@{threshold_key(thr)}/{k}") for k in S5_COLS]
                sweep.append(f"| {who} | {t.data_label}; full test set | {threshold_key(thr)} | "
                             + " | ".join(cells) + " |")
    notes = []
    for t in (m for m in members if m.stability):
        skill = summary_skill(summary["tasks"].get(t.name, {}))
        if skill:
            notes += [f"Class balance and skill, `{t.name}` ({t.stand_in or t.data_label}):", "",
                      *skill_lines(skill), ""]
    if is_smoke(summary):
        return [*lines, "", *sweep, "", *notes]
    s4, s5 = paper_table("S4"), paper_table("S5")
    wbm = "WBM test set (Matbench Discovery, 256,963 rows; subset not stated by the paper)"
    if "CLOUD" in s4.index:
        cells = [_fmt(s4.loc["CLOUD", k]) if k in s4.columns else "—" for k in BOARD_COLS]
        auc = paper_roc_auc()
        lines.append(f"| CLOUD (paper, Table S4) | {wbm} | " + " | ".join(cells)
                     + f" | {_fmt(auc) if auc is not None else '—'} |")
    for thr, row in s5.iterrows():
        sweep.append(f"| CLOUD (paper, Table S5) | {wbm} | {threshold_key(thr)} | "
                     + " | ".join(_fmt(row[k]) for k in S5_COLS) + " |")
    return [*lines, "", *sweep, "", *notes,
            "Stand-in rows ran on other data than the paper's WBM rows: compare them as "
            "pipelines, not as numbers.", ""]
