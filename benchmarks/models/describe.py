"""One line describing a model's settings, for every reported number."""

from __future__ import annotations


def input_description(spec: dict) -> str:
    """The input ablation of a model config, for reports ("" for CLOUD's own input)."""
    from cloud.scope.ablations import DESCRIPTIONS

    parts = [DESCRIPTIONS[spec["input_transform"]]] if spec.get("input_transform") else []
    if spec.get("scope_mode"):  # a per-model SCOPE mode (paper vs canonical ablation)
        parts.append(f"ablation: {spec['scope_mode']} SCOPE strings")
    return "; ".join(parts)


def describe_model(spec: dict, smoke: bool, encoder: dict | None = None,
                   declared=None) -> str:
    """The model's own description (its ``describe`` declaration; ``encoder``: the job
    record's, naming its format and tokenizer), else class and settings (a plug-in), else
    the type. ``declared``: the model's :class:`~benchmarks.models.declare.Declarations`
    (default: read off ``spec``)."""
    from benchmarks.models.spec import for_config

    suffix = ", smoke" if smoke else ""
    own = (declared or for_config(spec)).describe(spec, encoder)
    if own is not None:
        return own + suffix
    if spec["type"] == "plugin":
        params = ", ".join(f"{k}={v!r}" for k, v in sorted((spec.get("params") or {}).items()))
        return f"plug-in {spec['class']}" + (f"({params})" if params else "") + suffix
    return spec["type"] + suffix
