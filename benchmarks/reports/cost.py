"""Cost and provenance of a leaderboard row, read from the fold records that made it.

Per model of a task: training and inference seconds (median over folds and total), the
device(s) the folds were trained on, the parameter count and the epochs run.

- Seconds: a record's ``fit_s`` and ``predict_s`` when it has them; records written before
  those fields have only ``time_s`` (fit and predict of the job together), reported as
  training seconds with ``predict_s`` "not recorded".
- Device: a record's ``device``; for records older than that field, the run's
  ``fold_devices.json`` (written from the job tables of the machine that trained them,
  ``python -m benchmarks.reports.fold_devices``); else "not recorded". Never the device of a
  report pass that only reused the folds.
- Parameters: a record's ``n_parameters``; else the model's own ``parameter_count()``
  (a declaration of the model protocol) on an untrained copy built from the record's
  settings and encoder; models that declare none (random forests, the mean) have none.
- Epochs: the length of a record's training history (early stopping ends it before the
  cap); none for models that do not train by epochs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

NOT_RECORDED = "not recorded"
DEVICES_FILE = "fold_devices.json"


def read_fold_devices(run_dir: Path) -> dict[str, str]:
    """``"task/model/fold" -> device`` from ``run_dir/fold_devices.json`` (empty if none)."""
    path = Path(run_dir) / DEVICES_FILE
    if not path.exists():
        return {}
    return json.loads(path.read_text())["folds"]


def fold_device(record: Mapping, fold: int, fold_devices: Mapping[str, str]) -> str:
    """Where fold ``fold``'s record was trained (its ``device``, else ``fold_devices``)."""
    if record.get("device"):
        return str(record["device"])
    return fold_devices.get(f"{record.get('task')}/{record.get('model')}/{fold}", NOT_RECORDED)


def _stats(values: list[float]) -> dict | None:
    if not values:
        return None
    return {"median": float(np.median(values)), "total": float(np.sum(values)),
            "n_folds": len(values)}


def encoder_dir(record: Mapping) -> Path | None:
    """The encoder a CLOUD record fine-tuned: one of this repository's committed encoders
    (``cloud/pretrained/<name>``) when the record names a folder of that name (records keep
    the absolute path of the checkout that ran them), else the recorded path if it exists."""
    value = record.get("pretrained") or (record.get("encoder") or {}).get("path")
    if not value:
        return None
    path = Path(value)
    local = Path(__file__).resolve().parents[2] / "cloud" / "pretrained" / path.name
    if path.parent.name == "pretrained" and local.exists():
        return local
    return path if path.exists() else None


def parameter_count(record: Mapping) -> int | None:
    """The record's ``n_parameters``, else the model's own count (its ``parameter_count()``
    declaration) built from the record's settings and encoder (see the module doc)."""
    if record.get("n_parameters") is not None:
        return int(record["n_parameters"])
    from benchmarks.models.spec import declared_parameter_count, for_config

    spec = dict(record.get("config") or {})
    if for_config(spec).has_encoder:
        encoder = encoder_dir(record)
        if record.get("pretrained") and encoder is None:
            return None  # an encoder this checkout does not have
        spec["pretrained"] = "none" if encoder is None else str(encoder)
    n = declared_parameter_count(spec)
    return None if n is None else n * int(spec.get("ensemble", 1) or 1)


def model_cost(records: Mapping[int, Mapping], fold_devices: Mapping[str, str]) -> dict:
    """Cost and provenance of one model of one task from its fold records."""
    recs = [records[k] for k in sorted(records)]
    split = all("fit_s" in r for r in recs)
    train = [float(r["fit_s"]) if split else float(
        r["time_s"] if "time_s" in r else r.get("fit_s", np.nan) + r.get("predict_s", 0.0))
        for r in recs]
    predict = [float(r["predict_s"]) for r in recs if "predict_s" in r]
    epochs = [len(r["history"]) for r in recs if isinstance(r.get("history"), list)]
    devices = sorted({fold_device(records[k], k, fold_devices) for k in sorted(records)})
    return {"train_s": _stats([t for t in train if np.isfinite(t)]),
            "train_s_includes_predict": not split,
            "predict_s": _stats(predict) if len(predict) == len(recs) else None,
            "device": devices,
            "n_parameters": parameter_count(recs[0]),
            "epochs": None if not epochs else {"median": float(np.median(epochs)),
                                               "min": int(min(epochs)), "max": int(max(epochs))}}


def cost_cells(cost: Mapping) -> dict[str, str]:
    """Short texts of a cost entry for a table: train s, predict s, device, params, epochs."""
    def secs(s):
        return "—" if not s else f"{s['median']:.3g} / {s['total']:.3g}"

    train = secs(cost.get("train_s")) + (" (incl. predict)" if cost.get("train_s") and
                                          cost.get("train_s_includes_predict") else "")
    n = cost.get("n_parameters")
    ep = cost.get("epochs")
    return {"train_s": train,
            "predict_s": secs(cost.get("predict_s")) if cost.get("predict_s") else NOT_RECORDED,
            "device": ", ".join(cost.get("device") or [NOT_RECORDED]),
            "params": "—" if n is None else (f"{n / 1e6:.2f}M" if n >= 1e5 else str(n)),
            "epochs": "—" if not ep else (f"{ep['median']:g}" if ep["min"] == ep["max"] else
                                          f"{ep['median']:g} ({ep['min']}–{ep['max']})")}
