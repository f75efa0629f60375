"""Matbench Discovery's model schema, applied as its registry test applies it.

``tests/models/test_registry.py`` upstream validates every ``models/<family>/<model_key>.yml``
with ``jsonschema.Draft7Validator(schema).iter_errors`` against ``tests/model-schema.yml``
(vendored here with its commit: ``benchmarks/reference/leaderboards/``), checks that the
file sits at ``models/<family>/<model_key>.yml`` with ``<family>`` lowercase snake_case, and
that every artifact path lies under ``models/<family>/<model_key>/``.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml

SCHEMA_FILE = "matbench_discovery_model_schema.yml"
FAMILY = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


@cache
def model_schema() -> dict[str, Any]:
    """The vendored ``tests/model-schema.yml``."""
    ref = resources.files("benchmarks.reference") / "leaderboards" / SCHEMA_FILE
    with ref.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def schema_errors(doc: Any) -> list[str]:
    """Every schema error of a model YAML, as upstream's test prints them
    (``path: message``), sorted by path; empty when it validates."""
    from jsonschema import Draft7Validator

    errors = sorted(Draft7Validator(model_schema()).iter_errors(doc), key=lambda e: list(e.path))
    return [f"{'.'.join(str(p) for p in e.path)}: {e.message}" for e in errors]


def unfilled_fields(doc: Any) -> set[str]:
    """The fields a schema error says are absent (``repo``, ``pr_url``, ...); other errors
    are returned as their messages. (The schema's "first author has an e-mail" rule is an
    if/then on the array item ``'0'`` that Draft 7 never applies to an array, so a missing
    ``authors[0].email`` is no error; the suite still lists it to fill.)"""
    from jsonschema import Draft7Validator

    out = set()
    for e in Draft7Validator(model_schema()).iter_errors(doc):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.path)
        # 'required' errors name the absent property in their message
        if e.validator == "required":
            name = re.match(r"'(.+)' is a required property", e.message).group(1)
            out.add(f"{where}.{name}".lstrip("."))
        else:
            out.add(f"{where.lstrip('.')}: {e.message}")
    return out


def layout_problems(rel_path: str, doc: dict) -> list[str]:
    """Upstream's path rules for ``models/<family>/<model_key>.yml`` and its artifacts."""
    parts = rel_path.split("/")
    problems = []
    if len(parts) != 3 or parts[0] != "models" or parts[2] != f"{doc.get('model_key')}.yml":
        problems.append(f"{rel_path}: must be models/<family>/<model_key>.yml")
    elif not FAMILY.match(parts[1]):
        problems.append(f"{rel_path}: family {parts[1]!r} is not lowercase snake_case")
    want = "/".join(parts[:2] + [str(doc.get("model_key"))])
    for task, metrics in (doc.get("metrics") or {}).items():
        ref = (metrics or {}).get("pred_file") if isinstance(metrics, dict) else None
        if ref and not ref["name"].startswith(want + "/"):
            problems.append(f"metrics.{task}.pred_file: {ref['name']} is not under {want}/")
    return problems
