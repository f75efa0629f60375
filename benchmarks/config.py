"""Runner configuration: YAML layers merged per task (see ``configs/default.yaml``)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

DEFAULT_CONFIG = Path(__file__).with_name("configs") / "default.yaml"
CLOUD_TYPES = ("cloud", "cloud_debye")


def deep_merge(base: dict, update: dict | None) -> dict:
    out = copy.deepcopy(base)
    for key, value in (update or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_layers(user_config: str | Path | None = None) -> dict:
    layers = yaml.safe_load(DEFAULT_CONFIG.read_text())
    if user_config is not None:
        layers = deep_merge(layers, yaml.safe_load(Path(user_config).read_text()))
    return layers


def task_config(layers: dict, task: str, family: str, smoke: bool = False) -> dict:
    """The merged configuration of one task, its input-ablation models included.

    A config file may also set ``cloud_models`` (and ``cloud_models_smoke``, with
    ``--smoke``): merged last over every CLOUD model of every task, e.g. a recipe such as
    ``configs/paper_recipe.yaml`` that fixes the architecture and training of all of them."""
    cfg = deep_merge(layers.get("defaults", {}), layers.get("families", {}).get(family))
    cfg = deep_merge(cfg, layers.get("tasks", {}).get(task))
    if smoke:
        cfg = deep_merge(cfg, layers.get("smoke"))
    recipe = deep_merge(layers.get("cloud_models") or {},
                        (layers.get("cloud_models_smoke") or {}) if smoke else {})
    if recipe:
        cfg = dict(cfg, models={name: deep_merge(spec, recipe)
                                if spec.get("type") in CLOUD_TYPES else spec
                                for name, spec in (cfg.get("models") or {}).items()})
    return with_ablation_models(cfg)


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


def runnable_models(cfg: dict, task_kind: str, wanted: list[str] | None = None) -> dict[str, dict]:
    """The models of a merged task config that the task runs, in ``wanted``'s order (default:
    the config's): entries with a ``type`` (an entry without one only carries overrides, e.g.
    the smoke layer's, for a model this task lacks), Debye models only on tasks of kind debye."""
    from benchmarks.models import DEBYE_MODELS

    models = cfg["models"]
    return {name: models[name] for name in (list(models) if wanted is None else wanted)
            if "type" in models[name]
            and not (models[name]["type"] in DEBYE_MODELS and task_kind != "debye")}


def model_scope_mode(cfg: dict, spec: dict) -> str:
    """The SCOPE mode a model's inputs are encoded in: its own, else the task's."""
    return spec.get("scope_mode", cfg.get("scope_mode", "paper"))
