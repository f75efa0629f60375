"""A model's settings as a validated object: which class, its constructor arguments, and
how the runner treats it (SCOPE mode, kept models, analyses).

In the YAML config a model entry is either a registered type with its settings beside it::

    composition_rf: {type: composition_rf, n_estimators: 300, seed: 0}

or a plug-in class with its constructor arguments under ``params``::

    mine: {class: "mypkg.models:MyModel", params: {alpha: 0.1}}

A setting the class's constructor does not take is an error naming the known ones, found
when the run starts, before any training.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from benchmarks.models.declare import DEFAULT, Declarations, declarations
from benchmarks.models.protocol import (
    ModelError,
    check_model,
    model_input,
    model_predicts,
    model_task_kinds,
)
from benchmarks.models.registry import (
    BUILTIN,
    class_path,
    entry_points,
    load_object,
    module_sha256,
    plugin_name,
)

# keys of a model entry read by the runner, not passed to the model's constructor
RUN_KEYS = ("type", "class", "params", "scope_mode", "keep_model", "keep_model_folds",
            "analysis", "module_sha256", "object_sha256", "resources")
PLUGIN = "plugin"  # the ``type`` recorded for a ``class:`` entry


@dataclass(frozen=True)
class ModelSpec:
    """One configured model: its name, class, constructor arguments and stored settings
    (``config``: the dict kept in job keys and fold records)."""

    name: str
    class_path: str
    params: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    obj: object | None = field(default=None, compare=False)  # a model given as an object

    @cached_property
    def declarations(self):
        """What the model declares about itself (:mod:`benchmarks.models.declare`)."""
        return declarations(self.probe())

    @property
    def type(self) -> str:
        return self.config["type"]

    @property
    def scope_mode(self) -> str | None:
        return self.config.get("scope_mode")

    def build(self):
        """A fresh, unfitted model."""
        source = self.obj if self.obj is not None else load_object(self.class_path)
        return make_model(source, self.params)

    def probe(self):
        """A fresh model, checked against the protocol."""
        model = self.build()
        check_model(model, f"{self.name!r} ({self.class_path})")
        return model

    @property
    def input(self) -> str:
        return model_input(self.probe())

    @property
    def predicts(self) -> str:
        return model_predicts(self.probe())

    @property
    def task_kinds(self) -> tuple[str, ...] | None:
        return model_task_kinds(self.probe())


def make_model(obj, params: dict):
    """An unfitted model from a class, a factory function or an instance (copied)."""
    if isinstance(obj, type) or inspect.isfunction(obj):
        return obj(**params)
    if params:
        raise ModelError(f"{obj!r} is an instance: it takes no params")
    try:
        from sklearn.base import clone

        return clone(obj)
    except Exception:  # not a scikit-learn estimator
        return copy.deepcopy(obj)


def check_params(obj, params: dict, label: str) -> None:
    """Unknown constructor arguments are errors naming the known ones."""
    if not (isinstance(obj, type) or inspect.isfunction(obj)):
        return
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return
    unknown = sorted(set(params) - set(sig.parameters))
    if unknown:
        raise ModelError(f"model {label}: unknown setting {', '.join(map(repr, unknown))}; "
                         f"its settings: {', '.join(sig.parameters) or 'none'}")


def is_model_entry(entry) -> bool:
    """Whether a config entry defines a model (an entry without ``type`` or ``class`` only
    carries overrides, e.g. the smoke layer's, for a model this task lacks)."""
    return isinstance(entry, dict) and ("type" in entry or "class" in entry)


def model_spec(name: str, entry: dict) -> ModelSpec:
    """The validated :class:`ModelSpec` of a config entry (or of a stored ``config``)."""
    if not isinstance(entry, dict):
        raise ModelError(f"model {name!r}: its settings must be a mapping, not {entry!r}")
    kind, path = entry.get("type"), entry.get("class")
    if kind not in (None, PLUGIN) and path is not None:
        raise ModelError(f"model {name!r}: give 'type' or 'class', not both")
    params = dict(entry.get("params") or {})
    if path is None:
        path = class_path(kind) if kind is not None else None
        if path is None:
            known = sorted(BUILTIN) + sorted(entry_points())
            raise ModelError(f"model {name!r}: unknown type {kind!r}; known types: "
                             f"{', '.join(known)} (or class: module:Class)")
        params = {**{k: v for k, v in entry.items() if k not in RUN_KEYS}, **params}
        config = copy.deepcopy(entry)
    else:
        flat = sorted(k for k in entry if k not in RUN_KEYS)
        if flat:
            raise ModelError(f"model {name!r}: unknown key {', '.join(map(repr, flat))}; a "
                             "plug-in's constructor arguments go under 'params'")
        config = {k: copy.deepcopy(v) for k, v in entry.items() if k != "module_sha256"}
        config.update(type=PLUGIN, **{"class": path}, params=params)
    label = f"{name!r} ({path})"
    obj = load_object(path)
    check_params(obj, params, label)
    if path != BUILTIN.get(kind):  # a plug-in: a changed module file recomputes its folds
        config["module_sha256"] = module_sha256(path)
    spec = ModelSpec(name, path, params, config)
    try:
        spec.probe()
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"model {label}: cannot be constructed: "
                         f"{type(exc).__name__}: {exc}") from None
    return spec


