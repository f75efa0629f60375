"""Runner configuration: YAML layers merged per task (see ``configs/default.yaml``)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CONFIGS = Path(__file__).with_name("configs")
DEFAULT_CONFIG = CONFIGS / "default.yaml"
EXPERIMENTS = CONFIGS / "experiments"


def deep_merge(base: dict, update: dict | None) -> dict:
    out = copy.deepcopy(base)
    for key, value in (update or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_layers(user_config: str | Path | Sequence[str | Path] | None = None) -> dict:
    """``default.yaml`` with each file of ``user_config`` (one path or several, e.g. an
    experiment under ``configs/experiments/`` then a compute profile) merged over it, in
    order."""
    layers = yaml.safe_load(DEFAULT_CONFIG.read_text())
    if isinstance(user_config, (str, Path)):
        user_config = [user_config]
    for path in user_config or []:
        user = yaml.safe_load(Path(path).read_text()) or {}
        if "models" in user:  # top-level `models:` (e.g. plug-ins): models of every task
            rest = {k: v for k, v in user.items() if k != "models"}
            user = deep_merge(rest, {"defaults": {"models": user["models"]}})
        layers = deep_merge(layers, user)
    return layers


def task_config(layers: dict, task: str, family: str, smoke: bool = False) -> dict:
    """The merged configuration of one task, its input-ablation models included.

    A config file may also set ``cloud_models`` (and ``cloud_models_smoke``, with
    ``--smoke``): merged last over every model with an encoder (``has_encoder``, e.g. CLOUD)
    of every task, e.g. a recipe such as ``configs/paper_recipe.yaml`` that fixes the
    architecture and training of all of them."""
    cfg = deep_merge(layers.get("defaults", {}), layers.get("families", {}).get(family))
    cfg = deep_merge(cfg, layers.get("tasks", {}).get(task))
    if smoke:
        cfg = deep_merge(cfg, layers.get("smoke"))
    recipe = deep_merge(layers.get("cloud_models") or {},
                        (layers.get("cloud_models_smoke") or {}) if smoke else {})
    if recipe:
        cfg = dict(cfg, models={name: deep_merge(spec, recipe) if has_encoder(spec) else spec
                                for name, spec in (cfg.get("models") or {}).items()})
    return with_ablation_models(cfg)


def has_encoder(entry: dict) -> bool:
    """Whether a model entry's model starts from a pretrained encoder (its declaration)."""
    from benchmarks.models.spec import for_config, for_type, is_model_entry

    if not is_model_entry(entry):
        return False
    declared = for_config(entry) if entry.get("class") else for_type(entry["type"])
    return declared.has_encoder


# keys of the ablated model that describe its runs, not its model or training
NOT_INHERITED = ("attention", "keep_model", "keep_model_folds", "analysis")


def with_ablation_models(cfg: dict) -> dict:
    """Add the input ablations of ``cfg["ablations"]`` as models.

    ``ablations: {of: cloud, inputs: [sg_number, no_wyckoff, no_composition, canonical]}``
    adds ``<of>_<input>`` for each input: a copy of the fully merged ``<of>`` model (same
    encoder, head and training, smoke overrides included) with only the input changed — a
    ``cloud.scope.ablations`` transform, or ``canonical`` SCOPE strings. What a model of that
    name also sets in the config is merged over the copy. Nothing is added when ``<of>`` is
    not a model of the task.
    """
    from cloud.scope.ablations import TRANSFORMS

    spec = cfg.get("ablations") or {}
    of, inputs = spec.get("of", "cloud"), list(spec.get("inputs") or [])
    models = cfg.get("models") or {}
    if of not in models or not inputs:
        return cfg
    out = copy.deepcopy(cfg)
    base = {k: v for k, v in models[of].items() if k not in NOT_INHERITED}
    for name in inputs:
        if name == "canonical":
            change = {"input_transform": None, "scope_mode": "canonical"}
        elif name in TRANSFORMS:
            change = {"input_transform": name}
        else:
            raise ValueError(f"ablations.inputs: unknown input {name!r}; choose from "
                             f"{sorted(TRANSFORMS) + ['canonical']}")
        out["models"][f"{of}_{name}"] = deep_merge(deep_merge(base, change),
                                                  models.get(f"{of}_{name}"))
    return out


@dataclass
class TaskModels:
    """The models a task runs (validated specs, by row name) and, for the other requested
    names, why they do not run on it; ``names``: every row, in the requested order."""

    specs: dict = field(default_factory=dict)
    not_here: dict[str, str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # requested names this task lacks


def task_models(cfg: dict, task: str, task_kind: str, wanted: list[str] | None = None
                ) -> TaskModels:
    """The models of a merged task config that the task runs, in ``wanted``'s order (default:
    the config's entries with a ``type`` or ``class``). A ``wanted`` name is a configured
    model, a registered type or ``module:Class`` (or an already built ``ModelSpec``); a model declaring the task kinds it runs on
    (CLOUD-DEBYE, Θ models: Debye tasks) is not run on other kinds. Bad settings, import
    errors and protocol breaks raise ``benchmarks.models.ModelError``."""
    from benchmarks.models.protocol import ModelError
    from benchmarks.models.spec import ModelSpec, is_model_entry, model_spec, requested_entry

    models = cfg.get("models") or {}
    out = TaskModels()
    for raw in [m for m, e in models.items() if is_model_entry(e)] if wanted is None else wanted:
        if isinstance(raw, ModelSpec):  # a model given as an object (evaluate())
            name, spec = raw.name, raw
        else:
            try:
                name, entry = requested_entry(raw, models)
            except ModelError:
                out.names.append(raw)
                out.not_here[raw] = f"not a model of {task}"
                out.unknown.append(raw)
                continue
            spec = model_spec(name, entry)
        out.names.append(name)
        kinds = spec.task_kinds
        if kinds is not None and task_kind not in kinds:
            need = "a Debye task" if kinds == ("debye",) else f"a task of kind {', '.join(kinds)}"
            out.not_here[name] = f"needs {need}; {task} is {task_kind}"
        else:
            out.specs[name] = spec
    return out


def runnable_models(cfg: dict, task_kind: str, wanted: list[str] | None = None,
                    task: str = "this task") -> dict[str, dict]:
    """The settings (dicts) of :func:`task_models`'s runnable models, by name."""
    return {name: spec.config
            for name, spec in task_models(cfg, task, task_kind, wanted).specs.items()}


def model_scope_mode(cfg: dict, spec: dict) -> str:
    """The SCOPE mode a model's inputs are encoded in: its own, else the task's."""
    return spec.get("scope_mode", cfg.get("scope_mode", "paper"))
