"""Model names → model classes: the project's own, installed plug-ins, ``module:Class``.

A name resolves, in order, to a model of the project (:data:`BUILTIN`), to a model an
installed package registers under the entry-point group :data:`ENTRY_POINT_GROUP`, e.g. in
its ``pyproject.toml``::

    [project.entry-points."cloud_bench.models"]
    my_model = "mypkg.models:MyModel"

or, when it holds a colon, to ``module:attribute`` imported from the Python path (the
current directory included). The attribute is a class, a function returning a model, or a
model instance (copied afresh for every fold).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

from benchmarks.models.protocol import ModelError

ENTRY_POINT_GROUP = "cloud_bench.models"
BUILTIN = {
    "dummy": "baselines.dummy:MeanRegressor",
    "composition_rf": "baselines.composition:CompositionRF",
    "debye_rf": "baselines.debye_rf:DebyeRF",
    "cloud": "benchmarks.models.cloud_model:CloudModel",
    "cloud_debye": "benchmarks.models.cloud_model:CloudDebyeModel",
    "ridge_probe": "benchmarks.models.probes:RidgeProbe",
    "knn_probe": "benchmarks.models.probes:KNNProbe",
}


def entry_points() -> dict[str, str]:
    """``{name: "module:attribute"}`` of the installed plug-ins."""
    return {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def class_path(name: str) -> str | None:
    """The ``module:attribute`` a registered name stands for (None: not registered)."""
    return BUILTIN.get(name) or entry_points().get(name)


def load_object(path: str):
    """Import ``module:attribute`` (the current directory is on the path)."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ModelError(f"model {path!r}: write a plug-in as module:Class")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import failure is the user's to see, in one line
        raise ModelError(f"model {path!r}: cannot import {module_name!r}: "
                         f"{type(exc).__name__}: {exc}") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ModelError(f"model {path!r}: module {module_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    return obj


def module_sha256(path: str) -> str | None:
    """sha256 of the source file of ``path``'s module (None: no file), so that a changed
    plug-in is recomputed rather than reused."""
    module = sys.modules.get(path.partition(":")[0])
    source = getattr(module, "__file__", None)
    return _file_sha256(source) if source and Path(source).is_file() else None


@cache
def _file_sha256(source: str) -> str:
    return hashlib.sha256(Path(source).read_bytes()).hexdigest()


def plugin_name(path: str) -> str:
    """The row name of a ``module:Class`` plug-in (a folder name: no colon)."""
    return path.replace(":", ".")
