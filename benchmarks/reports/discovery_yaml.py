"""A model's Matbench Discovery YAML and predictions file, in today's upstream form.

The YAML follows ``tests/model-schema.yml`` of janosh/matbench-discovery (vendored with its
commit in ``benchmarks/reference/leaderboards/``; ``additionalProperties: false``). Every
field the run knows is filled: names and key, ``model_version``, ``dates.benchmark_added``
(the run's date), ``lifecycle``, ``environment`` (the installed versions), ``openness``,
``architecture_types``, ``train_task``/``test_task``/``targets``, ``training_sets``,
``hyperparams``, ``model_params`` (counted from the model where it can be), ``n_estimators``
(only for ensembles of 2 or more), ``training_cost`` (the fold's wall time on the run's
device), ``metrics.discovery`` with its ``pred_file`` (name, size, md5). What only a
submitter knows -- :data:`SUBMITTER_FIELDS`: ``pr_url``, ``repo``, ``checkpoint_url``,
the first author's e-mail, and for a plug-in its authors, paper, DOI and licence -- is left
out, so that the schema names exactly those fields, and listed in
``notes.missing_for_submission`` and a leading comment; ``cloud-bench submit
--submission-info FILE`` fills them (:func:`apply_submission_info`).

The predictions file is ``<yyyy-mm-dd>-discovery.csv.gz`` (columns ``material_id`` and
``e_form_per_atom``, gzip), in ``models/<family>/<model_key>/`` of the leaderboard's tree.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import platform
import re
from importlib import metadata
from pathlib import Path

import pandas as pd

from benchmarks.models import for_config

PRED_COL = "e_form_per_atom"
ARXIV = "2506.17345"
# DiscoveryMetricsSet of the model schema: these keys, all numbers
YAML_METRICS = ("F1", "DAF", "Precision", "Recall", "Accuracy", "TPR", "FPR", "TNR", "FNR",
                "TP", "FP", "TN", "FN", "MAE", "RMSE", "R2", "missing_preds")
ENVIRONMENT = ("cloud-bench", "torch", "transformers", "accelerate", "tokenizers", "pymatgen",
               "spglib", "moyopy", "numpy", "pandas", "scikit-learn")
# submitter fields: top-level keys a submission-info file may set
SUBMITTER_FIELDS = ("authors", "trained_by", "repo", "pr_url", "checkpoint_url", "doi",
                    "paper", "docs", "license", "model_params", "dates", "model_name",
                    "model_version")
# what a run counts itself: a submission-info file fills these only where the run could not
RUN_KNOWS = ("model_params",)
NOT_APPLICABLE = "a property model (formation energy from a SCOPE string), not an interatomic " \
                 "potential: no forces, relaxations or dynamics"


def slug(text: str) -> str:
    """A ``model_key`` (lowercase, single ``-`` or ``.`` between alphanumeric runs)."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9.]+", "-", text.lower())).strip("-.")


def model_key(task, model: str) -> str:
    """The ``model_key`` of a run's model on a task (a stand-in's says so)."""
    return slug(model) + (f"-stand-in-{slug(task.name)}" if task.stand_in else "")


def family_of(kind: str, spec: dict) -> str:
    """The ``models/<family>/`` folder: the model type (a plug-in: its class), snake_case."""
    name = spec.get("class", kind).rsplit(":", 1)[-1].rsplit(".", 1)[-1] if kind == "plugin" \
        else kind
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", name.lower())).strip("_") or "model"


def environment() -> dict:
    deps = []
    for dist in ENVIRONMENT:
        try:
            deps.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pass
    return {"dependencies": deps, "python_version": ".".join(platform.python_version_tuple()[:2])}


def prediction_bytes(predictions: dict[str, float]) -> bytes:
    """``material_id,e_form_per_atom`` CSV, gzipped (mtime 0: equal content, equal bytes)."""
    df = pd.DataFrame({"material_id": list(predictions), PRED_COL: list(predictions.values())})
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return gzip.compress(buf.getvalue().encode("utf-8"), mtime=0)


