"""Runner configuration: YAML layers merged per task (see ``configs/default.yaml``)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

DEFAULT_CONFIG = Path(__file__).with_name("configs") / "default.yaml"


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
    """The merged configuration of one task."""
    cfg = deep_merge(layers.get("defaults", {}), layers.get("families", {}).get(family))
    cfg = deep_merge(cfg, layers.get("tasks", {}).get(task))
    if smoke:
        cfg = deep_merge(cfg, layers.get("smoke"))
    return cfg
