"""One line describing a model's settings, for every reported number."""

from __future__ import annotations

from benchmarks.jobs import CLOUD_TYPES


def input_description(spec: dict) -> str:
    """The input ablation of a model config, for reports ("" for CLOUD's own input)."""
    from cloud.scope.ablations import DESCRIPTIONS

    parts = [DESCRIPTIONS[spec["input_transform"]]] if spec.get("input_transform") else []
    if spec.get("scope_mode"):  # a per-model SCOPE mode (paper vs canonical ablation)
        parts.append(f"ablation: {spec['scope_mode']} SCOPE strings")
    return "; ".join(parts)


def describe_model(spec: dict, smoke: bool, encoder: dict | None = None) -> str:
    """Model size and encoder (CLOUD; ``encoder``: the job record's, naming its format and
    tokenizer), class and settings (a plug-in), or the type."""
    suffix = ", smoke" if smoke else ""
    if spec["type"] == "plugin":
        params = ", ".join(f"{k}={v!r}" for k, v in sorted((spec.get("params") or {}).items()))
        return f"plug-in {spec['class']}" + (f"({params})" if params else "") + suffix
    if spec["type"] not in CLOUD_TYPES:
        return spec["type"] + suffix
    pre = spec.get("pretrained", "default")
    if pre in (None, "none", "scratch"):
        size = f"{spec.get('preset', 'small')} from scratch"
    else:
        size = "committed small encoder" if pre == "default" else f"encoder {pre}"
    ablation = input_description(spec)
    if encoder and encoder.get("format") == "bert":
        size += " (authors-format checkpoint)"
    if encoder and encoder.get("tokenizer") == "paper":
        size += ", paper's WordPiece tokenizer" + (
            ", table generator strings" if encoder.get("generators") == "table" else "")
    options = ", loss on log Θ" if spec.get("debye_loss", "value") == "log_theta" else ""
    if spec.get("element_features"):
        options += ", element features"
    if int(spec.get("ensemble", 1)) > 1:
        options += f", ensemble of {int(spec['ensemble'])} seeds"
    return f"{spec['type']}, {size}{options}" + (f", {ablation}" if ablation else "") + suffix