def pred_file_name(date: str) -> str:
    return f"{date}-discovery.csv.gz"


def write_prediction_file(folder: Path, date: str, predictions: dict[str, float]) -> dict:
    """Write ``folder/<date>-discovery.csv.gz``; its schema ``FileRef`` parts (size, md5)."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = prediction_bytes(predictions)
    (folder / pred_file_name(date)).write_bytes(raw)
    return {"size": len(raw), "md5": hashlib.md5(raw).hexdigest()}


def _hyperparams(kind: str, spec: dict, trains_network: bool) -> dict:
    if kind == "plugin":
        params = dict(spec.get("params") or {})
        return {"upstream_config": params} if params else {}
    train = spec.get("train", {}) or {}
    training = {k: train[v] for k, v in (("learning_rate", "lr"), ("batch_size", "batch_size"),
                                         ("epochs", "epochs")) if v in train}
    if training and trains_network:
        training["optimizer"] = "AdamW"
    arch = {k: spec[k] for k in ("preset", "head_hidden_sizes", "head_dropout", "n_estimators",
                                 "scope_mode", "input_transform") if k in spec}
    return {**({"training": training} if training else {}),
            **({"architecture": arch} if arch else {})}


def _ensemble_size(spec: dict) -> int:
    return int(spec.get("ensemble") or 1) if str(spec.get("ensemble", 1)).isdigit() else 1


def _discovery_metrics(metrics: dict, subsets: dict) -> dict:
    from benchmarks.tasks.discovery_scores import subset_metrics

    out = {}
    for prefix, subset in subsets.items():
        vals = subset_metrics(metrics, prefix)
        out[subset] = {k: (int(vals[k]) if k in ("TP", "FP", "TN", "FN", "missing_preds")
                           else round(float(vals[k]), 3)) for k in YAML_METRICS}
    return out


def model_yaml(task, model: str, record: dict, extra_notes: dict, *, date: str | None = None,
               device: str | None = None, pred_file: dict | None = None,
               env: dict | None = None) -> dict:
    """One model's YAML (see the module docstring) for ``task`` from its fold ``record``;
    ``pred_file`` is the predictions file's ``{size, md5}``, ``env`` the run's
    ``environment`` (default: this process's)."""
    from benchmarks.tasks.discovery_scores import SUBSETS

    spec = record.get("config", {})
    kind = spec.get("type", model)
    stand = task.stand_in
    plugin = kind == "plugin"
    date = date or dt.date.today().isoformat()
    key = model_key(task, model)
    family = family_of(kind, spec)
    declared = for_config(spec)  # the schema's ArchitectureType, authors: the model's own
    arch = declared.submission.get("architecture_type", "unknown")
    doc: dict = {
        "model_name": (f"{model} ({task.name} stand-in)" if stand else model)[:50],
        "model_key": key,
        "model_version": f"cloud-bench {_version('cloud-bench')}",
        "dates": {"benchmark_added": date, "paper_published": None},
        "lifecycle": "active",
    }
    if not plugin:
        authors = declared.submission.get("authors")
        doc["authors"] = [{"name": n.strip()} for n in authors.split(",")] if authors \
            else [{"name": "CLOUD benchmark suite"}]
        doc["doi"] = f"https://doi.org/10.48550/arXiv.{ARXIV}"
        doc["paper"] = f"https://arxiv.org/abs/{ARXIV}"
        doc["license"] = {"code": "MIT", "checkpoint": "unreleased"}
    doc["trained_by"] = [{"name": "CLOUD benchmark suite (benchmarks/run.py)"}]
    doc["environment"] = env or environment()
    doc["openness"] = "OSOD"
    doc["architecture_types"] = [arch]
    doc["train_task"] = "RP2RE"  # SCOPE of relaxed structures -> relaxed formation energy
    doc["test_task"] = "IP2E"  # SCOPE of the initial structures (their prototype)
    doc["targets"] = "E"
    doc["training_sets"] = list(task.training_sets)
    doc["fine_tune"] = bool(declared.has_encoder and spec.get("pretrained") not in (
        None, "none", "scratch"))
    if (params := record.get("model_params")) is not None:
        doc["model_params"] = int(params)
    if (hyper := _hyperparams(kind, spec, declared.trains_network)):
        doc["hyperparams"] = hyper
    if (n := _ensemble_size(spec)) >= 2:
        doc["n_estimators"] = n
    if record.get("time_s") and device:
        doc["training_cost"] = {"entries": [{"hardware": device, "count": 1,
                                             "hours_per_device": round(record["time_s"] / 3600,
                                                                       4)}],
                                "reason": "wall time of this run's fold (training and "
                                          "prediction), not of pretraining the encoder"}
    missing = missing_fields(doc)
    metrics = record["metrics"]
    doc["notes"] = {
        "description": (f"plug-in {spec.get('class')} run by benchmarks/run.py" if plugin else
                        f"model '{model}' ({kind}) of benchmarks/run.py, fine-tuned on SCOPE "
                        "strings") + "; predictions are formation energies per atom.",
        "training": f"{record.get('n_train')} training rows"
                    + (f" ({record['n_fit_rows']} fit, {record['n_val_rows']} validation)"
                       if "n_fit_rows" in record else ""),
        **({"stand_in": stand} if stand else {}),
        "roc_auc": {"full_test_set": metrics.get("roc_auc"),
                    "unique_prototypes": metrics.get("uniq_proto/roc_auc")},
        "subset_sizes": {SUBSETS[p]: metrics.get(f"{p}/n") for p in SUBSETS},
        "prevalence": {SUBSETS[p]: metrics.get(f"{p}/prevalence") for p in SUBSETS},
        "not_rounded": "metrics computed without Matbench Discovery's 3-decimal rounding of "
                       "energies; rounded to 3 decimals here",
        "missing_for_submission": missing,
        **{_snake(k): v for k, v in extra_notes.items()},
    }
    ref = {"name": f"models/{family}/{key}/{pred_file_name(date)}", **(pred_file or {})}
    doc["metrics"] = {
        "discovery": {"pred_file": ref, **_discovery_metrics(metrics, SUBSETS)},
        **{t: {"status": "not_applicable", "reason": NOT_APPLICABLE}
           for t in ("phonons", "geo_opt", "diatomics", "md")}}
    return doc


def _snake(key: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", re.sub(
        r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower())).strip("_")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def missing_fields(doc: dict) -> list[str]:
    """The schema's required fields only a submitter can give, in the order the schema lists
    them (``authors[0].email`` when the authors are known but not their e-mail)."""
    out = ["authors"] if "authors" not in doc else (
        ["authors[0].email"] if "email" not in doc["authors"][0] else [])
    out += [k for k in ("checkpoint_url", "doi", "license", "model_params", "paper", "pr_url",
                        "repo") if k not in doc]
    return out


def apply_submission_info(doc: dict, info: dict) -> dict:
    """``doc`` with the submitter's fields (a submission-info file, see ``benchmarks/submit.py``)
    filled in (``model_params`` only where the run could not count it);
    ``notes.missing_for_submission`` recomputed, and dropped once empty."""
    out = {k: v for k, v in doc.items()}
    for key in SUBMITTER_FIELDS:
        if key in info and (key not in doc or key not in RUN_KNOWS):
            out[key] = info[key]
    if "pred_file_url" in info:
        out["metrics"] = {**out["metrics"], "discovery": {
            **out["metrics"]["discovery"],
            "pred_file": {**out["metrics"]["discovery"]["pred_file"],
                          "url": info["pred_file_url"]}}}
    order = list(doc) + [k for k in out if k not in doc]
    out = {k: out[k] for k in order}
    out["notes"] = {**out["notes"], "missing_for_submission": missing_fields(out)}
    if not out["notes"]["missing_for_submission"]:
        del out["notes"]["missing_for_submission"]
    return out