def requested_entry(name: str, models: dict) -> tuple[str, dict]:
    """``(row name, config entry)`` of a ``--models`` name: a configured model, a model an
    installed package registers (entry point), or ``module:Class``. The project's own types
    run where the config has them (e.g. ``debye_rf`` on the phonon tasks)."""
    if name in models and is_model_entry(models[name]):
        return name, models[name]
    if ":" in name:
        return plugin_name(name), {"class": name}
    if name in entry_points():  # an installed plug-in, by its registered name
        return name, {"type": name}
    configured = [m for m, e in models.items() if is_model_entry(e)]
    raise ModelError(f"unknown model {name!r}: not configured ({', '.join(configured)}), "
                     f"not an installed plug-in, not module:Class")


def object_settings(model) -> dict:
    """The settings of a model object, for its job key and fold records: scikit-learn's
    ``get_params()``, else its public attributes (values JSON cannot hold are written by
    ``repr``)."""
    params = model.get_params() if hasattr(model, "get_params") else {
        k: v for k, v in vars(model).items() if not k.startswith("_") and not k.endswith("_")}
    return json.loads(json.dumps(params, sort_keys=True, default=repr))


def _source_sha256(cls) -> str | None:
    try:
        return hashlib.sha256(inspect.getsource(cls).encode()).hexdigest()
    except (OSError, TypeError):  # defined where its source cannot be read
        return None


def object_spec(model, name: str | None = None) -> ModelSpec:
    """The :class:`ModelSpec` of a model given as an object (a notebook's, a test's), checked
    against the protocol. Its row name: ``name``, else its ``name`` attribute, else its
    class's name. The job key holds its class, settings and class source, so a changed
    class or setting is recomputed rather than reused; a class whose source cannot be read
    is never reused."""
    if isinstance(model, type):
        raise ModelError(f"{model.__name__} is a class: pass an instance, or 'module:Class'")
    cls = type(model)
    label = name or getattr(model, "name", None) or cls.__name__
    path = f"{cls.__module__}:{cls.__qualname__}"
    check_model(model, f"{label!r} ({path})")
    source = _source_sha256(cls)
    config = {"type": PLUGIN, "class": path, "params": object_settings(model),
              "object_sha256": source or f"unreadable source, id {id(model)}"}
    return ModelSpec(str(label), path, {}, config, obj=model)


@lru_cache(maxsize=256)
def _for_config(text: str) -> Declarations:
    try:
        return model_spec("model", json.loads(text)).declarations
    except Exception:  # a plug-in no longer importable, a config of another version
        return DEFAULT


def for_config(config: dict | None) -> Declarations:
    """The declarations of the model a stored config (``type`` or ``class``) builds;
    the defaults when it cannot be built here."""
    if not config or not (config.get("type") or config.get("class")):
        return DEFAULT
    return _for_config(json.dumps(config, sort_keys=True, default=str))


def for_type(kind: str | None) -> Declarations:
    """The declarations of a registered model type (``plugin`` and unknown: the defaults)."""
    return for_config({"type": kind}) if kind and kind != "plugin" else DEFAULT


def declared_parameter_count(config: dict | None) -> int | None:
    """What the model a stored config builds says its parameter count is (its
    ``parameter_count()``, counted on an untrained copy), for records written before they
    held one; None when the model declares none or cannot be built here."""
    if not config or not (config.get("type") or config.get("class")):
        return None
    return _declared_parameter_count(json.dumps(config, sort_keys=True, default=str))


@lru_cache(maxsize=64)
def _declared_parameter_count(text: str) -> int | None:
    try:  # built once per distinct config: a report asks for every task and fold of a model
        built = model_spec("model", json.loads(text)).build()
    except Exception:  # a plug-in that no longer imports, a config of another version
        return None
    count = getattr(built, "parameter_count", None)
    return int(count()) if callable(count) else None
