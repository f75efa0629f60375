"""What a reported number is: each model's sample size and epochs, and the smoke-run labels.

``annotate_samples`` reads the fold records a run's summary reports (``<out>/<task>/<model>/
fold_<k>.json``) and adds to each model entry of ``summary.json``

- ``sample``: per fold the training and test rows (``n_train``, ``n_test``), the configured
  training epochs (``config.train.epochs``; ``None`` for models not trained in epochs, e.g.
  the random forest) and the epochs run (the length of ``history``), plus the model type;
- ``label``: the same in words, starting with "SMOKE RUN" in a smoke run,

and to ``run`` a ``label`` that says whether the numbers are a smoke run's. The leaderboard
writers label their rows with :func:`row_label`.

A smoke run (``--smoke``) trains a tiny model for a few epochs on a few hundred rows of one
fold: it checks the pipeline end to end, its numbers say nothing about the model.
"""

from __future__ import annotations

import json
from pathlib import Path

SMOKE_NOTE = ("This is a smoke run (`--smoke`): small seeded samples of the official folds and "
              "a tiny model trained for a few epochs. It checks that the pipeline runs end to "
              "end; its numbers are not model performance and are not comparable with "
              "published results.")
# Why smoke leaderboards leave the paper's rows out (instead of a "not comparable" note next
# to them): a table invites reading across its rows, and a number trained on a few hundred
# rows for two epochs beside a published 5-fold result reads as a comparison whatever the
# caption says. The paper's numbers are one file away and in every full run's leaderboard.
PAPER_OMITTED = ("The paper's rows are left out of a smoke leaderboard: a smoke run's numbers "
                 "are not comparable with them. They are in "
                 "`benchmarks/reference/paper_results.json` and in the leaderboard of any run "
                 "without `--smoke`.")


def is_smoke(summary: dict) -> bool:
    return bool(summary.get("run", {}).get("smoke"))


def fold_sample(record: dict) -> dict:
    """Rows and epochs of one fold record."""
    config = record.get("config") or {}
    train = config.get("train") or {}
    history = record.get("history")
    return {"n_train": record.get("n_train"), "n_test": record.get("n_test"),
            "epochs": train.get("epochs"),
            "epochs_run": len(history) if isinstance(history, list) else None}


def model_sample(model_dir: Path, folds) -> dict | None:
    """Per-fold rows and epochs of a model's fold records in ``model_dir`` (``None``: no fold
    record found)."""
    per_fold, kind = {}, None
    for k in sorted(int(f) for f in folds):
        path = model_dir / f"fold_{k}.json"
        if not path.exists():
            continue
        record = json.loads(path.read_text())
        per_fold[str(k)] = fold_sample(record)
        kind = kind or (record.get("config") or {}).get("type")
    if not per_fold:
        return None
    values = list(per_fold.values())
    return {"model_type": kind, "folds": per_fold,
            **{key: sorted({v[key] for v in values if v[key] is not None})
               for key in ("n_train", "n_test", "epochs", "epochs_run")}}


def _span(values: list[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"


def sample_text(sample: dict | None) -> str:
    """``"240 train / 80 test rows, 2 epochs"`` (ranges when the folds differ)."""
    if not sample or not sample.get("n_train"):
        return "sample size not recorded"
    text = f"{_span(sample['n_train'])} train / {_span(sample['n_test'])} test rows"
    if not sample.get("epochs"):
        return text + ", not trained in epochs"
    text += f", {_span(sample['epochs'])} epochs"
    ran = sample.get("epochs_run") or []
    if ran and ran != sample["epochs"]:
        text += f" (ran {_span(ran)})"
    return text


def run_sample(summary: dict) -> dict:
    """The ``sample`` of every model of the run merged (rows and epochs over all of them)."""
    samples = [res["sample"] for e in summary.get("tasks", {}).values()
               for res in e.get("models", {}).values() if res.get("sample")]
    return {key: sorted({v for s in samples for v in s.get(key, [])})
            for key in ("n_train", "n_test", "epochs", "epochs_run")}


def run_title(summary: dict) -> str:
    """``"SMOKE RUN, 240 train / 80 test rows, 2 epochs: pipeline check, not benchmark
    results"`` for a smoke run, ``"full run"`` otherwise."""
    if not is_smoke(summary):
        return "full run"
    return f"SMOKE RUN, {sample_text(run_sample(summary))}: pipeline check, not benchmark results"


def model_label(sample: dict | None, smoke: bool) -> str:
    return ("SMOKE RUN: " if smoke else "") + sample_text(sample)


def annotate_samples(out_dir: Path, summary: dict) -> dict:
    """Add ``sample`` and ``label`` to every model entry and ``label`` to ``run`` (in place;
    returns ``summary``). Fold records are read from ``out_dir``."""
    smoke = is_smoke(summary)
    for task, entry in summary.get("tasks", {}).items():
        for model, res in entry.get("models", {}).items():
            sample = model_sample(Path(out_dir) / task / model, res.get("folds", {}))
            if sample is not None:
                res["sample"] = sample
            res["label"] = model_label(res.get("sample"), smoke)
    summary.setdefault("run", {})["label"] = run_title(summary)
    return summary


def row_label(model: str, res: dict, summary: dict) -> str:
    """A leaderboard row's model cell: name, then in a smoke run "SMOKE RUN" with its rows and
    epochs, then the model description."""
    desc = res.get("description", "")
    if res.get("type") == "external":  # benchmarks/score.py: not trained by this run
        return f"**{model}** (scored here; {desc})"
    if not is_smoke(summary):
        return f"**{model}** (this run; {desc})"
    return f"**{model}** (this run, {model_label(res.get('sample'), True)}; {desc})"
