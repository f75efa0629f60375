"""Train one model on one fold and predict its test rows, through the model protocol.

Named steps: build the model from its settings → its inputs (declared type) → fit (on the
Debye temperatures the labels imply, for a model that ``predicts = "debye_temperature"``)
→ predict → (Debye model: Θ → Cv or U). Returns the test predictions in fold order and the
fields the fold record adds (among them ``fit_s`` and ``predict_s``, the seconds of each).
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.models.inputs import model_inputs
from benchmarks.models.protocol import (
    model_input,
    model_predicts,
    model_task_kinds,
    routed,
)
from benchmarks.models.spec import model_spec

DEBYE_TEMPERATURE = 300.0  # K: the temperature of the phonon tasks' Cv and U


def fit_predict(task, data, job, progress: bool = True) -> dict:
    """``{"predictions": ..., **fold record fields}`` of ``job``'s model on its fold."""
    spec = job.model_spec if job.model_spec is not None else model_spec(job.model, job.spec)
    model = spec.probe()
    kinds = model_task_kinds(model)
    if kinds is not None and task.kind not in kinds:
        raise ValueError(f"{job.model} runs on tasks of kind {', '.join(kinds)}; "
                         f"{task.name} is {task.kind}")
    kind = model_input(model)
    train_X = model_inputs(data, job.fold.train, kind)
    test_X = model_inputs(data, job.fold.test, kind)
    _, train_y, train_extras = data.subset(job.fold.train)
    _, _, test_extras = data.subset(job.fold.test)
    # what fit / predict may ask for by name (protocol.FIT_KEYWORDS, PREDICT_KEYWORDS)
    fit_args = {"ids": list(job.fold.train), "extras": train_extras,
                "debye_target": getattr(task, "debye_target", None), "work_dir": job.work_dir,
                "progress": progress,
                "keep_dir": job.model_dir if job.spec.get("keep_model") else None}
    predict_args = {"ids": list(job.fold.test), "extras": test_extras}
    out: dict = {}
    if model_predicts(model) == "debye_temperature":
        theta, has = label_theta(task, train_y, train_extras)
        rows = np.flatnonzero(has)
        fit_args.update(ids=[job.fold.train[i] for i in rows],
                        extras={k: v[rows] for k, v in train_extras.items()})
        start = time.perf_counter()
        model.fit([train_X[i] for i in rows], theta[rows], **routed(model.fit, fit_args))
        fitted = time.perf_counter()
        test_theta = np.asarray(model.predict(test_X, **routed(model.predict, predict_args)),
                                dtype=float)
        out.update(fit_s=fitted - start, predict_s=time.perf_counter() - fitted)
        out["predictions"] = debye_curve_values(task, test_theta, test_extras)
        out.update(theta=test_theta, n_fit_rows_without_theta=int((~has).sum()))
    else:
        start = time.perf_counter()
        model.fit(train_X, train_y, **routed(model.fit, fit_args))
        fitted = time.perf_counter()
        out["predictions"] = model.predict(test_X, **routed(model.predict, predict_args))
        out.update(fit_s=fitted - start, predict_s=time.perf_counter() - fitted)
    out.update(getattr(model, "fold_record_", None) or {})
    return out


def label_theta(task, values: np.ndarray, extras: dict) -> tuple[np.ndarray, np.ndarray]:
    """The Debye temperature each training label implies, and which labels have one (U below
    3NRT has none: those rows cannot be fitted and are counted in the record)."""
    from cloud.debye.inverse import theta_from_value

    if "n_atoms" not in extras or getattr(task, "debye_target", None) is None:
        raise ValueError(f"{task.name} has no Debye formulation")
    theta = theta_from_value(values, extras["n_atoms"], task.debye_target, DEBYE_TEMPERATURE)
    has = np.isfinite(theta)
    if not has.any():
        raise ValueError("no training label implies a Debye temperature")
    return theta, has


def debye_curve_values(task, theta: np.ndarray, extras: dict) -> np.ndarray:
    """Cv or U at the task's temperature from predicted Θ (the project's Debye model)."""
    from cloud.debye.exact import debye_values

    return debye_values(task.debye_target, theta, extras["n_atoms"], DEBYE_TEMPERATURE)
