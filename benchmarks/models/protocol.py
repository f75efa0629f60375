"""The model protocol: what the runner asks of every model it trains on a fold.

A model is an object in scikit-learn's estimator shape::

    class MyModel:
        input = "composition"   # or "structure" (pymatgen Structure) or "scope" (SCOPE string)
        def fit(self, X: list, y: np.ndarray) -> "MyModel": ...
        def predict(self, X: list) -> np.ndarray: ...

``X`` is a list of the declared input type (compositions are pymatgen ``Composition``
objects with fractional amounts), ``y`` the task's targets on the training fold; ``predict``
answers one number per row (classification: the probability of the positive class, or a
bool). A scikit-learn ``Pipeline`` whose first step declares ``input`` works as it is.

Optional declarations:

- ``predicts = "debye_temperature"`` (Debye tasks, phonon Cv/U): the model is fitted to the
  Debye temperature each training label implies and predicts Θ (K); the project's Debye
  model turns Θ into the task's Cv or U. Default ``"target"``: the task's own values.
- ``task_kinds = ("debye",)``: the task kinds the model can run on (default: all).
- keyword arguments of ``fit`` / ``predict`` named in :data:`FIT_KEYWORDS` /
  :data:`PREDICT_KEYWORDS` are passed when the signature names them (row ids, a Debye
  task's atoms per cell, a work folder...); the project's CLOUD models use them.
- after ``predict``, a ``fold_record_`` dict attribute adds fields to the fold's record.
"""

from __future__ import annotations

import inspect

INPUTS = ("composition", "structure", "scope")
PREDICTS = ("target", "debye_temperature")
# what the runner passes by name to fit / predict when their signatures ask for it
# ids: the rows' ids; extras: per-row arrays of the task (a Debye task's ``n_atoms``);
# debye_target: "cv" or "u"; work_dir: the job's own folder; keep_dir: where to save the
# fitted model when the run keeps it (--save-models)
FIT_KEYWORDS = ("ids", "extras", "debye_target", "work_dir", "progress", "keep_dir")
PREDICT_KEYWORDS = ("ids", "extras")


class ModelError(ValueError):
    """A model the runner cannot use: unknown name, import error, broken protocol, bad
    settings. Raised before any training starts (the runner exits with status 2)."""


def declared(model, attribute: str, default=None):
    """A protocol attribute of ``model``, else of its first pipeline step, else ``default``."""
    value = getattr(model, attribute, None)
    if value is None and hasattr(model, "steps"):  # sklearn Pipeline: its featuriser's input
        value = getattr(model.steps[0][1], attribute, None)
    return default if value is None else value


def model_input(model) -> str:
    return declared(model, "input")


def model_predicts(model) -> str:
    return declared(model, "predicts", "target")


def model_task_kinds(model) -> tuple[str, ...] | None:
    kinds = declared(model, "task_kinds")
    if kinds is None and model_predicts(model) == "debye_temperature":
        return ("debye",)
    return None if kinds is None else tuple(kinds)


def check_model(model, label: str) -> None:
    """Raise :class:`ModelError` naming what ``model`` lacks (``label`` names it)."""
    problems = []
    for method in ("fit", "predict"):
        if not callable(getattr(model, method, None)):
            problems.append(f"no {method}() method")
    kind = model_input(model)
    if kind is None:
        problems.append(f"no 'input' attribute (one of {', '.join(INPUTS)})")
    elif kind not in INPUTS:
        problems.append(f"input = {kind!r}, not one of {', '.join(INPUTS)}")
    if model_predicts(model) not in PREDICTS:
        problems.append(f"predicts = {model_predicts(model)!r}, not one of {', '.join(PREDICTS)}")
    if problems:
        raise ModelError(f"model {label} breaks the model protocol: {'; '.join(problems)}")


def routed(method, offered: dict) -> dict:
    """The entries of ``offered`` that ``method``'s signature names (never via ``**kwargs``)."""
    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return {}
    return {k: v for k, v in offered.items()
            if k in params and params[k].kind is not inspect.Parameter.VAR_KEYWORD}
